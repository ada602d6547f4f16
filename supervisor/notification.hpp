// Notification: the fields of one trapped ioctl() as read from the listener, and NotifReceiver,
// which receives them into a buffer sized by the kernel (SECCOMP_GET_NOTIF_SIZES).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/expected.hpp"

namespace kvmemu::supervisor {

struct Notification {
    std::uint64_t id = 0;  // the kernel's cookie for this call
    pid_t tid = 0;         // calling thread (0 if not visible in our pid namespace)
    int syscall_nr = -1;
    std::uint32_t arch = 0;  // AUDIT_ARCH_*
    int fd = -1;             // ioctl's fd (unsigned int in the kernel)
    std::uint32_t cmd = 0;   // ioctl's request: the kernel truncates it to 32 bits
    std::uint64_t arg = 0;

    // True for an ioctl() of the native ABI: the only call the filter traps.
    [[nodiscard]] bool is_native_ioctl() const noexcept;
};

class NotifReceiver {
  public:
    // Sizes its buffer from the kernel; an error if seccomp notifications are unavailable.
    static Expected<NotifReceiver> create();
    // One notification (blocks until there is one). -ENOENT: the caller left before we got it.
    Expected<Notification> receive(int listener);

  private:
    explicit NotifReceiver(std::size_t size) : buf_(size) {}
    std::vector<std::byte> buf_;
};

}  // namespace kvmemu::supervisor
