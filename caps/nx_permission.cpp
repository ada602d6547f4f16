// may_disable_nx_huge_pages(): CAP_SYS_BOOT (libcap) + initial user namespace, bound to one thread.
#include "caps/nx_permission.hpp"

#include <sys/capability.h>

#include <cerrno>
#include <memory>

#include "caps/proc_task.hpp"

namespace kvmemu::caps {
namespace {

// The kernel gives the initial user namespace a fixed inode number (PROC_USER_INIT_INO in
// include/linux/proc_ns.h). Used only when /proc/1/ns/user cannot be read (a sandbox whose pid 1
// we may not inspect); the caller's own entry must still be readable.
constexpr ino_t kInitUserNsIno = 0xEFFFFFFDU;

bool in_initial_user_namespace(const ProcTask& task, const std::string& proc_root) {
    auto own = task.namespace_id("user");
    if (!own) return false;
    if (auto init = ProcTask::open(1, proc_root)) {
        auto init_ns = init->namespace_id("user");
        if (init_ns) return *own == *init_ns;
        if (init_ns.error() != EACCES && init_ns.error() != EPERM) return false;
    }
    return own->second == kInitUserNsIno;
}

int libcap_has_sys_boot(pid_t tid) {
    const std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)> caps(cap_get_pid(tid),
                                                                              cap_free);
    if (!caps) return -errno;
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(caps.get(), CAP_SYS_BOOT, CAP_EFFECTIVE, &v) != 0) return -errno;
    return v == CAP_SET ? 1 : 0;
}

}  // namespace

int may_disable_nx_huge_pages(pid_t tid, const PermissionSource& source) {
    // Bind to the thread first: every later read goes through this handle or is re-validated by it.
    auto task = ProcTask::open(tid, source.proc_root);
    if (!task) return EPERM;
    if (!in_initial_user_namespace(*task, source.proc_root)) return EPERM;

    const int has = (source.has_sys_boot != nullptr ? source.has_sys_boot : libcap_has_sys_boot)(tid);
    if (has != 1) return EPERM;

    // cap_get_pid() looked the tid up by number: it described our thread only if that thread is
    // still alive now (a tid cannot be reused while its thread lives).
    if (!task->alive()) return EPERM;
    return 0;
}

}  // namespace kvmemu::caps
