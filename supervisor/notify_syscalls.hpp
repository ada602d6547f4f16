// Thin wrappers over the seccomp user-notification and pidfd system calls: each returns its
// result (>= 0) or -errno, and never logs.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>

namespace kvmemu::supervisor::sys {

// seccomp(SECCOMP_GET_NOTIF_SIZES): the kernel's sizes of the notification structs.
int get_notif_sizes(seccomp_notif_sizes& out);
// SECCOMP_IOCTL_NOTIF_RECV into `buf` (zeroed here first; `size` from get_notif_sizes).
int notif_recv(int listener, void* buf, std::size_t size);
// SECCOMP_IOCTL_NOTIF_SEND.
int notif_send(int listener, const seccomp_notif_resp& resp);
// SECCOMP_IOCTL_NOTIF_ID_VALID: 0 while the caller still waits on `id`, -ENOENT once not.
int notif_id_valid(int listener, std::uint64_t id);
// SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND: installs `fd` in the caller and makes
// its number the call's result. Returns that number.
int notif_addfd_send(int listener, std::uint64_t id, int fd, bool cloexec);

// SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) (Linux 6.6): the kernel
// switches between caller and supervisor on the same CPU. -EINVAL/-ENOTTY on older kernels.
int notif_set_sync_wakeup(int listener);

int pidfd_open(pid_t pid);
int pidfd_getfd(int pidfd, int target_fd);
// 0 while the process the pidfd refers to exists (zombies included), -ESRCH once reaped.
int pidfd_alive(int pidfd);
// 0 when `tid` is currently a thread of process `tgid` (-ESRCH when not, or gone; -EINVAL for a
// pid <= 0). Whether the daemon may signal it does not matter.
int thread_in_group(pid_t tgid, pid_t tid);

}  // namespace kvmemu::supervisor::sys
