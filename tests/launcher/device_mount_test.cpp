// --device: the daemon's device shown at a target path in a private mount namespace (run in a
// forked child, since the namespace change is for good).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <string>

#include "launcher/device_mount.hpp"

namespace kvmemu::launcher {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

// Runs `body` in a forked child; returns its exit code.
int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

class DeviceMount : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/kvmemu-mnt-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        ::chmod(dir_.c_str(), 0755);  // the unprivileged case must reach the device
        device_ = dir_ + "/kvmemu";
        spit(device_, "daemon-device");
    }
    void TearDown() override {
        ::unlink(device_.c_str());
        ::unlink((dir_ + "/kvm").c_str());
        ::rmdir(dir_.c_str());
    }
    std::string dir_;
    std::string device_;
};

TEST_F(DeviceMount, ShowsDeviceOverExistingTargetOnlyInsideTheNamespace) {
    const std::string target = dir_ + "/kvm";
    spit(target, "host-kvm");
    const int code = in_child([&] {
        if (!show_device_at(device_, target).ok()) return 1;
        return slurp(target) == "daemon-device" ? 0 : 3;
    });
    EXPECT_EQ(code, 0);
    EXPECT_EQ(slurp(target), "host-kvm");  // nothing leaked to our namespace
}

TEST_F(DeviceMount, CreatesAMissingTarget) {
    const std::string target = dir_ + "/kvm";
    const int code = in_child([&] {
        if (!show_device_at(device_, target).ok()) return 1;
        return slurp(target) == "daemon-device" ? 0 : 3;
    });
    EXPECT_EQ(code, 0);
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);  // the empty mount point stays
    EXPECT_EQ(st.st_size, 0);
}

TEST_F(DeviceMount, MissingDeviceIsReported) {
    const auto st = show_device_at(dir_ + "/absent", dir_ + "/kvm");
    EXPECT_EQ(st.error, ENOENT);
    EXPECT_EQ(describe(st, dir_ + "/absent"),
              "--device " + dir_ + "/absent: No such file or directory");
}

TEST_F(DeviceMount, WithoutCapSysAdminTheErrorSaysSo) {
    const std::string target = dir_ + "/kvm";
    const int code = in_child([&] {
        if (::setresuid(65534, 65534, 65534) != 0) return 10;
        const auto st = show_device_at(device_, target);
        if (st.error != EPERM) return 11;
        return describe(st, device_).find("CAP_SYS_ADMIN") != std::string::npos ? 0 : 12;
    });
    EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace kvmemu::launcher
