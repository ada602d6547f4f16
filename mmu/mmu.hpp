// Mmu: one VM's software model of KVM's x86 TDP MMU with the per-VM NX-huge-page mitigation:
// memslots, the 4-level SPTE tree, faults, splits, zaps, NX split recovery and stats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "mmu/host_mapping.hpp"
#include "mmu/level.hpp"
#include "mmu/memslots.hpp"
#include "mmu/nx_split_list.hpp"
#include "mmu/page_table.hpp"
#include "mmu/stats.hpp"
#include "mmu/tdp_iter.hpp"

namespace kvmemu::mmu {

enum class Access : std::uint8_t { Read, Write, Exec };

enum class FaultOutcome : std::uint8_t {
    Mapped,         // a leaf maps the gpa: level, spte, hva are valid
    NoSlot,         // no memslot covers the gpa: the caller emulates it as MMIO (KVM_EXIT_MMIO)
    ReadOnlyWrite,  // write to a KVM_MEM_READONLY slot: nothing mapped; the caller emulates the
                    // access as MMIO like KVM (KVM_PFN_ERR_RO_FAULT -> RET_PF_EMULATE); hva valid
};

struct FaultResult {
    FaultOutcome outcome = FaultOutcome::NoSlot;
    Level level = Level::k4K;
    std::uint64_t spte = 0;
    std::uint64_t hva = 0;  // host virtual address of the faulting gpa itself (not the leaf base)

    bool mapped() const { return outcome == FaultOutcome::Mapped; }
};

struct LeafInfo {
    std::uint64_t spte;
    Level level;
    std::uint64_t gfn;  // first GFN the leaf maps
    std::uint64_t hva;  // host virtual address of the looked-up gpa
};

struct NxSplit {
    std::uint64_t base_gfn;  // first GFN of the region that could have been one huge leaf
    Level huge_level;        // size of that region (2M or 1G)
    std::uint32_t table;     // the page table that replaced the huge leaf
};

// Result of walking the whole tree and comparing it with the bookkeeping (tests and tools).
struct AuditReport {
    std::uint64_t leaves[4] = {};       // present leaves by level (index 1..3)
    std::uint64_t executable_huge = 0;  // executable 2M/1G leaves
    std::size_t tables = 0;             // page tables reachable from the root (root included)
    std::string error;                  // first inconsistency found, empty when none
    bool ok() const { return error.empty(); }
};

// Thread-safety: none inside. One Mmu belongs to one VM and every call (const ones included)
// must be made under that VM's lock; distinct VMs' Mmus are independent (no globals).
class Mmu {
  public:
    // `host` answers host mapping levels and must outlive the Mmu. `nx_huge_pages` is the host
    // policy (the nx_huge_pages module parameter's effective value) at VM creation.
    explicit Mmu(HostMappingOracle& host, bool nx_huge_pages = false);
    ~Mmu();
    Mmu(const Mmu&) = delete;
    Mmu& operator=(const Mmu&) = delete;

    // ---- memslots (KVM_SET_USER_MEMORY_REGION after the caller validated it) ----
    Expected<Memslot> create_memslot(const Memslot& slot);
    // Zaps the slot's SPTEs (kvm_arch_flush_shadow_memslot), then removes it.
    Expected<Memslot> delete_memslot(std::uint32_t id);
    // KVM_MR_MOVE: zaps the old range, then rebases the slot.
    Expected<Memslot> move_memslot(std::uint32_t id, std::uint64_t new_base_gfn);
    // KVM_MR_FLAGS_ONLY. Enabling dirty logging splits the slot's huge leaves to 4K (KVM's
    // eager_page_split=Y default) and write-protects its leaves; disabling it zaps the slot so
    // that the next faults map huge again.
    Expected<Memslot> set_memslot_flags(std::uint32_t id, std::uint32_t flags);
    const MemslotSet& memslots() const { return slots_; }

    // ---- NX huge pages ----
    // Host policy change (module parameter nx_huge_pages). Returns whether it changed; when it
    // did, every SPTE is zapped, as KVM's set_nx_huge_pages() zaps every VM.
    bool set_nx_huge_pages(bool on);
    bool nx_huge_pages() const { return nx_huge_pages_; }
    // KVM_CAP_VM_DISABLE_NX_HUGE_PAGES (the caller checks CAP_SYS_BOOT, args and no vCPUs yet).
    void disable_nx_huge_pages() { nx_disabled_by_cap_ = true; }
    bool nx_huge_pages_disabled_by_cap() const { return nx_disabled_by_cap_; }
    // KVM's is_nx_huge_page_enabled(kvm).
    bool nx_mitigation_active() const { return nx_huge_pages_ && !nx_disabled_by_cap_; }

    // ---- faults and lookups ----
    FaultResult fault(std::uint64_t gpa, Access access);
    // The present leaf mapping `gpa`, if any (does not fault).
    std::optional<LeafInfo> lookup(std::uint64_t gpa) const;
    // gpa -> client hva through the memslots (does not look at SPTEs); nullopt outside slots.
    std::optional<std::uint64_t> gpa_to_hva(std::uint64_t gpa) const;

    // ---- zaps and recovery ----
    void zap_all();
    // Zaps every leaf intersecting [start_gfn, end_gfn) (a huge leaf is zapped whole) and frees
    // page tables whose whole region lies in the range.
    void zap_gfn_range(std::uint64_t start_gfn, std::uint64_t end_gfn);
    // One recovery pass (KVM's kvm_recover_nx_huge_pages()): zaps ceil(nx_lpage_splits / ratio)
    // tracked splits, oldest first, so the next access maps them huge again. Does nothing when
    // ratio is 0 or the mitigation is not active for this VM. Returns the number untracked.
    std::size_t recover_nx_splits(unsigned ratio);

    // ---- stats and introspection ----
    const MmuStats& stats() const { return stats_; }
    std::vector<NxSplit> nx_splits() const;  // oldest first
    AuditReport audit() const;
    std::size_t page_table_count() const { return pool_.live_tables(); }
    std::size_t memory_bytes() const;

    // Calls f(gfn, level, spte) for every present leaf, in GFN order.
    template <class F>
    void for_each_leaf(F&& f) const {
        for (ConstTdpIter it(pool_, root_, 0, kGfnLimit); it.valid(); it.next()) {
            if (is_leaf_present(it.old_spte(), it.level()))
                f(it.gfn(), to_level(it.level()), it.old_spte());
        }
    }

  private:
    FaultResult map_target_level(TdpIter& it, const Memslot& slot, bool nx_active,
                                 std::uint64_t hva);
    void link_child_table(TdpIter& it, bool nx_huge_page_disallowed, bool nx_active);
    void disallowed_hugepage_adjust(const TdpIter& it, int& goal_level) const;
    // Zaps the current SPTE of `it` (leaf or subtree); returns whether anything was present.
    bool zap_spte(TdpIter& it);
    void free_subtree(std::uint32_t table);
    void track_nx_split(std::uint32_t table);
    void untrack_nx_split(std::uint32_t table);
    bool zap_tracked_table(std::uint32_t table);
    void enable_dirty_logging(const Memslot& slot);
    void flush_remote_tlbs();

    HostMappingOracle& host_;
    TablePool pool_;
    std::uint32_t root_;
    MemslotSet slots_;
    std::size_t slot_hint_ = 0;
    NxSplitList nx_splits_;
    MmuStats stats_;
    bool nx_huge_pages_;
    bool nx_disabled_by_cap_ = false;
};

}  // namespace kvmemu::mmu
