// Mmu memslot changes: create, delete, move, flags, with the zaps/splits KVM applies.
#include "mmu/mmu.hpp"

namespace kvmemu::mmu {

Expected<Memslot> Mmu::create_memslot(const Memslot& slot) {
    return slots_.insert(slot);
}

Expected<Memslot> Mmu::delete_memslot(std::uint32_t id) {
    const Memslot* s = slots_.find_id(id);
    if (s == nullptr) return Errno{ENOENT};
    zap_gfn_range(s->base_gfn, s->end_gfn());
    return slots_.erase(id);
}

Expected<Memslot> Mmu::move_memslot(std::uint32_t id, std::uint64_t new_base_gfn) {
    const Memslot* s = slots_.find_id(id);
    if (s == nullptr) return Errno{ENOENT};
    Memslot moved = *s;
    moved.base_gfn = new_base_gfn;
    const Memslot old = *s;
    auto r = slots_.replace(id, moved);
    if (!r) return r;
    zap_gfn_range(old.base_gfn, old.end_gfn());
    return moved;
}

Expected<Memslot> Mmu::set_memslot_flags(std::uint32_t id, std::uint32_t flags) {
    const Memslot* s = slots_.find_id(id);
    if (s == nullptr) return Errno{ENOENT};
    Memslot changed = *s;
    const bool was_logging = s->dirty_logging();
    changed.flags = flags;
    auto r = slots_.replace(id, changed);
    if (!r) return r;
    if (changed.readonly() != r->readonly()) {
        // KVM refuses this (EINVAL in the caller); if it happens anyway, start from scratch.
        zap_gfn_range(changed.base_gfn, changed.end_gfn());
    } else if (!was_logging && changed.dirty_logging()) {
        enable_dirty_logging(changed);
    } else if (was_logging && !changed.dirty_logging()) {
        // KVM recovers huge pages in place (kvm_mmu_recover_huge_pages()); we zap and let the
        // next faults map at the largest level again.
        zap_gfn_range(changed.base_gfn, changed.end_gfn());
    }
    return changed;
}

// kvm_mmu_slot_apply_flags() on enabling dirty logging: eager split of huge leaves to 4K
// (kvm_mmu_slot_try_split_huge_pages) and write-protection of the leaves (AMD has no PML).
void Mmu::enable_dirty_logging(const Memslot& slot) {
    bool protected_any = false;
    const bool nx_active = nx_mitigation_active();
    for (TdpIter it(pool_, root_, slot.base_gfn, slot.end_gfn()); it.valid(); it.next()) {
        const std::uint64_t old = it.old_spte();
        if (!is_leaf_present(old, it.level())) continue;
        if (it.level() > 1) {
            link_child_table(it, false, nx_active);  // the walk then visits the new children
            continue;
        }
        if (is_writable_pte(old)) {
            it.set_spte(make_spte_write_protected(old));
            protected_any = true;
        }
    }
    if (protected_any) flush_remote_tlbs();
}

}  // namespace kvmemu::mmu
