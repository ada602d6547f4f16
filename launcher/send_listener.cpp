// send_listener: connect, sendmsg(Hello + SCM_RIGHTS), poll for the one-byte answer.
#include "launcher/send_listener.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/unique_fd.hpp"
#include "supervisor/handshake_protocol.hpp"

namespace kvmemu::launcher {

namespace hs = supervisor::handshake;
using Stage = HandshakeStatus::Stage;

namespace {

HandshakeStatus fail(Stage stage, int error) {
    return {stage, error};
}

int send_hello(int sock, int listener) {
    hs::Hello hello;
    iovec iov{&hello, sizeof hello};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &listener, sizeof listener);
    for (;;) {
        const ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(sizeof hello)) return 0;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? errno : EPROTO;
    }
}

}  // namespace

HandshakeStatus send_listener(const std::string& socket_path, int listener,
                              std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
        return fail(Stage::Connect, ENAMETOOLONG);
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) return fail(Stage::Connect, errno);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return fail(Stage::Connect, errno);
    }
    if (int e = send_hello(sock.get(), listener); e != 0) return fail(Stage::Send, e);

    pollfd p{sock.get(), POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return fail(Stage::Answer, ETIMEDOUT);
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail(Stage::Answer, errno);
        if (r > 0) break;
    }
    std::uint8_t status = 0;
    const ssize_t n = ::recv(sock.get(), &status, 1, 0);
    if (n < 0) return fail(Stage::Answer, errno);
    if (n == 0) return fail(Stage::Answer, ECONNRESET);
    if (status != hs::kAccepted) return fail(Stage::Refused, status);
    return {};
}

std::string describe(const HandshakeStatus& status, const std::string& socket_path) {
    const std::string why = std::strerror(status.error);
    switch (status.stage) {
        case Stage::Done:
            return "kvmemud holds the listener";
        case Stage::Connect:
            if (status.error == ENOENT || status.error == ECONNREFUSED) {
                return "kvmemud is not running (no socket at " + socket_path + ")";
            }
            return "cannot connect to kvmemud at " + socket_path + ": " + why;
        case Stage::Send:
            return "cannot send the seccomp listener to kvmemud at " + socket_path + ": " + why;
        case Stage::Answer:
            if (status.error == ETIMEDOUT) {
                return "kvmemud at " + socket_path + " did not answer in time";
            }
            return "kvmemud at " + socket_path + " did not answer: " + why;
        case Stage::Refused:
            return "kvmemud at " + socket_path + " refused this program: " + why;
    }
    return why;
}

}  // namespace kvmemu::launcher
