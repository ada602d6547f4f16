// CpuState: the architectural state of one vCPU as plain data, laid out so the daemon can convert
// it to and from kvm_regs / kvm_sregs / kvm_fpu / kvm_msrs / kvm_mp_state field by field.
#pragma once

#include <array>
#include <cstdint>

namespace kvmemu::cpu {

enum Gpr : unsigned { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

// As struct kvm_segment.
struct Segment {
    uint64_t base = 0;
    uint32_t limit = 0xffff;
    uint16_t selector = 0;
    uint8_t type = 0, present = 1, dpl = 0, db = 0, s = 1, l = 0, g = 0, avl = 0, unusable = 0;
};

// As struct kvm_dtable.
struct DescTable {
    uint64_t base = 0;
    uint16_t limit = 0xffff;
};

enum SegIdx : unsigned { ES, CS, SS, DS, FS, GS };

// FXSAVE-format 512-byte area (Intel SDM Vol. 1 table 10-2); kvm_fpu maps onto the same fields.
struct alignas(16) FxState {
    uint16_t fcw = 0x37f;
    uint16_t fsw = 0;
    uint8_t ftw = 0;  // abridged tag word: bit i set = st(i) valid
    uint8_t reserved1 = 0;
    uint16_t fop = 0;
    uint64_t fip = 0;
    uint64_t fdp = 0;
    uint32_t mxcsr = 0x1f80;
    uint32_t mxcsr_mask = 0xffff;
    std::array<std::array<uint8_t, 16>, 8> st{};   // 80-bit values in the low 10 bytes
    std::array<std::array<uint8_t, 16>, 16> xmm{};
    std::array<uint8_t, 96> reserved2{};
};
static_assert(sizeof(FxState) == 512);

// Architectural MSR numbers the CPU model implements (see Msrs below and msr_list()).
namespace msr {
inline constexpr uint32_t TSC = 0x10;
inline constexpr uint32_t TSC_ADJUST = 0x3b;
inline constexpr uint32_t APIC_BASE = 0x1b;
inline constexpr uint32_t SYSENTER_CS = 0x174;
inline constexpr uint32_t SYSENTER_ESP = 0x175;
inline constexpr uint32_t SYSENTER_EIP = 0x176;
inline constexpr uint32_t MISC_ENABLE = 0x1a0;
inline constexpr uint32_t PAT = 0x277;
inline constexpr uint32_t EFER = 0xc0000080;
inline constexpr uint32_t STAR = 0xc0000081;
inline constexpr uint32_t LSTAR = 0xc0000082;
inline constexpr uint32_t CSTAR = 0xc0000083;
inline constexpr uint32_t SFMASK = 0xc0000084;
inline constexpr uint32_t FS_BASE = 0xc0000100;
inline constexpr uint32_t GS_BASE = 0xc0000101;
inline constexpr uint32_t KERNEL_GS_BASE = 0xc0000102;
inline constexpr uint32_t TSC_AUX = 0xc0000103;
}  // namespace msr

// MSR values that are not already held elsewhere in CpuState (EFER, APIC_BASE and FS/GS base live
// in their own fields; TSC is derived, see Engine).
struct Msrs {
    uint64_t star = 0, lstar = 0, cstar = 0, sfmask = 0, kernel_gs_base = 0, tsc_aux = 0;
    uint64_t tsc_adjust = 0;  // IA32_TSC_ADJUST: what the guest added to its TSC
    uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    uint64_t pat = 0x0007040600070406ULL;
    uint64_t misc_enable = 1;  // fast strings
};

// RFLAGS bits.
namespace fl {
inline constexpr uint64_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7,
                          TF = 1u << 8, IF = 1u << 9, DF = 1u << 10, OF = 1u << 11,
                          IOPL = 3u << 12, NT = 1u << 14, RF = 1u << 16, VM = 1u << 17,
                          AC = 1u << 18, ID = 1u << 21;
inline constexpr uint64_t ARITH = CF | PF | AF | ZF | SF | OF;
inline constexpr uint64_t FIXED1 = 1u << 1;
}  // namespace fl

struct CpuState {
    std::array<uint64_t, 16> gpr{};
    uint64_t rip = 0xfff0;
    uint64_t rflags = fl::FIXED1;

    std::array<Segment, 6> seg{};  // ES CS SS DS FS GS (FS/GS base = FS_BASE/GS_BASE MSRs)
    Segment tr{}, ldt{};
    DescTable gdt{}, idt{};
    uint64_t cr0 = 0x60000010, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0;
    uint64_t efer = 0;
    uint64_t apic_base = 0xfee00900;
    uint64_t xcr0 = 1;

    FxState fx{};
    Msrs msrs{};
    uint64_t tsc_offset = 0;  // guest TSC = scaled host time + tsc_offset (written by WRMSR TSC)

    // KVM_INTERRUPT: vector waiting for IF=1 (-1 = none). Consumed by run() when delivered.
    int32_t pending_irq = -1;
    // KVM_MP_STATE_HALTED (1) or RUNNABLE (0); a halted vCPU runs again once an IRQ is delivered.
    bool halted = false;
    // Interrupt shadow after STI / MOV SS (kvm_vcpu_events.interrupt.shadow).
    bool irq_shadow = false;
};

}  // namespace kvmemu::cpu
