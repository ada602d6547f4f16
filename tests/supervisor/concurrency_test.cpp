// Blocking calls (KVM_RUN) run on per-thread workers; a signal to a blocked caller interrupts it.
#include <gtest/gtest.h>

#include <cerrno>

#include "tests/supervisor/child_process.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using supervisor::Reply;
using supervisor::TargetFd;
using supervisor::TrappedIoctl;

TEST(SupervisorConcurrency, BlockedRunsDoNotStallOtherThreads) {
    FakeBackend backend;
    int running = 0;
    bool released = false;
    backend.on(uapi::RUN, [&](const TrappedIoctl&, TargetFd&, UserIo&) {
        std::unique_lock l(backend.mutex());
        ++running;
        const bool ok =
            backend.cv().wait_for(l, std::chrono::seconds(10), [&] { return released; });
        --running;
        return ok ? Reply::val(0) : Reply::err(ETIMEDOUT);
    });
    backend.on(uapi::GET_REGS, [&](const TrappedIoctl&, TargetFd&, UserIo&) {
        std::lock_guard l(backend.mutex());
        if (running == 2) {
            released = true;
            backend.cv().notify_all();
        }
        return Reply::val(running);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), h.socket(), "threads"});
    ASSERT_EQ(r.get("setup"), "ok") << r.out;
    EXPECT_EQ(r.num("regs_ret"), 2) << r.out;  // answered while both runs were blocked
    EXPECT_EQ(r.num("run_a_ret"), 0) << r.out;
    EXPECT_EQ(r.num("run_b_ret"), 0) << r.out;
}

// RUN blocks until Backend::interrupt(tid) for its caller; later RUNs answer 77 at once.
void script_interruptible_run(FakeBackend& backend, int& runs, int& inside) {
    backend.on(uapi::RUN, [&](const TrappedIoctl& c, TargetFd&, UserIo&) {
        std::unique_lock l(backend.mutex());
        if (++runs > 1) return Reply::val(77);
        ++inside;
        const bool got = backend.cv().wait_for(l, std::chrono::seconds(10),
                                               [&] { return backend.interrupted_locked(c.tid); });
        --inside;
        return got ? Reply::err(EINTR) : Reply::err(ETIMEDOUT);
    });
    backend.on(uapi::GET_REGS, [&](const TrappedIoctl&, TargetFd&, UserIo&) {
        std::lock_guard l(backend.mutex());
        return Reply::val(inside);
    });
}

TEST(SupervisorConcurrency, SignalToBlockedCallerInterruptsTheBackend) {
    FakeBackend backend;
    int runs = 0;
    int inside = 0;
    script_interruptible_run(backend, runs, inside);
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), h.socket(), "signal"});
    ASSERT_EQ(r.get("setup"), "ok") << r.out;
    EXPECT_EQ(r.num("regs_ret"), 1) << r.out;
    EXPECT_EQ(r.num("run_ret"), -1) << r.out;
    EXPECT_EQ(r.num("run_errno"), EINTR) << r.out;  // no SA_RESTART: the kernel's EINTR
    EXPECT_EQ(r.num("after_ret"), 0) << r.out;      // the backend was interrupted meanwhile
    const auto interrupts = backend.interrupts();
    ASSERT_EQ(interrupts.size(), 1U);
    EXPECT_EQ(interrupts[0], r.num("run_tid"));
}

TEST(SupervisorConcurrency, RestartedCallAfterSignalIsServedAgain) {
    FakeBackend backend;
    int runs = 0;
    int inside = 0;
    script_interruptible_run(backend, runs, inside);
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), h.socket(), "signal-restart"});
    ASSERT_EQ(r.get("setup"), "ok") << r.out;
    EXPECT_EQ(r.num("run_ret"), 77) << r.out;  // SA_RESTART: trapped again and answered
    EXPECT_EQ(r.num("after_ret"), 0) << r.out;
    ASSERT_EQ(backend.interrupts().size(), 1U);
    EXPECT_EQ(backend.interrupts()[0], r.num("run_tid"));
    std::lock_guard l(backend.mutex());
    EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace kvmemu::testing
