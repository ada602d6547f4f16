// VmPhysBus::page(): MMU fault, then the VMM's page.
#include "kvm/vm_phys_bus.hpp"

#include "kvm/vm.hpp"

namespace kvmemu::kvm {

cpu::PhysPage VmPhysBus::page(std::uint64_t gpa, cpu::Access access) {
    const mmu::Access a = access == cpu::Access::Exec    ? mmu::Access::Exec
                          : access == cpu::Access::Write ? mmu::Access::Write
                                                         : mmu::Access::Read;
    // The VMM's page is touched first, as KVM faults the host page in (GUP) before it picks
    // the mapping level: a detecting host-level oracle then sees what is really there.
    const auto hva = vm_.gpa_to_hva(gpa);
    if (!hva) return {};  // no memslot: MMIO
    std::uint8_t* p = pages_.page(*hva, access == cpu::Access::Write);
    if (p == nullptr) {
        error_ = pages_.error();
        return {};
    }
    if (!vm_.fault(gpa, a).mapped()) return {};  // a write to a read-only memslot: MMIO
    return {p};
}

}  // namespace kvmemu::kvm
