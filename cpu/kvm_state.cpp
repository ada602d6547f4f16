// CpuState <-> KVM uapi structure conversions (field by field; no ioctls here).
#include "cpu/kvm_state.hpp"

#include <cstring>

namespace kvmemu::cpu {
namespace {

// kvm_regs order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15.
constexpr unsigned kKvmOrder[16] = {RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP,
                                    R8,  R9,  R10, R11, R12, R13, R14, R15};

void seg_out(const Segment& s, kvm_segment& k) {
    k = kvm_segment{};
    k.base = s.base;
    k.limit = s.limit;
    k.selector = s.selector;
    k.type = s.type;
    k.present = s.present;
    k.dpl = s.dpl;
    k.db = s.db;
    k.s = s.s;
    k.l = s.l;
    k.g = s.g;
    k.avl = s.avl;
    k.unusable = s.unusable;
}

void seg_in(const kvm_segment& k, Segment& s) {
    s.base = k.base;
    s.limit = k.limit;
    s.selector = k.selector;
    s.type = k.type;
    s.present = k.present;
    s.dpl = k.dpl;
    s.db = k.db;
    s.s = k.s;
    s.l = k.l;
    s.g = k.g;
    s.avl = k.avl;
    s.unusable = k.unusable;
}

}  // namespace

void to_kvm(const CpuState& s, kvm_regs& r) {
    __u64* const out[16] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp, &r.rbp,
                            &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
    for (unsigned k = 0; k < 16; ++k) *out[k] = s.gpr[kKvmOrder[k]];
    r.rip = s.rip;
    r.rflags = s.rflags;
}

void from_kvm(const kvm_regs& r, CpuState& s) {
    const __u64* const in[16] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp, &r.rbp,
                                 &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
    for (unsigned k = 0; k < 16; ++k) s.gpr[kKvmOrder[k]] = *in[k];
    s.rip = r.rip;
    s.rflags = r.rflags | fl::FIXED1;
}

void to_kvm(const CpuState& s, kvm_sregs& r) {
    r = kvm_sregs{};
    seg_out(s.seg[CS], r.cs);
    seg_out(s.seg[DS], r.ds);
    seg_out(s.seg[ES], r.es);
    seg_out(s.seg[FS], r.fs);
    seg_out(s.seg[GS], r.gs);
    seg_out(s.seg[SS], r.ss);
    seg_out(s.tr, r.tr);
    seg_out(s.ldt, r.ldt);
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
    if (s.pending_irq >= 0 && s.pending_irq < 256)
        r.interrupt_bitmap[s.pending_irq / 64] |= 1ULL << (s.pending_irq % 64);
}

void from_kvm(const kvm_sregs& r, CpuState& s) {
    seg_in(r.cs, s.seg[CS]);
    seg_in(r.ds, s.seg[DS]);
    seg_in(r.es, s.seg[ES]);
    seg_in(r.fs, s.seg[FS]);
    seg_in(r.gs, s.seg[GS]);
    seg_in(r.ss, s.seg[SS]);
    seg_in(r.tr, s.tr);
    seg_in(r.ldt, s.ldt);
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
    for (int k = 0; k < 256; ++k)
        if ((r.interrupt_bitmap[k / 64] >> (k % 64)) & 1) {
            s.pending_irq = k;
            break;
        }
}

void to_kvm(const CpuState& s, kvm_fpu& f) {
    f = kvm_fpu{};
    for (unsigned k = 0; k < 8; ++k) std::memcpy(f.fpr[k], s.fx.st[k].data(), 16);
    f.fcw = s.fx.fcw;
    f.fsw = s.fx.fsw;
    f.ftwx = s.fx.ftw;
    f.last_opcode = s.fx.fop;
    f.last_ip = s.fx.fip;
    f.last_dp = s.fx.fdp;
    for (unsigned k = 0; k < 16; ++k) std::memcpy(f.xmm[k], s.fx.xmm[k].data(), 16);
    f.mxcsr = s.fx.mxcsr;
}

void from_kvm(const kvm_fpu& f, CpuState& s) {
    for (unsigned k = 0; k < 8; ++k) std::memcpy(s.fx.st[k].data(), f.fpr[k], 16);
    s.fx.fcw = f.fcw;
    s.fx.fsw = f.fsw;
    s.fx.ftw = f.ftwx;
    s.fx.fop = f.last_opcode;
    s.fx.fip = f.last_ip;
    s.fx.fdp = f.last_dp;
    for (unsigned k = 0; k < 16; ++k) std::memcpy(s.fx.xmm[k].data(), f.xmm[k], 16);
    s.fx.mxcsr = f.mxcsr;
}

std::vector<CpuidEntry> from_kvm(std::span<const kvm_cpuid_entry2> entries) {
    std::vector<CpuidEntry> out;
    out.reserve(entries.size());
    for (const auto& e : entries) out.push_back({e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx});
    return out;
}

}  // namespace kvmemu::cpu
