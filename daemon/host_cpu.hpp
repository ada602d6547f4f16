// What the host CPU says about iTLB multihit: the value nx_huge_pages=auto resolves to.
#pragma once

#include <string>

namespace kvmemu::daemon {

// KVM's get_nx_auto_mode(): the CPU has X86_BUG_ITLB_MULTIHIT and mitigations are not off.
// Read from sysfs_root/devices/system/cpu/vulnerabilities/itlb_multihit ("Not affected" means no
// bug) and cmdline ("mitigations=off").
bool nx_auto_mode(const std::string& sysfs_root = "/sys", const std::string& cmdline = "/proc/cmdline");

}  // namespace kvmemu::daemon
