// Daemon side of the handshake: takes the launcher's Hello and listener fd from a connected
// SOCK_SEQPACKET socket, with the sender's credentials, and answers the status byte.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::supervisor {

struct ReceivedListener {
    UniqueFd listener;
    pid_t pid = 0;  // SO_PEERCRED: the launcher, i.e. the traced program once it execs
    uid_t uid = 0;
};

// EAGAIN: nothing yet (non-blocking). EPROTO: not a Hello with exactly one fd. ECONNRESET: the
// launcher closed the connection.
Expected<ReceivedListener> receive_listener(int conn);
// 0 or -errno.
int send_status(int conn, std::uint8_t status);

}  // namespace kvmemu::supervisor
