// Memslots: GFN ranges backed by client host-virtual memory, kept sorted by GFN for a fast
// binary-search lookup. Only stores and applies changes; KVM_SET_USER_MEMORY_REGION's argument
// validation (alignment, ids, overlap errnos) belongs to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/expected.hpp"

namespace kvmemu::mmu {

inline constexpr std::uint32_t kMemLogDirtyPages = 1;  // KVM_MEM_LOG_DIRTY_PAGES
inline constexpr std::uint32_t kMemReadonly = 2;       // KVM_MEM_READONLY
inline constexpr std::size_t kMaxMemslots = 32764;     // KVM_CAP_NR_MEMSLOTS on x86

struct Memslot {
    std::uint32_t id = 0;  // the slot number as the caller names it
    std::uint64_t base_gfn = 0;
    std::uint64_t npages = 0;
    std::uint64_t userspace_addr = 0;  // page-aligned host virtual address of base_gfn
    std::uint32_t flags = 0;

    constexpr std::uint64_t end_gfn() const { return base_gfn + npages; }
    constexpr bool contains(std::uint64_t gfn) const { return gfn - base_gfn < npages; }
    constexpr bool dirty_logging() const { return (flags & kMemLogDirtyPages) != 0; }
    constexpr bool readonly() const { return (flags & kMemReadonly) != 0; }
    // Host virtual frame number backing `gfn` (the "pfn" of our SPTEs, see spte.hpp).
    constexpr std::uint64_t hva_pfn(std::uint64_t gfn) const {
        return (userspace_addr >> 12) + (gfn - base_gfn);
    }
    constexpr std::uint64_t gpa_to_hva(std::uint64_t gpa) const {
        return userspace_addr + (gpa - (base_gfn << 12));
    }
};

class MemslotSet {
  public:
    // Lookup by GFN: binary search; `hint` (index of the last hit, owned by the caller) makes
    // repeated hits in the same slot O(1).
    const Memslot* find(std::uint64_t gfn) const;
    const Memslot* find(std::uint64_t gfn, std::size_t& hint) const;
    const Memslot* find_id(std::uint32_t id) const;

    // EEXIST if the id exists or the range overlaps, EINVAL for an empty or out-of-range slot
    // (GFNs beyond 48-bit GPAs, hva beyond 2^52), ENOSPC past kMaxMemslots.
    Expected<Memslot> insert(const Memslot& slot);
    Expected<Memslot> erase(std::uint32_t id);
    // Replace slot `id` (same id) with `slot`: same checks as insert against the others.
    Expected<Memslot> replace(std::uint32_t id, const Memslot& slot);

    const std::vector<Memslot>& slots() const { return slots_; }
    std::size_t size() const { return slots_.size(); }

  private:
    bool overlaps_other(const Memslot& s, std::uint32_t ignore_id) const;
    bool has_id(std::uint32_t id) const;
    std::vector<Memslot> slots_;      // sorted by base_gfn, non-overlapping
    std::vector<std::uint32_t> ids_;  // sorted ids, for O(log n) duplicate checks
};

}  // namespace kvmemu::mmu
