// The launcher <-> daemon handshake on the supervisor socket (SOCK_SEQPACKET): one Hello message
// carrying the seccomp listener fd (SCM_RIGHTS), answered by one status byte.
#pragma once

#include <cstdint>

namespace kvmemu::supervisor::handshake {

inline constexpr const char* kDefaultSocketPath = "/run/kvmemu/supervisor.sock";

inline constexpr std::uint32_t kMagic = 0x4b564d53;  // "KVMS"
inline constexpr std::uint32_t kVersion = 1;

// The launcher's only message; exactly one fd (the listener) rides along with it.
struct Hello {
    std::uint32_t magic = kMagic;
    std::uint32_t version = kVersion;
};

// The daemon's answer: kAccepted once it holds and serves the listener, otherwise an errno value
// (1..255) saying why it refused (EPROTO: bad message, EINVAL: not a seccomp listener, ...).
inline constexpr std::uint8_t kAccepted = 0;

}  // namespace kvmemu::supervisor::handshake
