// The VM's user memory slots as KVM_SET_USER_MEMORY_REGION(2) defines them, with the kernel's
// validation (errno for errno); the MMU is told of each accepted change.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

struct Memslot {
    std::uint32_t id = 0;  // (u16) slot; kvmemu has one address space
    std::uint32_t flags = 0;
    std::uint64_t base_gfn = 0;
    std::uint64_t npages = 0;
    std::uint64_t userspace_addr = 0;
};

enum class MemslotChange { Create, Delete, Move, FlagsOnly, None };

struct MemslotUpdate {
    MemslotChange change = MemslotChange::None;
    std::optional<Memslot> old_slot;
    std::optional<Memslot> new_slot;
};

class Memslots {
public:
    // Validates `mem` against the current slots as __kvm_set_memory_region() does and, when valid,
    // applies it. Returns the change (for the MMU) or a positive errno.
    // v1: the request came as KVM_SET_USER_MEMORY_REGION (fewer flags allowed).
    int apply(const uapi::kvm_userspace_memory_region2& mem, bool v1, MemslotUpdate& out);

    [[nodiscard]] const Memslot* find_by_gfn(std::uint64_t gfn) const;
    [[nodiscard]] const std::map<std::uint32_t, Memslot>& all() const { return slots_; }

private:
    std::map<std::uint32_t, Memslot> slots_;  // by id
};

}  // namespace kvmemu::kvm
