// NotifReceiver: zeroes and sizes the seccomp_notif buffer, and extracts an ioctl's arguments.
#include "supervisor/notification.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

bool Notification::is_native_ioctl() const noexcept {
    return syscall_nr == SYS_ioctl && arch == AUDIT_ARCH_X86_64;
}

Expected<NotifReceiver> NotifReceiver::create() {
    seccomp_notif_sizes sizes{};
    if (int r = sys::get_notif_sizes(sizes); r < 0) return Errno{-r};
    return NotifReceiver(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
}

Expected<Notification> NotifReceiver::receive(int listener) {
    if (int r = sys::notif_recv(listener, buf_.data(), buf_.size()); r < 0) return Errno{-r};
    seccomp_notif raw{};
    std::memcpy(&raw, buf_.data(), sizeof raw);
    Notification n;
    n.id = raw.id;
    n.tid = static_cast<pid_t>(raw.pid);
    n.syscall_nr = raw.data.nr;
    n.arch = raw.data.arch;
    n.fd = static_cast<int>(static_cast<std::uint32_t>(raw.data.args[0]));
    n.cmd = static_cast<std::uint32_t>(raw.data.args[1]);
    n.arg = raw.data.args[2];
    return n;
}

}  // namespace kvmemu::supervisor
