// The one question the NX-huge-page capability asks: may this calling thread disable the
// mitigation? (CAP_SYS_BOOT effective, in the initial user namespace; fail closed.)
#pragma once

#include <sys/types.h>

#include <string>

namespace kvmemu::caps {

// Where the facts come from; tests replace the /proc root and the capability reader.
struct PermissionSource {
    std::string proc_root = "/proc";
    // Returns 1 if CAP_SYS_BOOT is in tid's effective set, 0 if not, -errno on failure.
    int (*has_sys_boot)(pid_t tid) = nullptr;  // nullptr: libcap's cap_get_pid()
};

// 0 if thread `tid` may enable KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, else EPERM. EPERM too for tid
// 0, a vanished thread, an unreadable /proc entry, or a tid reused while it was being checked.
int may_disable_nx_huge_pages(pid_t tid, const PermissionSource& source = {});

}  // namespace kvmemu::caps
