// send_listener: the launcher side of the handshake: connects to the daemon's supervisor socket,
// sends the seccomp listener (SCM_RIGHTS) and waits for the daemon to say it holds it.
#pragma once

#include <chrono>
#include <string>

namespace kvmemu::launcher {

struct HandshakeStatus {
    enum class Stage { Done, Connect, Send, Answer, Refused };
    Stage stage = Stage::Done;
    int error = 0;  // positive errno (Refused: the daemon's reason)

    [[nodiscard]] bool ok() const noexcept { return stage == Stage::Done; }
};

HandshakeStatus send_listener(const std::string& socket_path, int listener,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// One line for the user, e.g. "kvmemud is not running (no socket at /run/kvmemu/...)".
std::string describe(const HandshakeStatus& status, const std::string& socket_path);

}  // namespace kvmemu::launcher
