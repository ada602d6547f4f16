// Fault policy, apart from the tree mechanics: the largest leaf level a fault may map
// (KVM's kvm_mmu_max_mapping_level() + kvm_mmu_hugepage_adjust()).
#pragma once

#include <cstdint>

#include "mmu/level.hpp"
#include "mmu/memslots.hpp"

namespace kvmemu::mmu {

// Whether a leaf at `level` around `gfn` fits the slot: its whole region lies in the slot and
// the slot's GFNs and host addresses are congruent modulo the leaf size (KVM's lpage_info
// disallow_lpage for the slot's ragged head/tail and for misaligned userspace_addr).
constexpr bool slot_allows_level(const Memslot& slot, std::uint64_t gfn, int level) {
    if (level == 1) return true;
    const std::uint64_t n = pages_per_spte(level);
    const std::uint64_t base = level_base_gfn(gfn, level);
    if (((slot.base_gfn ^ (slot.userspace_addr >> 12)) & (n - 1)) != 0) return false;
    return base >= slot.base_gfn && base + n <= slot.end_gfn();
}

// The requested level (KVM's fault->req_level): min(host level, slot bounds/alignment), 4K for
// dirty-logged slots. The NX rule is applied on top by the fault handler (goal level 4K for an
// exec fault while the mitigation is active), because the split accounting needs req_level.
constexpr int max_mapping_level(const Memslot& slot, std::uint64_t gfn, Level host_level) {
    if (slot.dirty_logging()) return 1;
    int level = to_int(host_level) < kMaxHugeLevel ? to_int(host_level) : kMaxHugeLevel;
    while (level > 1 && !slot_allows_level(slot, gfn, level)) --level;
    return level;
}

}  // namespace kvmemu::mmu
