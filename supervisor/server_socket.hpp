// listen_seqpacket: the supervisor's listening unix socket (SOCK_SEQPACKET), created with the
// mode asked for, replacing a stale socket file left by an earlier daemon.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::supervisor {

// Creates the parent directory (0755) if missing. EADDRINUSE if `path` exists and is not a
// socket, or another daemon still listens on it. The fd is non-blocking and close-on-exec.
Expected<UniqueFd> listen_seqpacket(const std::string& path, mode_t mode);

}  // namespace kvmemu::supervisor
