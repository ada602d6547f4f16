// Mmu::audit(): walks the whole tree and checks it against stats, slots, the NX rule and the
// NX split list; used by unit/property tests and the benchmark's long property run.
#include <sstream>

#include "mmu/mapping_level.hpp"
#include "mmu/mmu.hpp"

namespace kvmemu::mmu {

namespace {
std::string where(std::uint64_t gfn, int level) {
    std::ostringstream o;
    o << "gfn 0x" << std::hex << gfn << std::dec << " level " << level << ": ";
    return o.str();
}
}  // namespace

AuditReport Mmu::audit() const {
    AuditReport r;
    auto fail = [&r](std::string msg) {
        if (r.error.empty()) r.error = std::move(msg);
    };
    const bool nx_active = nx_mitigation_active();
    r.tables = 1;
    for (ConstTdpIter it(pool_, root_, 0, kGfnLimit); it.valid(); it.next()) {
        const std::uint64_t spte = it.old_spte();
        const int level = it.level();
        if (!is_shadow_present_pte(spte)) {
            if (spte != 0) fail(where(it.gfn(), level) + "non-present SPTE with bits set");
            continue;
        }
        if (!is_last_spte(spte, level)) {
            const std::uint32_t child = spte_to_child_table(spte);
            ++r.tables;
            if (!pool_.is_live(child)) {
                fail(where(it.gfn(), level) + "non-leaf points to a freed table");
                break;
            }
            const TableMeta& m = pool_.meta(child);
            if (m.level != level - 1 || m.base_gfn != it.gfn())
                fail(where(it.gfn(), level) + "child table metadata");
            if (nx_splits_.contains(child) && !m.nx_huge_page_disallowed)
                fail(where(it.gfn(), level) + "tracked split not marked nx_huge_page_disallowed");
            continue;
        }
        if (level > kMaxHugeLevel) {
            fail(where(it.gfn(), level) + "leaf at PML4 level");
            continue;
        }
        ++r.leaves[level];
        if (level > 1 && is_executable_pte(spte)) {
            ++r.executable_huge;
            if (nx_active)
                fail(where(it.gfn(), level) + "executable huge leaf under the NX mitigation");
        }
        const Memslot* slot = slots_.find(it.gfn());
        if (slot == nullptr) {
            fail(where(it.gfn(), level) + "leaf outside every memslot");
            continue;
        }
        if (!slot_allows_level(*slot, it.gfn(), level))
            fail(where(it.gfn(), level) + "leaf does not fit its slot");
        if (spte_to_pfn(spte) != slot->hva_pfn(it.gfn()))
            fail(where(it.gfn(), level) + "pfn is not the slot's hva");
        if (slot->readonly() && is_writable_pte(spte))
            fail(where(it.gfn(), level) + "writable leaf in a read-only slot");
        if (slot->dirty_logging() && level > 1)
            fail(where(it.gfn(), level) + "huge leaf in a dirty-logged slot");
    }
    for (int level = 1; level <= kMaxHugeLevel; ++level) {
        if (r.leaves[level] != stats_.pages(level))
            fail("pages at level " + std::to_string(level) + ": stats " +
                 std::to_string(stats_.pages(level)) + " != walked " +
                 std::to_string(r.leaves[level]));
    }
    if (r.tables != pool_.live_tables())
        fail("tables reachable " + std::to_string(r.tables) + " != live " +
             std::to_string(pool_.live_tables()));
    if (stats_.nx_lpage_splits != nx_splits_.size()) fail("nx_lpage_splits != tracked splits");
    // Every tracked split is a live table linked from a non-leaf SPTE at its parent level
    // covering a 2M or 1G region (what KVM keeps on possible_nx_huge_pages).
    nx_splits_.for_each([&](std::uint32_t id) {
        if (!pool_.is_live(id)) {
            fail("tracked split table is freed");
            return;
        }
        const TableMeta& m = pool_.meta(id);
        const int parent_level = m.level + 1;
        if (parent_level < 2 || parent_level > kMaxHugeLevel)
            fail("tracked split at a non-huge level");
        bool linked = false;
        for (ConstTdpIter it(pool_, root_, m.base_gfn, m.base_gfn + 1, parent_level); it.valid();
             it.next()) {
            if (it.level() == parent_level) {
                const std::uint64_t s = it.old_spte();
                linked = is_shadow_present_pte(s) && !is_last_spte(s, parent_level) &&
                         spte_to_child_table(s) == id;
                break;
            }
        }
        if (!linked)
            fail(where(m.base_gfn, parent_level) + "tracked split is not linked in the tree");
    });
    return r;
}

}  // namespace kvmemu::mmu
