// RemoteMemory: the UserIo of a trapped call: reads and writes the caller's memory with
// process_vm_readv/writev, refusing to touch it once the call's notification is no longer valid.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/user_io.hpp"

namespace kvmemu::supervisor {

class RemoteMemory final : public UserIo {
  public:
    // caller_just_checked: SECCOMP_IOCTL_NOTIF_ID_VALID succeeded for this call right before
    // the handler started, on this thread: the first access may skip its own check before.
    RemoteMemory(int listener, std::uint64_t notif_id, pid_t tgid, bool caller_just_checked = false)
        : listener_(listener), id_(notif_id), tgid_(tgid), checked_(caller_just_checked) {}

    // 0, EFAULT (bad or partly bad range, or protection), ESRCH (the caller left: nothing read
    // or written may be trusted), or another errno from the kernel.
    int read(std::uint64_t addr, std::span<std::byte> dst) override;
    int write(std::uint64_t addr, std::span<const std::byte> src) override;

  private:
    [[nodiscard]] bool caller_waiting() const;
    // caller_waiting() before an access, unless the check made just before the call still holds.
    [[nodiscard]] bool caller_waiting_before();

    int listener_;
    std::uint64_t id_;
    pid_t tgid_;
    bool checked_;
};

}  // namespace kvmemu::supervisor
