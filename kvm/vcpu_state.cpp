// Field-by-field conversions of CpuState to and from kvm_regs, kvm_sregs and kvm_fpu.
#include "kvm/vcpu_state.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace kvmemu::kvm {

namespace u = uapi;
using namespace cpu;

uapi::kvm_regs to_kvm_regs(const CpuState& s) {
    u::kvm_regs r{};
    r.rax = s.gpr[RAX];
    r.rbx = s.gpr[RBX];
    r.rcx = s.gpr[RCX];
    r.rdx = s.gpr[RDX];
    r.rsi = s.gpr[RSI];
    r.rdi = s.gpr[RDI];
    r.rsp = s.gpr[RSP];
    r.rbp = s.gpr[RBP];
    r.r8 = s.gpr[R8];
    r.r9 = s.gpr[R9];
    r.r10 = s.gpr[R10];
    r.r11 = s.gpr[R11];
    r.r12 = s.gpr[R12];
    r.r13 = s.gpr[R13];
    r.r14 = s.gpr[R14];
    r.r15 = s.gpr[R15];
    r.rip = s.rip;
    r.rflags = s.rflags;
    return r;
}

void from_kvm_regs(const u::kvm_regs& r, CpuState& s) {
    s.gpr[RAX] = r.rax;
    s.gpr[RBX] = r.rbx;
    s.gpr[RCX] = r.rcx;
    s.gpr[RDX] = r.rdx;
    s.gpr[RSI] = r.rsi;
    s.gpr[RDI] = r.rdi;
    s.gpr[RSP] = r.rsp;
    s.gpr[RBP] = r.rbp;
    s.gpr[R8] = r.r8;
    s.gpr[R9] = r.r9;
    s.gpr[R10] = r.r10;
    s.gpr[R11] = r.r11;
    s.gpr[R12] = r.r12;
    s.gpr[R13] = r.r13;
    s.gpr[R14] = r.r14;
    s.gpr[R15] = r.r15;
    s.rip = r.rip;
    s.rflags = r.rflags | fl::FIXED1;  // KVM forces the reserved bit 1
}

namespace {

u::kvm_segment to_kvm(const Segment& g) {
    u::kvm_segment k{};
    k.base = g.base;
    k.limit = g.limit;
    k.selector = g.selector;
    k.type = g.type;
    k.present = g.present;
    k.dpl = g.dpl;
    k.db = g.db;
    k.s = g.s;
    k.l = g.l;
    k.g = g.g;
    k.avl = g.avl;
    k.unusable = g.unusable;
    return k;
}

Segment from_kvm(const u::kvm_segment& k) {
    Segment g;
    g.base = k.base;
    g.limit = k.limit;
    g.selector = k.selector;
    g.type = k.type;
    g.present = k.present;
    g.dpl = k.dpl;
    g.db = k.db;
    g.s = k.s;
    g.l = k.l;
    g.g = k.g;
    g.avl = k.avl;
    g.unusable = k.unusable;
    return g;
}

}  // namespace

uapi::kvm_sregs to_kvm_sregs(const CpuState& s) {
    u::kvm_sregs r{};
    r.cs = to_kvm(s.seg[CS]);
    r.ds = to_kvm(s.seg[DS]);
    r.es = to_kvm(s.seg[ES]);
    r.fs = to_kvm(s.seg[FS]);
    r.gs = to_kvm(s.seg[GS]);
    r.ss = to_kvm(s.seg[SS]);
    r.tr = to_kvm(s.tr);
    r.ldt = to_kvm(s.ldt);
    r.gdt.base = s.gdt.base;
    r.gdt.limit = s.gdt.limit;
    r.idt.base = s.idt.base;
    r.idt.limit = s.idt.limit;
    r.cr0 = s.cr0;
    r.cr2 = s.cr2;
    r.cr3 = s.cr3;
    r.cr4 = s.cr4;
    r.cr8 = s.cr8;
    r.efer = s.efer;
    r.apic_base = s.apic_base;
    // A vector queued by KVM_INTERRUPT and not yet delivered shows in interrupt_bitmap.
    if (s.pending_irq >= 0 && s.pending_irq < 256)
        r.interrupt_bitmap[s.pending_irq / 64] |= 1ULL << (s.pending_irq % 64);
    return r;
}

void from_kvm_sregs(const u::kvm_sregs& r, CpuState& s) {
    s.seg[CS] = from_kvm(r.cs);
    s.seg[DS] = from_kvm(r.ds);
    s.seg[ES] = from_kvm(r.es);
    s.seg[FS] = from_kvm(r.fs);
    s.seg[GS] = from_kvm(r.gs);
    s.seg[SS] = from_kvm(r.ss);
    s.tr = from_kvm(r.tr);
    s.ldt = from_kvm(r.ldt);
    s.gdt = {r.gdt.base, r.gdt.limit};
    s.idt = {r.idt.base, r.idt.limit};
    s.cr0 = r.cr0;
    s.cr2 = r.cr2;
    s.cr3 = r.cr3;
    s.cr4 = r.cr4;
    s.cr8 = r.cr8;
    s.efer = r.efer;
    s.apic_base = r.apic_base;
    s.pending_irq = -1;
    for (int i = 0; i < 256; ++i)
        if ((r.interrupt_bitmap[i / 64] >> (i % 64)) & 1) {
            s.pending_irq = i;
            break;
        }
}

