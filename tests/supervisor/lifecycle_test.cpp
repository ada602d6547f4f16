// Process exit -> Backend::process_gone, session dropped; daemon shutdown releases callers.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "tests/supervisor/child_process.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using supervisor::Reply;
using supervisor::TargetFd;
using supervisor::TrappedIoctl;

bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 1000; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

TEST(SupervisorLifecycle, ExitOfEachProcessIsReportedOnceAndTheSessionEnds) {
    FakeBackend backend;
    backend.on(uapi::GET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::val(0); });
    backend.on(uapi::GET_SREGS, [&](const TrappedIoctl& c, TargetFd&, UserIo&) {
        std::lock_guard l(backend.mutex());
        return Reply::val(backend.gone_locked(static_cast<pid_t>(c.arg)) ? 1 : 0);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), h.socket(), "exit"});
    ASSERT_EQ(r.get("setup"), "ok") << r.out;
    const pid_t grandchild = static_cast<pid_t>(r.num("grandchild"));
    ASSERT_GT(grandchild, 0);
    // The grandchild was reported while its parent still ran.
    EXPECT_EQ(r.num("gone_ret"), 1) << r.out;
    // The child, reaped by run_child, is reported as well, and its session dropped.
    EXPECT_TRUE(backend.wait_until([&] { return backend.gone_locked(r.pid); }));
    EXPECT_TRUE(eventually([&] { return h.server().session_count() == 0; }));
    const auto gone = backend.gone();
    EXPECT_EQ(std::count(gone.begin(), gone.end(), grandchild), 1);
    EXPECT_EQ(std::count(gone.begin(), gone.end(), r.pid), 1);
    // Both made calls: the backend saw both processes.
    const auto seen = backend.seen();
    EXPECT_TRUE(std::any_of(seen.begin(), seen.end(),
                            [&](const SeenCall& s) { return s.call.tgid == grandchild; }));
}

TEST(SupervisorLifecycle, ShutdownInterruptsBlockedCallsAndReleasesCallers) {
    FakeBackend backend;
    int inside = 0;
    backend.on(uapi::RUN, [&](const TrappedIoctl& c, TargetFd&, UserIo&) {
        std::unique_lock l(backend.mutex());
        ++inside;
        backend.cv().notify_all();
        const bool got = backend.cv().wait_for(l, std::chrono::seconds(20),
                                               [&] { return backend.interrupted_locked(c.tid); });
        return got ? Reply::err(EINTR) : Reply::err(ETIMEDOUT);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    ChildResult r;
    std::thread child([&] { r = run_child({traced_child_path(), h.socket(), "shutdown"}); });
    const bool blocked = backend.wait_until([&] { return inside == 1; });
    h.stop();  // the daemon goes away while a vCPU is blocked
    child.join();
    ASSERT_TRUE(blocked) << r.out;
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.num("run_errno"), EINTR) << r.out;  // the interrupted call got its answer
    EXPECT_EQ(r.num("after_errno"), ENOSYS)
        << r.out;  // no supervisor any more: the kernel's ENOSYS
    EXPECT_EQ(backend.interrupts().size(), 1U);
}

}  // namespace
}  // namespace kvmemu::testing
