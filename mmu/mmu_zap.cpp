// Mmu zaps: removing leaves and page tables (with stats and NX tracking kept exact), zap of a
// range or of everything, and NX split recovery.
#include "mmu/mmu.hpp"
#include "mmu/nx_recovery.hpp"

namespace kvmemu::mmu {

// KVM's handle_removed_pt(): every present leaf below leaves the stats, every table is freed
// and, if tracked, leaves the NX split list.
void Mmu::free_subtree(std::uint32_t table) {
    const int level = pool_.meta(table).level;
    for (const std::uint64_t spte : pool_.table(table).spte) {
        if (!is_shadow_present_pte(spte)) continue;
        if (is_last_spte(spte, level)) {
            --stats_.pages(level);
        } else {
            free_subtree(spte_to_child_table(spte));
        }
    }
    if (nx_splits_.contains(table)) untrack_nx_split(table);
    ++stats_.mmu_shadow_zapped;
    pool_.free(table);
}

bool Mmu::zap_spte(TdpIter& it) {
    const std::uint64_t old = it.old_spte();
    if (!is_shadow_present_pte(old)) return false;
    if (is_last_spte(old, it.level())) {
        --stats_.pages(it.level());
    } else {
        free_subtree(spte_to_child_table(old));
    }
    it.set_spte(kNonPresentSpte);
    return true;
}

void Mmu::zap_all() {
    bool zapped = false;
    for (TdpIter it(pool_, root_, 0, kGfnLimit, kRootLevel); it.valid(); it.next())
        zapped |= zap_spte(it);
    if (zapped) flush_remote_tlbs();
}

void Mmu::zap_gfn_range(std::uint64_t start_gfn, std::uint64_t end_gfn) {
    bool zapped = false;
    for (TdpIter it(pool_, root_, start_gfn, end_gfn); it.valid(); it.next()) {
        const std::uint64_t old = it.old_spte();
        if (!is_shadow_present_pte(old)) continue;
        // Leaves intersecting the range go whole; tables go whole only if inside the range,
        // otherwise the walk descends into them.
        if (is_last_spte(old, it.level()) || it.region_within(start_gfn, end_gfn))
            zapped |= zap_spte(it);
    }
    if (zapped) flush_remote_tlbs();
}

void Mmu::track_nx_split(std::uint32_t table) {
    nx_splits_.push_back(table);
    ++stats_.nx_lpage_splits;
}

void Mmu::untrack_nx_split(std::uint32_t table) {
    nx_splits_.remove(table);
    --stats_.nx_lpage_splits;
}

// Zaps the SPTE that points to a tracked table (KVM's kvm_tdp_mmu_zap_possible_nx_huge_page()).
bool Mmu::zap_tracked_table(std::uint32_t table) {
    const TableMeta& m = pool_.meta(table);
    const int parent_level = m.level + 1;
    const std::uint64_t gfn = m.base_gfn;
    for (TdpIter it(pool_, root_, gfn, gfn + 1, parent_level); it.valid(); it.next()) {
        if (it.level() != parent_level) continue;
        const std::uint64_t old = it.old_spte();
        if (is_shadow_present_pte(old) && !is_last_spte(old, parent_level) &&
            spte_to_child_table(old) == table) {
            return zap_spte(it);
        }
        break;
    }
    // Not reachable: cannot happen (tables are tracked only while linked); keep lists exact.
    untrack_nx_split(table);
    return false;
}

std::size_t Mmu::recover_nx_splits(unsigned ratio) {
    if (!nx_mitigation_active()) return 0;
    std::uint64_t to_zap = nx_recovery_batch(stats_.nx_lpage_splits, ratio);
    std::size_t done = 0;
    bool zapped = false;
    for (; to_zap != 0 && !nx_splits_.empty(); --to_zap, ++done) {
        const std::uint32_t table = nx_splits_.front();
        const TableMeta& m = pool_.meta(table);
        const Memslot* slot = slots_.find(m.base_gfn);
        if (slot != nullptr && slot->dirty_logging()) {
            // KVM only unaccounts splits in dirty-logged slots: zapping them would just make
            // the next faults map 4K again.
            untrack_nx_split(table);
            continue;
        }
        zapped |= zap_tracked_table(table);
    }
    if (zapped) flush_remote_tlbs();
    return done;
}

}  // namespace kvmemu::mmu