uapi::kvm_fpu to_kvm_fpu(const CpuState& s) {
    u::kvm_fpu f{};
    for (int i = 0; i < 8; ++i) std::memcpy(f.fpr[i], s.fx.st[i].data(), 16);
    f.fcw = s.fx.fcw;
    f.fsw = s.fx.fsw;
    f.ftwx = s.fx.ftw;
    f.last_opcode = s.fx.fop;
    f.last_ip = s.fx.fip;
    f.last_dp = s.fx.fdp;
    for (int i = 0; i < 16; ++i) std::memcpy(f.xmm[i], s.fx.xmm[i].data(), 16);
    f.mxcsr = s.fx.mxcsr;
    return f;
}

void from_kvm_fpu(const u::kvm_fpu& f, CpuState& s) {
    for (int i = 0; i < 8; ++i) std::memcpy(s.fx.st[i].data(), f.fpr[i], 16);
    s.fx.fcw = f.fcw;
    s.fx.fsw = f.fsw;
    s.fx.ftw = f.ftwx;
    s.fx.fop = f.last_opcode;
    s.fx.fip = f.last_ip;
    s.fx.fdp = f.last_dp;
    for (int i = 0; i < 16; ++i) std::memcpy(s.fx.xmm[i].data(), f.xmm[i], 16);
    s.fx.mxcsr = f.mxcsr;
}

namespace {
constexpr std::size_t kXsaveHeader = 512;                 // XSTATE_BV, then XCOMP_BV, then reserved
constexpr std::size_t kFpPart = 160;                      // FCW .. ST7: the x87 component
constexpr std::size_t kSsePart = 256;                     // XMM0-15, at offset 160
constexpr std::uint32_t kMxcsrFeatureMask = 0xffff;       // with DAZ, as on every x86-64 host
constexpr std::uint32_t kMxcsrInit = 0x1f80;

bool x87_is_init(const cpu::FxState& fx) {
    if (fx.fcw != 0x37f || fx.fsw != 0 || fx.ftw != 0 || fx.fop != 0 || fx.fip != 0 || fx.fdp != 0)
        return false;
    for (const auto& r : fx.st)
        for (auto b : r)
            if (b != 0) return false;
    return true;
}

bool sse_is_init(const cpu::FxState& fx) {
    if (fx.mxcsr != kMxcsrInit) return false;
    for (const auto& r : fx.xmm)
        for (auto b : r)
            if (b != 0) return false;
    return true;
}
}  // namespace

void load_init_components(cpu::CpuState& s, std::uint64_t xinuse) {
    const cpu::FxState init{};
    auto* fx = reinterpret_cast<unsigned char*>(&s.fx);
    const auto* in = reinterpret_cast<const unsigned char*>(&init);
    if ((xinuse & kXsaveFp) == 0) {
        const std::uint32_t mxcsr = s.fx.mxcsr;
        std::memcpy(fx, in, kFpPart);
        s.fx.mxcsr = mxcsr;  // MXCSR belongs to SSE for this purpose
        s.fx.mxcsr_mask = kMxcsrFeatureMask;
    }
    if ((xinuse & kXsaveSse) == 0) {
        std::memcpy(fx + kFpPart, in + kFpPart, kSsePart);
        s.fx.mxcsr = kMxcsrInit;
    }
}

std::uint64_t components_in_use(const cpu::CpuState& s) {
    return (x87_is_init(s.fx) ? 0 : kXsaveFp) | (sse_is_init(s.fx) ? 0 : kXsaveSse);
}

u::kvm_xsave to_kvm_xsave(const CpuState& s, std::uint64_t xinuse) {
    CpuState shown = s;
    load_init_components(shown, xinuse);
    u::kvm_xsave x{};
    auto* bytes = reinterpret_cast<unsigned char*>(x.region);
    std::memcpy(bytes, &shown.fx, sizeof shown.fx);
    std::memset(bytes + 464, 0, 48);  // the FXSAVE area's bytes software may use: not state
    const std::uint64_t bv = xinuse & kXsaveModelled;
    std::memcpy(bytes + kXsaveHeader, &bv, sizeof bv);
    return x;
}

int from_kvm_xsave(const u::kvm_xsave& x, CpuState& s, std::uint64_t& xinuse) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(x.region);
    std::uint64_t bv = 0, xcomp = 0;
    std::memcpy(&bv, bytes + kXsaveHeader, sizeof bv);
    std::memcpy(&xcomp, bytes + kXsaveHeader + 8, sizeof xcomp);
    // validate_user_xstate_header()
    if ((bv & ~kXsaveModelled) != 0 || xcomp != 0) return -EINVAL;
    for (std::size_t i = kXsaveHeader + 16; i < kXsaveHeader + 64; ++i)
        if (bytes[i] != 0) return -EINVAL;
    std::uint32_t mxcsr = 0;
    std::memcpy(&mxcsr, bytes + offsetof(cpu::FxState, mxcsr), sizeof mxcsr);
    if (bv != 0 && (mxcsr & ~kMxcsrFeatureMask) != 0) return -EINVAL;

    auto* fx = reinterpret_cast<unsigned char*>(&s.fx);
    if ((bv & kXsaveFp) != 0) std::memcpy(fx, bytes, kFpPart);  // includes MXCSR
    if ((bv & kXsaveSse) != 0) {
        std::memcpy(fx + kFpPart, bytes + kFpPart, kSsePart);
        s.fx.mxcsr = mxcsr;  // SSE needs MXCSR even without FP
    }
    s.fx.mxcsr_mask = kMxcsrFeatureMask;
    load_init_components(s, bv);
    xinuse = bv;
    return 0;
}

std::vector<CpuidEntry> to_cpuid_table(std::span<const u::kvm_cpuid_entry2> entries) {
    std::vector<CpuidEntry> table;
    table.reserve(entries.size());
    for (const auto& e : entries) table.push_back({e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx});
    return table;
}

}  // namespace kvmemu::kvm
