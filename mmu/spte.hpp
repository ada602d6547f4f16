// SPTE format (EPT layout) as named predicates and pure constructors, after KVM's spte.h:
// every bit the MMU uses is read or written only through the functions below.
#pragma once

#include <cstdint>
#include <span>

#include "mmu/level.hpp"

namespace kvmemu::mmu {

// Bit layout. Hardware EPT bits first, then the software bits KVM also keeps in SPTEs.
//  bit 0 R, 1 W, 2 X                 EPT permissions
//  bits 3..5 memory type             WB (6) on leaves, as KVM's EPT memtype for RAM
//  bit 7 PS                          leaf at level 2 (2M) or 3 (1G)
//  bit 8 A                           accessed; set on leaves installed by a fault
//  bit 11 present (software)         KVM's SPTE_MMU_PRESENT_MASK: "shadow present"
//  bits 12..51 PFN                   see below
//  bit 57 host-writable (software)   KVM's EPT_SPTE_HOST_WRITABLE: the host mapping allows W
//  bit 58 MMU-writable (software)    KVM's EPT_SPTE_MMU_WRITABLE: the MMU may grant W
//
// The PFN field. Real KVM stores host *physical* frame numbers. A userspace daemon has none, so
// in a leaf the PFN is the host *virtual* address of the guest page >> 12 (the client's
// userspace_addr-based mapping): spte_to_pfn(leaf) << 12 is the hva of the first byte mapped.
// In a non-leaf SPTE the PFN field holds the id of the child page table in the MMU's TablePool
// (KVM stores the child table's physical address there). Host addresses must be < 2^52.
inline constexpr std::uint64_t kSpteReadable = std::uint64_t{1} << 0;
inline constexpr std::uint64_t kSpteWritable = std::uint64_t{1} << 1;
inline constexpr std::uint64_t kSpteExecutable = std::uint64_t{1} << 2;
inline constexpr std::uint64_t kSpteMemTypeWB = std::uint64_t{6} << 3;
inline constexpr std::uint64_t kSpteLarge = std::uint64_t{1} << 7;
inline constexpr std::uint64_t kSpteAccessed = std::uint64_t{1} << 8;
inline constexpr std::uint64_t kSptePresent = std::uint64_t{1} << 11;
inline constexpr std::uint64_t kSptePfnMask =
    ((std::uint64_t{1} << 52) - 1) & ~std::uint64_t{0xfff};
inline constexpr std::uint64_t kSpteHostWritable = std::uint64_t{1} << 57;
inline constexpr std::uint64_t kSpteMmuWritable = std::uint64_t{1} << 58;
inline constexpr std::uint64_t kMaxPfn = kSptePfnMask >> kPageShift;

// The value of a zapped (non-present) SPTE; KVM's SHADOW_NONPRESENT_VALUE for EPT is 0 too.
inline constexpr std::uint64_t kNonPresentSpte = 0;

// ---- predicates ----
constexpr bool is_shadow_present_pte(std::uint64_t spte) {
    return (spte & kSptePresent) != 0;
}
constexpr bool is_large_pte(std::uint64_t spte) {
    return (spte & kSpteLarge) != 0;
}
constexpr bool is_readable_pte(std::uint64_t spte) {
    return (spte & kSpteReadable) != 0;
}
constexpr bool is_writable_pte(std::uint64_t spte) {
    return (spte & kSpteWritable) != 0;
}
constexpr bool is_executable_pte(std::uint64_t spte) {
    return (spte & kSpteExecutable) != 0;
}
constexpr bool is_accessed_spte(std::uint64_t spte) {
    return (spte & kSpteAccessed) != 0;
}
constexpr bool is_host_writable_spte(std::uint64_t spte) {
    return (spte & kSpteHostWritable) != 0;
}
constexpr bool is_mmu_writable_spte(std::uint64_t spte) {
    return (spte & kSpteMmuWritable) != 0;
}
// A leaf: the last level, or a PS entry above it (KVM's is_last_spte).
constexpr bool is_last_spte(std::uint64_t spte, int level) {
    return level == 1 || is_large_pte(spte);
}
constexpr bool is_leaf_present(std::uint64_t spte, int level) {
    return is_shadow_present_pte(spte) && is_last_spte(spte, level);
}
constexpr std::uint64_t spte_to_pfn(std::uint64_t spte) {
    return (spte & kSptePfnMask) >> kPageShift;
}
// Non-leaf only: the TablePool id of the child table.
constexpr std::uint32_t spte_to_child_table(std::uint64_t spte) {
    return static_cast<std::uint32_t>(spte_to_pfn(spte));
}

// ---- constructors (pure) ----
struct LeafAccess {
    bool writable;    // grant W (slot writable; KVM also maps W on read faults, see mmu_fault.cpp)
    bool executable;  // grant X (false for huge leaves while the NX mitigation is active)
    bool host_writable;  // the host mapping is writable (slot not KVM_MEM_READONLY)
};

// KVM's make_spte() for a fault: `pfn` must be aligned to the level's size.
constexpr std::uint64_t make_leaf_spte(std::uint64_t pfn, int level, LeafAccess a) {
    std::uint64_t spte = kSptePresent | kSpteReadable | kSpteMemTypeWB | kSpteAccessed |
                         (pfn << kPageShift & kSptePfnMask);
    if (level > 1) spte |= kSpteLarge;
    if (a.executable) spte |= kSpteExecutable;
    if (a.host_writable) spte |= kSpteHostWritable;
    if (a.writable && a.host_writable) spte |= kSpteWritable | kSpteMmuWritable;
    return spte;
}

// KVM's make_nonleaf_spte(): full permissions, the child decides.
constexpr std::uint64_t make_nonleaf_spte(std::uint32_t child_table) {
    return kSptePresent | kSpteReadable | kSpteWritable | kSpteExecutable | kSpteAccessed |
           (std::uint64_t{child_table} << kPageShift & kSptePfnMask);
}

constexpr std::uint64_t make_spte_executable(std::uint64_t spte) {
    return spte | kSpteExecutable;
}
constexpr std::uint64_t make_spte_nonexecutable(std::uint64_t spte) {
    return spte & ~kSpteExecutable;
}
// Write-protection for dirty logging: W goes, MMU-writable stays so a write fault restores it.
constexpr std::uint64_t make_spte_write_protected(std::uint64_t spte) {
    return spte & ~kSpteWritable;
}

// Whether a leaf at `level` may carry X: KVM's make_spte() strips ACC_EXEC from huge leaves
// while is_nx_huge_page_enabled(kvm) (the iTLB-multihit mitigation) is true.
constexpr bool leaf_may_execute(int level, bool nx_mitigation_active) {
    return level == 1 || !nx_mitigation_active;
}

// KVM's make_huge_page_split_spte(): child `index` (0..511) of a huge leaf at `huge_level`.
// The child keeps the parent's permissions and attributes; at 4K it drops PS and, when the NX
// mitigation is active, becomes executable (the mitigation only concerns huge pages).
constexpr std::uint64_t make_huge_page_split_spte(std::uint64_t huge_spte, int huge_level,
                                                  unsigned index, bool nx_mitigation_active) {
    const int child_level = huge_level - 1;
    const std::uint64_t pfn =
        spte_to_pfn(huge_spte) + std::uint64_t{index} * pages_per_spte(child_level);
    std::uint64_t child = (huge_spte & ~kSptePfnMask) | (pfn << kPageShift & kSptePfnMask);
    if (child_level == 1) {
        child &= ~kSpteLarge;
        if (nx_mitigation_active) child = make_spte_executable(child);
    }
    return child;
}

// The 512 children that replace a huge leaf when it is split (the table's contents).
constexpr void make_split_children(std::uint64_t huge_spte, int huge_level,
                                   bool nx_mitigation_active,
                                   std::span<std::uint64_t, kSptesPerTable> children) {
    for (unsigned i = 0; i < kSptesPerTable; ++i) {
        children[i] = make_huge_page_split_spte(huge_spte, huge_level, i, nx_mitigation_active);
    }
}

}  // namespace kvmemu::mmu
