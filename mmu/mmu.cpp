// Mmu: construction, NX policy, lookups and bookkeeping helpers.
#include "mmu/mmu.hpp"

namespace kvmemu::mmu {

Mmu::Mmu(HostMappingOracle& host, bool nx_huge_pages)
    : host_(host), root_(pool_.alloc_zeroed(kRootLevel, 0)), nx_huge_pages_(nx_huge_pages) {}

Mmu::~Mmu() = default;

bool Mmu::set_nx_huge_pages(bool on) {
    if (on == nx_huge_pages_) return false;
    nx_huge_pages_ = on;
    zap_all();
    return true;
}

std::optional<LeafInfo> Mmu::lookup(std::uint64_t gpa) const {
    const std::uint64_t gfn = gpa >> kPageShift;
    for (ConstTdpIter it(pool_, root_, gfn, gfn + 1); it.valid(); it.next()) {
        const std::uint64_t spte = it.old_spte();
        if (!is_shadow_present_pte(spte)) return std::nullopt;
        if (is_last_spte(spte, it.level())) {
            const std::uint64_t hva =
                (spte_to_pfn(spte) << kPageShift) + (gpa - (it.gfn() << kPageShift));
            return LeafInfo{spte, to_level(it.level()), it.gfn(), hva};
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> Mmu::gpa_to_hva(std::uint64_t gpa) const {
    const Memslot* slot = slots_.find(gpa >> kPageShift);
    if (slot == nullptr) return std::nullopt;
    return slot->gpa_to_hva(gpa);
}

std::vector<NxSplit> Mmu::nx_splits() const {
    std::vector<NxSplit> out;
    out.reserve(nx_splits_.size());
    nx_splits_.for_each([&](std::uint32_t id) {
        const TableMeta& m = pool_.meta(id);
        out.push_back(NxSplit{m.base_gfn, to_level(m.level + 1), id});
    });
    return out;
}

std::size_t Mmu::memory_bytes() const {
    return sizeof(*this) + pool_.memory_bytes() + nx_splits_.memory_bytes() +
           slots_.slots().capacity() * sizeof(Memslot);
}

// What remote_tlb_flush counts: one flush per MMU operation that removed or reduced a present
// mapping (zap of a range/all/slot, recovery pass, replacing a page table by a huge leaf,
// write-protecting for dirty logging), where KVM calls kvm_flush_remote_tlbs*(). Installing a
// leaf, adding permissions and splitting a huge leaf do not flush: KVM's TDP MMU splits without
// a flush because the split mapping translates identically. With no vCPUs to kick, every
// request is also a flush done, so both counters move together.
void Mmu::flush_remote_tlbs() {
    ++stats_.remote_tlb_flush_requests;
    ++stats_.remote_tlb_flush;
}

}  // namespace kvmemu::mmu
