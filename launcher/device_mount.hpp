// Mount-namespace setup for kvmemu-run: shows the daemon's device at /dev/kvm (--device) in a
// private mount namespace of the launched program. Needs CAP_SYS_ADMIN.
#pragma once

#include <string>

namespace kvmemu::launcher {

struct MountStatus {
    int error = 0;          // positive errno, 0 on success
    const char* step = "";  // which step failed, for the message

    [[nodiscard]] bool ok() const noexcept { return error == 0; }
};

// unshare(CLONE_NEWNS) (the caller must be single-threaded), make every mount private
// (MS_REC|MS_PRIVATE on /), create `target` as an empty file if it is missing (this creates it
// in the shared filesystem, e.g. devtmpfs, where it stays), and bind-mount `device` over it.
MountStatus show_device_at(const std::string& device, const std::string& target = "/dev/kvm");

// Hook for a later issue: bind-mount the daemon's module-parameter files over

// One line for the user.
std::string describe(const MountStatus& status, const std::string& device,
                     const std::string& target = "/dev/kvm");

}  // namespace kvmemu::launcher
