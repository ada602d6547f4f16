// What the filter traps and what each kind of Reply does to the traced caller.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher/trapped_requests.hpp"
#include "tests/supervisor/child_process.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using supervisor::Reply;
using supervisor::TargetFd;
using supervisor::TrappedIoctl;

ChildResult run_scenario(ServerHarness& h, const std::string& scenario) {
    auto r = run_child({traced_child_path(), h.socket(), scenario});
    EXPECT_FALSE(r.timed_out) << r.out;
    EXPECT_EQ(r.get("setup"), "ok") << r.out;
    EXPECT_EQ(r.exit_code(), 0) << r.out;
    return r;
}

TEST(SupervisorTrap, BackendSeesCallerFdCommandArgumentAndFstat) {
    FakeBackend backend;
    backend.on(uapi::GET_REGS, [](const TrappedIoctl& c, TargetFd&, UserIo&) {
        return Reply::val(c.arg == 0x1234 ? 7 : c.arg == 0x5678 ? 8 : 9);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok()) << std::strerror(h.start_error());
    const auto r = run_scenario(h, "trap");

    const auto seen = backend.seen();
    ASSERT_EQ(seen.size(), 3U) << r.out;
    for (const auto& s : seen) {
        EXPECT_EQ(s.call.tgid, r.pid);
        EXPECT_EQ(s.call.tid, r.num("tid"));
        EXPECT_EQ(s.call.fd, r.num("fd"));
        EXPECT_EQ(s.call.cmd, uapi::GET_REGS);
        EXPECT_TRUE(S_ISREG(s.st.st_mode));  // the child's memfd, duplicated into us
        EXPECT_EQ(static_cast<long>(s.st.st_ino), r.num("ino"));
        EXPECT_EQ(static_cast<long>(s.st.st_dev), r.num("dev"));
    }
    EXPECT_EQ(seen[0].call.arg, 0x1234U);
    EXPECT_EQ(seen[1].call.arg, 0x5678U);
    EXPECT_EQ(seen[2].call.arg, 0x9abcU);
    EXPECT_EQ(r.num("low_ret"), 7);
    EXPECT_EQ(r.num("high_ret"), 8);  // upper 32 bits of the request ignored, like the kernel
    EXPECT_EQ(r.num("signext_ret"), 9);
}

TEST(SupervisorTrap, AClosedOrReplacedFdIsSeenAsItIsNow) {
    FakeBackend backend;
    std::vector<long> fetched;  // inode of the file TargetFd::get() duplicated, per call
    backend.on(uapi::GET_REGS, [&](const TrappedIoctl&, TargetFd& t, UserIo&) {
        const int fd = t.get();
        struct stat st {};
        fetched.push_back(fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<long>(st.st_ino) : -1);
        EXPECT_EQ(st.st_ino, t.st.st_ino);
        return Reply::val(5);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok()) << std::strerror(h.start_error());
    const auto r = run_scenario(h, "reuse");

    EXPECT_EQ(r.num("first_ret"), 5) << r.out;
    // Closed: the kernel's answer, without the backend being asked.
    EXPECT_EQ(r.num("closed_ret"), -1) << r.out;
    EXPECT_EQ(r.num("closed_errno"), EBADF) << r.out;
    EXPECT_EQ(r.num("second_ret"), 5) << r.out;
    const auto seen = backend.seen();
    ASSERT_EQ(seen.size(), 2U) << r.out;
    EXPECT_EQ(seen[0].call.arg, 1U);
    EXPECT_EQ(seen[1].call.arg, 3U);
    EXPECT_NE(seen[0].st.st_ino, seen[1].st.st_ino);
    EXPECT_EQ(static_cast<long>(seen[1].st.st_ino), r.num("second_ino"));
    ASSERT_EQ(fetched.size(), 2U);
    EXPECT_EQ(fetched[1], r.num("second_ino"));
}

TEST(SupervisorTrap, ContinueLetsTheCallReachTheKernel) {
    FakeBackend backend;
    backend.on(uapi::GET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::cont(); });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "continue");
    const auto seen = backend.seen();
    ASSERT_EQ(seen.size(), 1U);  // it was trapped...
    EXPECT_TRUE(S_ISCHR(seen[0].st.st_mode));
    EXPECT_EQ(seen[0].st.st_rdev, makedev(1, 3));  // /dev/null
    EXPECT_EQ(r.num("null_ret"), -1);              // ...and /dev/null answered
    EXPECT_EQ(r.num("null_errno"), ENOTTY);
}

