// Mmu::fault(): walk to the goal level, linking or splitting tables on the way, and install the
// leaf (KVM's kvm_tdp_mmu_map() with kvm_mmu_hugepage_adjust() and the NX rule).
#include <cassert>

#include "mmu/mapping_level.hpp"
#include "mmu/mmu.hpp"

namespace kvmemu::mmu {

FaultResult Mmu::fault(std::uint64_t gpa, Access access) {
    const std::uint64_t gfn = gpa >> kPageShift;
    const Memslot* slot = gfn < kGfnLimit ? slots_.find(gfn, slot_hint_) : nullptr;
    if (slot == nullptr) return FaultResult{FaultOutcome::NoSlot, Level::k4K, 0, 0};
    const std::uint64_t hva = slot->gpa_to_hva(gpa);
    if (access == Access::Write && slot->readonly()) {
        return FaultResult{FaultOutcome::ReadOnlyWrite, Level::k4K, 0, hva};
    }

    const bool nx_active = nx_mitigation_active();
    const int req_level = max_mapping_level(*slot, gfn, host_.host_level(hva));
    // fault->huge_page_disallowed: an instruction fetch under the mitigation maps 4K.
    const bool huge_page_disallowed = access == Access::Exec && nx_active;
    int goal_level = huge_page_disallowed ? 1 : req_level;

    for (TdpIter it(pool_, root_, gfn, gfn + 1); it.valid(); it.next()) {
        if (nx_active) disallowed_hugepage_adjust(it, goal_level);
        if (it.level() == goal_level) return map_target_level(it, *slot, nx_active, hva);
        const std::uint64_t old = it.old_spte();
        if (is_shadow_present_pte(old) && !is_large_pte(old)) continue;
        // Non-present, or a huge leaf above the goal: link a new table (splitting the leaf).
        link_child_table(it, huge_page_disallowed, nx_active);
        // KVM tracks the new table as a possible NX huge page only if a huge leaf could have
        // been mapped at this level had the mitigation not forbidden it (req_level >= level).
        if (huge_page_disallowed && req_level >= it.level())
            track_nx_split(spte_to_child_table(it.old_spte()));
    }
    assert(false && "the walk always reaches the goal level");
    return FaultResult{};
}

// A non-exec fault that would map huge over a table created by an NX exec fault maps 4K
// instead, so the split is not undone behind recovery's back (KVM's
// disallowed_hugepage_adjust(), applied only while the mitigation is active).
void Mmu::disallowed_hugepage_adjust(const TdpIter& it, int& goal_level) const {
    const std::uint64_t old = it.old_spte();
    if (it.level() > 1 && it.level() == goal_level && is_shadow_present_pte(old) &&
        !is_large_pte(old) && pool_.meta(spte_to_child_table(old)).nx_huge_page_disallowed) {
        --goal_level;
    }
}

void Mmu::link_child_table(TdpIter& it, bool nx_huge_page_disallowed, bool nx_active) {
    const std::uint64_t old = it.old_spte();
    const int level = it.level();
    std::uint32_t child;
    if (is_shadow_present_pte(old)) {
        // Split the huge leaf: 512 children keep its permissions (KVM's tdp_mmu_split_huge_page()).
        child = pool_.alloc_for_overwrite(level - 1, it.gfn());
        make_split_children(old, level, nx_active, pool_.table(child).spte);
        --stats_.pages(level);
        stats_.pages(level - 1) += kSptesPerTable;
    } else {
        child = pool_.alloc_zeroed(level - 1, it.gfn());
    }
    ++stats_.mmu_cache_miss;
    pool_.meta(child).nx_huge_page_disallowed = nx_huge_page_disallowed;
    it.set_spte(make_nonleaf_spte(child));
}

FaultResult Mmu::map_target_level(TdpIter& it, const Memslot& slot, bool nx_active,
                                  std::uint64_t hva) {
    const int level = it.level();
    const std::uint64_t old = it.old_spte();
    // Writable even on read faults when the slot is writable: KVM faults the pfn in with
    // map_writable (hva_to_pfn tries a writable mapping for read faults too) and make_spte()
    // grants W when host_writable, so a later write does not fault again. Read-only slots map
    // without W. Executable unless a huge leaf under the NX mitigation.
    const LeafAccess access{!slot.readonly(), leaf_may_execute(level, nx_active), !slot.readonly()};
    const std::uint64_t pfn = slot.hva_pfn(it.gfn());
    const std::uint64_t spte = make_leaf_spte(pfn, level, access);
    if (is_shadow_present_pte(old) && !is_last_spte(old, level)) {
        // A huge leaf replaces a page table (KVM frees the old table and flushes).
        free_subtree(spte_to_child_table(old));
        flush_remote_tlbs();
    }
    if (!is_leaf_present(old, level)) ++stats_.pages(level);
    if (old != spte) it.set_spte(spte);
    return FaultResult{FaultOutcome::Mapped, to_level(level), spte, hva};
}

}  // namespace kvmemu::mmu
