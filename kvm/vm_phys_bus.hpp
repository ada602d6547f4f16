// VmPhysBus: guest-physical memory for the software vCPU: every page it touches is faulted
// through the VM's MMU (fetch -> exec fault, write -> write fault) and read through GuestPages.
#pragma once

#include "cpu/phys_bus.hpp"
#include "kvm/guest_pages.hpp"

namespace kvmemu::kvm {

class Vm;

class VmPhysBus final : public cpu::PhysBus {
public:
    VmPhysBus(Vm& vm, GuestPages& pages) : vm_(vm), pages_(pages) {}
    cpu::PhysPage page(std::uint64_t gpa, cpu::Access access) override;
    // Non-zero once the VMM's memory could not be reached (EFAULT, ESRCH): KVM_RUN fails then.
    [[nodiscard]] int error() const { return error_; }

private:
    Vm& vm_;
    GuestPages& pages_;
    int error_ = 0;
};

}  // namespace kvmemu::kvm
