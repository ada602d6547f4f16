// kvmemu-run end to end against a supervisor Server with a fake Backend.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "tests/supervisor/child_process.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using supervisor::Reply;
using supervisor::TargetFd;
using supervisor::TrappedIoctl;

const std::string kRun = KVMEMU_RUN;

void answer_regs(FakeBackend& backend) {
    backend.on(uapi::GET_CPUID2,
               [](const TrappedIoctl&, TargetFd&, UserIo&) { return Reply::val(4242); });
}

TEST(KvmemuRun, RootProgramIsSupervisedWithoutNoNewPrivs) {
    FakeBackend backend;
    answer_regs(backend);
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r =
        run_child({kRun, "--socket", h.socket(), "--", traced_child_path(), "-", "probe"});
    EXPECT_EQ(r.exit_code(), 0) << r.out;
    EXPECT_EQ(r.num("nnp"), 0);
    EXPECT_EQ(r.num("trapped_ret"), 4242);
    EXPECT_EQ(r.num("untrapped_errno"), ENOTTY);  // not trapped: /dev/null answered
    ASSERT_EQ(backend.seen().size(), 1U);
    EXPECT_EQ(backend.seen()[0].call.tgid, r.pid);  // kvmemu-run became the program
    EXPECT_EQ(r.num("pid"), r.pid);
}

TEST(KvmemuRun, UnprivilegedLauncherSetsNoNewPrivsAndIsSupervised) {
    FakeBackend backend;
    answer_regs(backend);
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), "-", "as-nobody", kRun, "--socket", h.socket(),
                              "--", traced_child_path(), "-", "probe"});
    EXPECT_EQ(r.exit_code(), 0) << r.out;
    EXPECT_EQ(r.num("nnp"), 1);
    EXPECT_EQ(r.num("trapped_ret"), 4242) << r.out;
}

TEST(KvmemuRun, ExitCodes) {
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto no_daemon =
        run_child({kRun, "--socket", h.dir() + "/absent.sock", "--", "/bin/true"}, true);
    EXPECT_EQ(no_daemon.exit_code(), 127);
    EXPECT_NE(
        no_daemon.out.find("kvmemud is not running (no socket at " + h.dir() + "/absent.sock)"),
        std::string::npos)
        << no_daemon.out;

    const auto missing =
        run_child({kRun, "--socket", h.socket(), "--", h.dir() + "/no-such-program"}, true);
    EXPECT_EQ(missing.exit_code(), 127) << missing.out;

    const std::string plain = h.dir() + "/not-executable";
    std::ofstream(plain) << "data";
    ::chmod(plain.c_str(), 0644);
    const auto noexec = run_child({kRun, "--socket", h.socket(), "--", plain}, true);
    EXPECT_EQ(noexec.exit_code(), 126) << noexec.out;
    ::unlink(plain.c_str());

    const auto status = run_child({kRun, "--socket", h.socket(), "--", "/bin/sh", "-c", "exit 7"});
    EXPECT_EQ(status.exit_code(), 7);

    EXPECT_EQ(run_child({kRun}, true).exit_code(), 125);
}

TEST(KvmemuRun, DeviceIsShownAtDevKvm) {
    struct stat st {};
    if (::stat("/dev/kvm", &st) != 0) {
        GTEST_SKIP() << "no /dev/kvm here: the launcher would create one in the host's /dev";
    }
    FakeBackend backend;
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const std::string device = h.dir() + "/kvmemu-device";
    std::ofstream(device) << "daemon-device";
    const auto r = run_child({kRun, "--device", device, "--socket", h.socket(), "--",
                              traced_child_path(), "-", "read", "/dev/kvm"});
    ::unlink(device.c_str());
    EXPECT_EQ(r.exit_code(), 0) << r.out;
    EXPECT_EQ(r.get("content"), "daemon-device");
}

}  // namespace
}  // namespace kvmemu::testing
