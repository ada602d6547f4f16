// VmPhysBus::page(): MMU fault, then the VMM's page.
#include "kvm/vm_phys_bus.hpp"

#include "kvm/vm.hpp"

namespace kvmemu::kvm {

cpu::PhysPage VmPhysBus::page(std::uint64_t gpa, cpu::Access access) {
    const mmu::Access a = access == cpu::Access::Exec    ? mmu::Access::Exec
                          : access == cpu::Access::Write ? mmu::Access::Write
                                                         : mmu::Access::Read;
    const auto f = vm_.fault(gpa, a);
    if (!f.mapped()) return {};  // no memslot, or a write to a read-only one: MMIO
    std::uint8_t* p = pages_.page(f.hva, access == cpu::Access::Write);
    if (p == nullptr) {
        error_ = pages_.error();
        return {};
    }
    return {p};
}

}  // namespace kvmemu::kvm
