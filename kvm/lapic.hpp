// Lapic: the register state of a vCPU's in-kernel local APIC (what KVM_CREATE_IRQCHIP gives every
// vCPU created after it): its reset values (kvm_lapic_reset()), KVM_GET_LAPIC / KVM_SET_LAPIC
// (kvm_apic_get_state() / kvm_apic_set_state()) and the TPR that CR8 mirrors.
// Interrupt delivery (timer, IPIs, the I/O APIC and PIC) is not modelled: see README.
#pragma once

#include <array>
#include <cstdint>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

class Lapic {
public:
    // Register offsets in the xAPIC page.
    static constexpr std::uint32_t kId = 0x20, kVersion = 0x30, kTaskPriority = 0x80,
                                   kProcessorPriority = 0xa0, kDestFormat = 0xe0,
                                   kSpuriousVector = 0xf0, kInService = 0x100, kLvtTimer = 0x320,
                                   kLvtThermal = 0x330, kLvtPerfCounter = 0x340, kLvtLint0 = 0x350,
                                   kLvtLint1 = 0x360, kLvtError = 0x370;

    // The state after reset of the APIC of vCPU `vcpu_id`; `bsp` gets LINT0 in ExtINT mode.
    Lapic(std::uint32_t vcpu_id, bool bsp);

    [[nodiscard]] std::uint32_t reg(std::uint32_t offset) const;

    // KVM_GET_LAPIC: the page as KVM reports it (TPR as CR8 last set it).
    [[nodiscard]] uapi::kvm_lapic_state get(std::uint64_t cr8) const;
    // KVM_SET_LAPIC: takes the page; the version register stays KVM's and the processor
    // priority is recomputed. Returns the CR8 value the new TPR implies.
    std::uint64_t set(const uapi::kvm_lapic_state& state);

private:
    void set_reg(std::uint32_t offset, std::uint32_t v);
    void update_ppr();

    std::array<std::uint32_t, uapi::APIC_REG_SIZE / 4> regs_{};
};

}  // namespace kvmemu::kvm