TEST(SupervisorTrap, ValueAndErrorRepliesReachTheCaller) {
    FakeBackend backend;
    backend.on(uapi::GET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::val(4242); });
    backend.on(uapi::SET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::err(EIO); });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "values");
    EXPECT_EQ(r.num("value_ret"), 4242);
    EXPECT_EQ(r.num("value_errno"), 0);
    EXPECT_EQ(r.num("error_ret"), -1);
    EXPECT_EQ(r.num("error_errno"), EIO);
}

UniqueFd memfd_with(const char* text) {
    UniqueFd fd(::memfd_create("injected", MFD_CLOEXEC));
    EXPECT_EQ(::write(fd.get(), text, std::strlen(text)), static_cast<ssize_t>(std::strlen(text)));
    return fd;
}

TEST(SupervisorTrap, InjectFdInstallsTheFileWithAndWithoutCloexec) {
    FakeBackend backend;
    backend.on(uapi::CREATE_VM, [](const TrappedIoctl&, TargetFd&, UserIo&) {
        return Reply::inject(memfd_with("vm-file-A"), true);
    });
    backend.on(uapi::CREATE_VCPU, [](const TrappedIoctl&, TargetFd&, UserIo&) {
        return Reply::inject(memfd_with("vcpu-file-B"), false);
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "inject");
    EXPECT_GE(r.num("a_ret"), 0) << r.out;
    EXPECT_GE(r.num("b_ret"), 0) << r.out;
    EXPECT_NE(r.num("a_ret"), r.num("null_fd"));
    EXPECT_NE(r.num("a_ret"), r.num("b_ret"));
    EXPECT_EQ(r.get("a_data"), "vm-file-A");
    EXPECT_EQ(r.get("b_data"), "vcpu-file-B");
    EXPECT_EQ(r.num("a_cloexec"), 1);
    EXPECT_EQ(r.num("b_cloexec"), 0);
}

TEST(SupervisorTrap, RequestsOutsideTheListAreNotTrapped) {
    FakeBackend backend;
    backend.on_any([](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::val(1); });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "unlisted");
    // KVM requests of the system and VM scope, an unknown one, the daemon's private ones,
    // TCGETS, and a request with 0xae outside the type byte: the kernel answers (/dev/null:
    // ENOTTY), never the backend.
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(r.num("u" + std::to_string(i) + "_errno"), ENOTTY) << i << "\n" << r.out;
    }
    EXPECT_EQ(r.num("marker_ret"), 1);
    const auto seen = backend.seen();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].call.arg, 0x5eedU);  // the marker
}

TEST(SupervisorTrap, EveryListedRequestIsTrapped) {
    FakeBackend backend;
    backend.on_any(
        [](const TrappedIoctl& c, TargetFd&, UserIo&) { return Reply::val(uapi::ioc_nr(c.cmd)); });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "listed");
    const auto seen = backend.seen();
    ASSERT_EQ(seen.size(), launcher::kTrappedRequests.size()) << r.out;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i].call.cmd, launcher::kTrappedRequests[i]) << i;
        EXPECT_EQ(r.num("l" + std::to_string(i) + "_ret"),
                  static_cast<long>(uapi::ioc_nr(launcher::kTrappedRequests[i])))
            << i;
    }
}

// Not a timed test: prints the cost of the trapped paths (run with
// --gtest_also_run_disabled_tests). Asserts only that every path was served.
TEST(SupervisorTrap, DISABLED_RoundTripCost) {
    FakeBackend backend;
    backend.on(uapi::GET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::cont(); });
    backend.on(uapi::SET_REGS,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::val(0); });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_scenario(h, "bench");
    std::printf("getppid %ld ns, trap+CONTINUE %ld ns, trap+value %ld ns\n", r.num("getppid_ns"),
                r.num("continue_ns"), r.num("value_ns"));
    EXPECT_EQ(backend.seen().size(), 40000U);
}

}  // namespace
}  // namespace kvmemu::testing
