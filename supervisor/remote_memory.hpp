// RemoteMemory: the UserIo of a trapped call: reads and writes the caller's memory with
// process_vm_readv/writev, refusing to touch it once the call's notification is no longer valid.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/user_io.hpp"

namespace kvmemu::supervisor {

class RemoteMemory final : public UserIo {
  public:
    RemoteMemory(int listener, std::uint64_t notif_id, pid_t tgid)
        : listener_(listener), id_(notif_id), tgid_(tgid) {}

    // 0, EFAULT (bad or partly bad range, or protection), ESRCH (the caller left: nothing read
    // or written may be trusted), or another errno from the kernel.
    int read(std::uint64_t addr, std::span<std::byte> dst) override;
    int write(std::uint64_t addr, std::span<const std::byte> src) override;

  private:
    [[nodiscard]] bool caller_waiting() const;

    int listener_;
    std::uint64_t id_;
    pid_t tgid_;
};

}  // namespace kvmemu::supervisor
