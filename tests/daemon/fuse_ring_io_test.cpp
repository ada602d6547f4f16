// FuseRingIo against a SOCK_SEQPACKET pair standing in for /dev/cuse (one message per read and
// per write, as the FUSE device): what the peer sees, in which order, and when.
#include "daemon/fuse_ring_io.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "common/unique_fd.hpp"

namespace kvmemu::daemon {
namespace {

struct Pair {
    UniqueFd daemon_end;
    UniqueFd kernel_end;
};

Pair make_pair() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

void send_msg(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

// The next message on `fd`, or "" if none arrives within `ms`.
std::string recv_msg(int fd, int ms = 2000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return "";
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
}

std::string read_req(FuseRingIo& io, int fd) {
    char buf[256];
    const ssize_t n = io.read(fd, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "error " + std::to_string(errno);
}

ssize_t write_reply(FuseRingIo& io, int fd, const std::string& a, const std::string& b) {
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    return io.writev(fd, iov, 2);
}

class FuseRingIoTest : public ::testing::TestWithParam<CuseIoMode> {};

// (A ring has one submitter: each test does all its reads on one thread.)
TEST_P(FuseRingIoTest, RequestsAndRepliesKeepTheirOrderAndBoundaries) {
    auto [d, k] = make_pair();
    FuseRingIo io(GetParam(), "test");
    const bool ring = GetParam() == CuseIoMode::ring;
    send_msg(k.get(), "init");
    EXPECT_EQ(read_req(io, d.get()), "init");
    EXPECT_EQ(io.using_ring(), ring);
    // Before defer_replies(): written at once (the INIT reply must reach the kernel first).
    EXPECT_EQ(write_reply(io, d.get(), "init-", "reply"), 10);
    EXPECT_EQ(recv_msg(k.get(), 0), "init-reply");
    io.defer_replies();
    for (int i = 0; i < 50; ++i) {
        const std::string n = std::to_string(i);
        send_msg(k.get(), "req" + n);
        EXPECT_EQ(read_req(io, d.get()), "req" + n);
        EXPECT_EQ(write_reply(io, d.get(), "rep", n), static_cast<ssize_t>(3 + n.size()));
        // With the ring the reply leaves with the next read, and before that read completes.
        EXPECT_EQ(recv_msg(k.get(), 0), ring ? "" : "rep" + n);
        if (ring) {
            send_msg(k.get(), "next" + n);
            EXPECT_EQ(read_req(io, d.get()), "next" + n);
            EXPECT_EQ(recv_msg(k.get(), 0), "rep" + n);
        }
    }
}

TEST_P(FuseRingIoTest, TwoRepliesWithoutAReadBetweenBothArriveInOrder) {
    auto [d, k] = make_pair();
    FuseRingIo io(GetParam(), "test");
    send_msg(k.get(), "a");
    EXPECT_EQ(read_req(io, d.get()), "a");
    io.defer_replies();
    write_reply(io, d.get(), "first", "");
    write_reply(io, d.get(), "second", "");
    send_msg(k.get(), "b");
    EXPECT_EQ(read_req(io, d.get()), "b");
    EXPECT_EQ(recv_msg(k.get(), 0), "first");
    EXPECT_EQ(recv_msg(k.get(), 0), "second");
}

TEST_P(FuseRingIoTest, AReplyFromAnotherThreadLeavesAtOnceWhileTheLoopHoldsItsOwnBack) {
    auto [d, k] = make_pair();
    FuseRingIo io(GetParam(), "test");
    send_msg(k.get(), "a");
    EXPECT_EQ(read_req(io, d.get()), "a");
    io.defer_replies();
    send_msg(k.get(), "b");
    EXPECT_EQ(read_req(io, d.get()), "b");
    const bool ring = GetParam() == CuseIoMode::ring;
    write_reply(io, d.get(), "loop", "-b");  // held back with the ring
    if (!ring) {
        EXPECT_EQ(recv_msg(k.get(), 0), "loop-b");
    }
    std::thread other([&] { EXPECT_EQ(write_reply(io, d.get(), "worker", "-a"), 8); });
    other.join();
    EXPECT_EQ(recv_msg(k.get(), 0), "worker-a");  // not behind the loop's held-back reply
    send_msg(k.get(), "c");
    EXPECT_EQ(read_req(io, d.get()), "c");
    if (ring) {
        EXPECT_EQ(recv_msg(k.get(), 0), "loop-b");
    }
    EXPECT_EQ(recv_msg(k.get(), 0), "");
}

void no_op(int) {}

TEST_P(FuseRingIoTest, ASignalInterruptsTheWaitAndTheRequestIsNotLost) {
    struct sigaction sa {};
    sa.sa_handler = no_op;  // no SA_RESTART: the wait returns EINTR
    struct sigaction old {};
    ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old), 0);
    auto [d, k] = make_pair();
    FuseRingIo io(GetParam(), "test");
    std::atomic<int> first_errno{0};
    std::atomic<bool> first_done{false};
    std::string x, y;
    std::thread loop([&] {
        x = read_req(io, d.get());
        io.defer_replies();
        write_reply(io, d.get(), "reply-x", "");
        char buf[64];
        if (io.read(d.get(), buf, sizeof buf) < 0) first_errno = errno;
        first_done = true;
        y = read_req(io, d.get());
    });
    send_msg(k.get(), "x");
    EXPECT_EQ(recv_msg(k.get()), "reply-x");  // the loop is waiting for the next request now
    while (!first_done) {
        ::pthread_kill(loop.native_handle(), SIGUSR2);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(first_errno.load(), EINTR);
    send_msg(k.get(), "y");
    loop.join();
    EXPECT_EQ(x, "x");
    EXPECT_EQ(y, "y");
    ::sigaction(SIGUSR2, &old, nullptr);
}

TEST(FuseRingIo, AReplyThatCannotBeWrittenDoesNotCostTheNextRequest) {
    ::signal(SIGPIPE, SIG_IGN);
    auto [d, k] = make_pair();
    FuseRingIo io(CuseIoMode::ring, "test");
    send_msg(k.get(), "a");
    EXPECT_EQ(read_req(io, d.get()), "a");
    ASSERT_TRUE(io.using_ring());
    io.defer_replies();
    ASSERT_EQ(::shutdown(d.get(), SHUT_WR), 0);  // the deferred write fails with EPIPE
    write_reply(io, d.get(), "lost", "");
    send_msg(k.get(), "b");
    EXPECT_EQ(read_req(io, d.get()), "b");  // the read linked behind it was queued anew
}

INSTANTIATE_TEST_SUITE_P(Modes, FuseRingIoTest,
                         ::testing::Values(CuseIoMode::ring, CuseIoMode::syscalls),
                         [](const auto& info) {
                             return info.param == CuseIoMode::ring ? std::string("Ring")
                                                                   : std::string("Syscalls");
                         });

}  // namespace
}  // namespace kvmemu::daemon
