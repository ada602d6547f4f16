// show_device_at: unshare(CLONE_NEWNS), MS_PRIVATE, optional empty target, MS_BIND.
#include "launcher/device_mount.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.hpp"

namespace kvmemu::launcher {

namespace {
MountStatus fail(const char* step) {
    return {errno, step};
}
}  // namespace

MountStatus show_device_at(const std::string& device, const std::string& target) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0) return fail("stat device");
    if (::unshare(CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNS)");
    // Nothing we mount may propagate back to the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return fail("make mounts private");
    }
    if (::lstat(target.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail("stat target");
        UniqueFd created(
            ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0));
        if (!created && errno != EEXIST) return fail("create mount point");
    }
    if (::mount(device.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        return fail("bind mount");
    }
    return {};
}

std::string describe(const MountStatus& status, const std::string& device,
                     const std::string& target) {
    const std::string why = std::strerror(status.error);
    const std::string step = status.step;
    if (step == "stat device") return "--device " + device + ": " + why;
    if (status.error == EPERM || status.error == EACCES) {
        return "--device needs CAP_SYS_ADMIN (run kvmemu-run as root) to show " + device + " at " +
               target + " (" + step + ": " + why + ")";
    }
    return "cannot show " + device + " at " + target + ": " + step + ": " + why;
}

}  // namespace kvmemu::launcher
