// KVM_GET/SET_VCPU_EVENTS and KVM_GET/SET_DEBUGREGS: the kernel's validation, applied to the
// parts of the vCPU kvmemu models (the queued interrupt, the interrupt shadow, NMI masking, the
// SIPI vector, debug registers held for save/restore).
#pragma once

#include <array>
#include <cstdint>

#include "cpu/state.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::kvm {

// What the two ioctls carry that cpu::CpuState does not hold.
struct EventState {
    bool nmi_masked = false;
    std::uint32_t sipi_vector = 0;
    std::array<std::uint64_t, 4> db{};
    std::uint64_t dr6 = 0xffff0ff0;  // DR6_ACTIVE_LOW, as after reset
    std::uint64_t dr7 = 0x400;       // DR7_FIXED_1
};

uapi::kvm_vcpu_events get_vcpu_events(const cpu::CpuState& cpu, const EventState& ev);
// 0 or -errno (EINVAL as kvm_vcpu_ioctl_x86_set_vcpu_events() gives it, and for events kvmemu
// cannot deliver: an injected exception or soft interrupt, an NMI; these are refused whole).
int set_vcpu_events(const uapi::kvm_vcpu_events& in, bool has_lapic, cpu::CpuState& cpu,
                    EventState& ev);

uapi::kvm_debugregs get_debugregs(const EventState& ev);
// 0 or -EINVAL (flags set, or bits above 31 in DR6/DR7).
int set_debugregs(const uapi::kvm_debugregs& in, EventState& ev);

}  // namespace kvmemu::kvm
