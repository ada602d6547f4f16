// KVM_GET/SET_VCPU_EVENTS and KVM_GET/SET_DEBUGREGS, in the order of the kernel's checks.
#include "kvm/vcpu_events.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>

namespace kvmemu::kvm {

namespace u = uapi;

namespace {
constexpr std::uint8_t kNmiVector = 2;
constexpr std::uint32_t kKnownFlags = u::VCPUEVENT_VALID_NMI_PENDING |
                                      u::VCPUEVENT_VALID_SIPI_VECTOR | u::VCPUEVENT_VALID_SHADOW |
                                      u::VCPUEVENT_VALID_SMM | u::VCPUEVENT_VALID_PAYLOAD |
                                      u::VCPUEVENT_VALID_TRIPLE_FAULT;
}  // namespace

u::kvm_vcpu_events get_vcpu_events(const cpu::CpuState& cpu, const EventState& ev) {
    u::kvm_vcpu_events out{};  // zeroed, reserved bytes included
    // KVM_INTERRUPT queues an interrupt KVM reports as injected (kvm_queue_interrupt()).
    if (cpu.pending_irq >= 0) {
        out.interrupt.injected = 1;
        out.interrupt.nr = static_cast<std::uint8_t>(cpu.pending_irq);
    }
    out.interrupt.shadow = cpu.irq_shadow ? 1 : 0;  // KVM_X86_SHADOW_INT_MOV_SS|STI collapse
    out.nmi.masked = ev.nmi_masked ? 1 : 0;
    out.sipi_vector = ev.sipi_vector;
    // The flags a kernel without exception payloads or triple-fault events enabled reports.
    out.flags = u::VCPUEVENT_VALID_NMI_PENDING | u::VCPUEVENT_VALID_SHADOW | u::VCPUEVENT_VALID_SMM;
    return out;
}

int set_vcpu_events(const u::kvm_vcpu_events& in, bool has_lapic, cpu::CpuState& cpu,
                    EventState& ev) {
    if ((in.flags & ~kKnownFlags) != 0) return -EINVAL;
    // KVM_CAP_EXCEPTION_PAYLOAD cannot be enabled here: the payload flag is refused, and without
    // it a "pending" exception is dropped by the kernel.
    if ((in.flags & u::VCPUEVENT_VALID_PAYLOAD) != 0) return -EINVAL;
    if (in.exception.injected != 0 && (in.exception.nr > 31 || in.exception.nr == kNmiVector))
        return -EINVAL;
    // No SMM (KVM_CAP_X86_SMM is 0): entering or requesting it is refused, as by a kernel built
    // without CONFIG_KVM_SMM.
    if ((in.flags & u::VCPUEVENT_VALID_SMM) != 0 &&
        (in.smi.smm != 0 || in.smi.pending != 0 || in.smi.smm_inside_nmi != 0))
        return -EINVAL;
    // KVM_CAP_X86_TRIPLE_FAULT_EVENT cannot be enabled here.
    if ((in.flags & u::VCPUEVENT_VALID_TRIPLE_FAULT) != 0) return -EINVAL;
    // What the engine cannot deliver is refused rather than dropped.
    const bool nmi = in.nmi.injected != 0 ||
                     ((in.flags & u::VCPUEVENT_VALID_NMI_PENDING) != 0 && in.nmi.pending != 0);
    if (in.exception.injected != 0 || (in.interrupt.injected != 0 && in.interrupt.soft != 0) ||
        nmi) {
        spdlog::debug(
            "KVM_SET_VCPU_EVENTS: refused (EINVAL): {} not modelled",
            in.exception.injected != 0 ? "exception injection"
            : nmi                      ? "NMI injection"
                                       : "soft interrupt re-injection");
        return -EINVAL;
    }

    cpu.pending_irq = in.interrupt.injected != 0 ? in.interrupt.nr : -1;
    if ((in.flags & u::VCPUEVENT_VALID_SHADOW) != 0) cpu.irq_shadow = in.interrupt.shadow != 0;
    ev.nmi_masked = in.nmi.masked != 0;
    if ((in.flags & u::VCPUEVENT_VALID_SIPI_VECTOR) != 0 && has_lapic) ev.sipi_vector = in.sipi_vector;
    return 0;
}

u::kvm_debugregs get_debugregs(const EventState& ev) {
    u::kvm_debugregs out{};
    for (std::size_t i = 0; i < ev.db.size(); ++i) out.db[i] = ev.db[i];
    out.dr6 = ev.dr6;
    out.dr7 = ev.dr7;
    return out;
}

int set_debugregs(const u::kvm_debugregs& in, EventState& ev) {
    // kvm_vcpu_ioctl_x86_set_debugregs(): no flags; kvm_dr6_valid()/kvm_dr7_valid().
    if (in.flags != 0 || (in.dr6 >> 32) != 0 || (in.dr7 >> 32) != 0) return -EINVAL;
    for (std::size_t i = 0; i < ev.db.size(); ++i) ev.db[i] = in.db[i];
    ev.dr6 = in.dr6;
    ev.dr7 = in.dr7;
    return 0;
}

}  // namespace kvmemu::kvm
