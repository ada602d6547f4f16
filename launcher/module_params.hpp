// Shows kvmemud's kvm module parameters to the program at /sys/module/kvm/parameters/<name>, in
// the launcher's private mount namespace: a FUSE filesystem whose reads and writes go to the
// daemon's control socket (so writes get the kernel's errnos, e.g. EBUSY for "never").
#pragma once

#include <string>

namespace kvmemu::launcher {

// Needs root (mounts). Unshares the mount namespace unless `already_private`. Where the host has
// no /sys/module/kvm (no kvm module, e.g. UML), a tmpfs over /sys/module holds the directory:
// other modules' parameters are then hidden from the program. The serving process lives as long
// as the process that execs (it watches it with a pidfd). 0, or an errno with `why` set.
int show_module_parameters(const std::string& control_socket, bool already_private,
                           std::string& why);

}  // namespace kvmemu::launcher
