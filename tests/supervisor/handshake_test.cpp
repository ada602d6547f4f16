// The socket handshake: the launcher's send_listener against the Server, and refusals.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.hpp"
#include "launcher/send_listener.hpp"
#include "supervisor/handshake_protocol.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using launcher::HandshakeStatus;

TEST(SupervisorHandshake, SocketIsOpenToEveryUser) {
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    struct stat st {};
    ASSERT_EQ(::stat(h.socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0666U);
}

TEST(SupervisorHandshake, NoDaemonGivesAClearMessage) {
    const std::string path = "/tmp/kvmemu-no-such-dir/supervisor.sock";
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const auto st = launcher::send_listener(path, fd.get());
    EXPECT_EQ(st.stage, HandshakeStatus::Stage::Connect);
    EXPECT_EQ(st.error, ENOENT);
    EXPECT_EQ(launcher::describe(st, path),
              "kvmemud is not running (no socket at /tmp/kvmemu-no-such-dir/supervisor.sock)");
}

TEST(SupervisorHandshake, AFdThatIsNotAListenerIsRefused) {
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const auto st = launcher::send_listener(h.socket(), fd.get());
    EXPECT_EQ(st.stage, HandshakeStatus::Stage::Refused);
    EXPECT_EQ(st.error, EINVAL);
    EXPECT_EQ(h.server().session_count(), 0U);
}

TEST(SupervisorHandshake, AHelloWithoutFdIsRefused) {
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, h.socket().c_str());
    ASSERT_EQ(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const supervisor::handshake::Hello hello;
    ASSERT_EQ(::send(sock.get(), &hello, sizeof hello, 0), static_cast<ssize_t>(sizeof hello));
    std::uint8_t status = 0;
    ASSERT_EQ(::recv(sock.get(), &status, 1, 0), 1);
    EXPECT_EQ(status, EPROTO);
}

TEST(SupervisorHandshake, SecondServerOnTheSamePathIsRefusedAndStaleSocketReplaced) {
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    boost::asio::io_context io;
    supervisor::ServerConfig cfg;
    cfg.socket_path = h.socket();
    auto second = supervisor::Server::start(io, backend, cfg);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), EADDRINUSE);

    // A socket file nobody listens on (a crashed daemon's) is replaced.
    const std::string stale = h.dir() + "/stale.sock";
    {
        UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, stale.c_str());
        ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    cfg.socket_path = stale;
    auto replaced = supervisor::Server::start(io, backend, cfg);
    ASSERT_TRUE(replaced) << std::strerror(replaced.error());
    (*replaced)->stop();
    struct stat st {};
    EXPECT_NE(::stat(stale.c_str(), &st), 0);  // stop() removed its socket file
}

}  // namespace
}  // namespace kvmemu::testing
