// Guest-physical reads and writes (KVM's kvm_read_guest/kvm_write_guest) over the client's
// memory: the range is split at memslot boundaries, translated to client addresses, one batch.
#pragma once

#include <cstdint>
#include <span>

#include "guestmem/process_memory.hpp"
#include "mmu/memslots.hpp"

namespace kvmemu::guestmem {

// 0, or: EFAULT when part of [gpa, gpa + size) has no memslot, a write touches a read-only
// slot (KVM_MEM_READONLY), or the client has no memory behind the slot there; ESRCH when the
// client is gone; other errnos of ProcessMemory. Nothing is moved when a slot check fails.
[[nodiscard]] int read_guest(const ProcessMemory& memory, const mmu::MemslotSet& slots,
                             std::uint64_t gpa, std::span<std::byte> out);
[[nodiscard]] int write_guest(const ProcessMemory& memory, const mmu::MemslotSet& slots,
                              std::uint64_t gpa, std::span<const std::byte> in);

}  // namespace kvmemu::guestmem
