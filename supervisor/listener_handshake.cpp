// Daemon side of the handshake: recvmsg with SCM_RIGHTS, SO_PEERCRED, one status byte back.
#include "supervisor/listener_handshake.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "supervisor/handshake_protocol.hpp"

namespace kvmemu::supervisor {

Expected<ReceivedListener> receive_listener(int conn) {
    handshake::Hello hello{};
    iovec iov{&hello, sizeof hello};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(conn, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return Errno{errno == EWOULDBLOCK ? EAGAIN : errno};
    if (n == 0) return Errno{ECONNRESET};

    // Take ownership of every fd that arrived before judging the message.
    UniqueFd fds[4];
    std::size_t nfds = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count && nfds < 4; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds[nfds++].reset(fd);
        }
    }
    if (static_cast<std::size_t>(n) != sizeof hello || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        hello.magic != handshake::kMagic || hello.version != handshake::kVersion || nfds != 1) {
        return Errno{EPROTO};
    }

    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return Errno{errno};
    return ReceivedListener{std::move(fds[0]), cred.pid, cred.uid};
}

int send_status(int conn, std::uint8_t status) {
    const ssize_t n = ::send(conn, &status, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == 1 ? 0 : -errno;
}

}  // namespace kvmemu::supervisor
