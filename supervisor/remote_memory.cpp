// RemoteMemory: process_vm_readv/writev on the caller, bracketed by SECCOMP_IOCTL_NOTIF_ID_VALID.
#include "supervisor/remote_memory.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <limits>
#include <utility>

#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

namespace {

bool wraps(std::uint64_t addr, std::size_t len) {
    return len != 0 && addr > std::numeric_limits<std::uint64_t>::max() - (len - 1);
}

// Whole transfer or an errno: a short transfer means part of the range is not accessible.
int transfer_result(ssize_t n, std::size_t want) {
    if (n < 0) return errno;
    return static_cast<std::size_t>(n) == want ? 0 : EFAULT;
}

}  // namespace

bool RemoteMemory::caller_waiting() const {
    return sys::notif_id_valid(listener_, id_) == 0;
}

bool RemoteMemory::caller_waiting_before() {
    if (std::exchange(checked_, false)) return true;
    return caller_waiting();
}

int RemoteMemory::read(std::uint64_t addr, std::span<std::byte> dst) {
    if (dst.empty()) return 0;
    if (wraps(addr, dst.size())) return EFAULT;
    if (!caller_waiting_before()) return ESRCH;
    const iovec local{dst.data(), dst.size()};
    const iovec remote{reinterpret_cast<void*>(addr),
                       dst.size()};  // NOLINT(performance-no-int-to-ptr)
    const int r = transfer_result(::process_vm_readv(tgid_, &local, 1, &remote, 1, 0), dst.size());
    // Checked again after: if the caller left meanwhile, tgid_ may name another process now.
    if (!caller_waiting()) return ESRCH;
    return r;
}

int RemoteMemory::write(std::uint64_t addr, std::span<const std::byte> src) {
    if (src.empty()) return 0;
    if (wraps(addr, src.size())) return EFAULT;
    // The caller waits on its notification, so it (and tgid_ with it) is alive right now.
    if (!caller_waiting_before()) return ESRCH;
    const iovec local{const_cast<std::byte*>(src.data()), src.size()};
    const iovec remote{reinterpret_cast<void*>(addr),
                       src.size()};  // NOLINT(performance-no-int-to-ptr)
    return transfer_result(::process_vm_writev(tgid_, &local, 1, &remote, 1, 0), src.size());
}

}  // namespace kvmemu::supervisor
