// Lapic: register state of arch/x86/kvm/lapic.c, without interrupt delivery.
#include "kvm/lapic.hpp"

#include <cstring>

namespace kvmemu::kvm {

namespace {
constexpr std::uint32_t kLvtMasked = 1U << 16;
constexpr std::uint32_t kDeliveryExtInt = 0x7U << 8;
// APIC_VERSION (0x14) with KVM_APIC_MAX_NR_LVT_ENTRIES - 1 = 5 in bits 23:16.
constexpr std::uint32_t kVersionValue = 0x14 | (5U << 16);
}  // namespace

Lapic::Lapic(std::uint32_t vcpu_id, bool bsp) {
    set_reg(kId, vcpu_id << 24);
    set_reg(kVersion, kVersionValue);
    set_reg(kDestFormat, 0xffffffffU);
    set_reg(kSpuriousVector, 0xff);
    for (auto lvt : {kLvtTimer, kLvtThermal, kLvtPerfCounter, kLvtLint0, kLvtLint1, kLvtError})
        set_reg(lvt, kLvtMasked);
    if (bsp) set_reg(kLvtLint0, kDeliveryExtInt);
}

std::uint32_t Lapic::reg(std::uint32_t offset) const { return regs_[offset / 4]; }

void Lapic::set_reg(std::uint32_t offset, std::uint32_t v) { regs_[offset / 4] = v; }

void Lapic::update_ppr() {
    // apic_update_ppr(): the TPR, unless the highest in-service vector's class is above it.
    std::uint32_t isrv = 0;
    for (int i = 7; i >= 0 && isrv == 0; --i) {
        const std::uint32_t word = reg(kInService + static_cast<std::uint32_t>(i) * 0x10);
        if (word != 0)
            isrv = static_cast<std::uint32_t>(i) * 32 + (31U - static_cast<std::uint32_t>(__builtin_clz(word)));
    }
    const std::uint32_t tpr = reg(kTaskPriority);
    set_reg(kProcessorPriority, (tpr & 0xf0) >= (isrv & 0xf0) ? (tpr & 0xff) : (isrv & 0xf0));
}

uapi::kvm_lapic_state Lapic::get(std::uint64_t cr8) const {
    Lapic copy = *this;
    // CR8 is TPR[7:4]; a CR8 write since the last KVM_SET_LAPIC shows in the TPR.
    if ((copy.reg(kTaskPriority) >> 4) != (cr8 & 0xf)) {
        copy.set_reg(kTaskPriority, static_cast<std::uint32_t>((cr8 & 0xf) << 4));
        copy.update_ppr();
    }
    uapi::kvm_lapic_state out{};
    std::memcpy(out.regs, copy.regs_.data(), sizeof(out.regs));
    return out;
}

std::uint64_t Lapic::set(const uapi::kvm_lapic_state& state) {
    const std::uint32_t version = reg(kVersion);
    std::memcpy(regs_.data(), state.regs, sizeof(state.regs));
    set_reg(kVersion, version);  // kvm_apic_set_version(): KVM's own value
    update_ppr();
    return (reg(kTaskPriority) >> 4) & 0xf;
}

}  // namespace kvmemu::kvm
