// Thin wrappers over the seccomp user-notification and pidfd system calls (-errno results).
#include "supervisor/notify_syscalls.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace kvmemu::supervisor::sys {

namespace {
int result(long r) {
    return r < 0 ? -errno : static_cast<int>(r);
}
}  // namespace

int get_notif_sizes(seccomp_notif_sizes& out) {
    return result(::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &out));
}

int notif_recv(int listener, void* buf, std::size_t size) {
    for (;;) {
        std::memset(buf, 0, size);  // the kernel refuses a non-zeroed buffer (EINVAL)
        const int r = result(::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf));
        if (r != -EINTR) return r;
    }
}

int notif_send(int listener, const seccomp_notif_resp& resp) {
    for (;;) {
        const int r = result(::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp));
        if (r != -EINTR) return r;
    }
}

int notif_id_valid(int listener, std::uint64_t id) {
    return result(::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id));
}

int notif_addfd_send(int listener, std::uint64_t id, int fd, bool cloexec) {
    seccomp_notif_addfd addfd{};
    addfd.id = id;
    addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
    addfd.srcfd = static_cast<std::uint32_t>(fd);
    addfd.newfd = 0;
    addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
    for (;;) {
        const int r = result(::ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd));
        if (r != -EINTR) return r;
    }
}

int notif_set_sync_wakeup(int listener) {
    // Not in Debian 12's <linux/seccomp.h> (6.1) yet.
    constexpr unsigned long kSetFlags = SECCOMP_IOW(4, __u64);
    constexpr std::uint64_t kSyncWakeUp = 1;
    return result(::ioctl(listener, kSetFlags, kSyncWakeUp));
}

// Raw system calls: glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++ callers.
int pidfd_open(pid_t pid) {
    return result(::syscall(SYS_pidfd_open, pid, 0U));
}

int pidfd_getfd(int pidfd, int target_fd) {
    return result(::syscall(SYS_pidfd_getfd, pidfd, target_fd, 0U));
}

int pidfd_alive(int pidfd) {
    return result(::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0U));
}

int thread_in_group(pid_t tgid, pid_t tid) {
    // The null signal probes without sending. do_send_specific() looks the thread up, compares
    // its group, and only then checks the permission: EPERM also means "in the group" (a daemon
    // without CAP_KILL asking about another user's thread).
    const int r = result(::syscall(SYS_tgkill, tgid, tid, 0));
    return r == -EPERM ? 0 : r;
}

}  // namespace kvmemu::supervisor::sys
