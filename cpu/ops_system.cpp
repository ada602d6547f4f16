// System instructions: CPUID, RDMSR/WRMSR, RDTSC(P), MOV CRn/DRn/Sreg, descriptor tables, CLI/STI,
// PUSHF/POPF, IRETQ, HLT, INVLPG, SYSCALL/SYSRET, SWAPGS, INT n, IN/OUT/INS/OUTS, XGETBV.
#include <time.h>

#include <algorithm>

#include "cpu/internal/decode.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

// Ends the run after the current instruction retires (RIP = c.next_rip), without unwinding.
void request_exit(Core& c, ExitReason r) {
    c.result->reason = r;
    c.exit_pending = true;
    c.stop = true;
}

void cpuid(Core& c, const Insn&) {
    CpuState& s = *c.st;
    const CpuidResult r = c.eng->cpuid.lookup(static_cast<uint32_t>(s.gpr[RAX]), static_cast<uint32_t>(s.gpr[RCX]));
    s.gpr[RAX] = r.eax;
    s.gpr[RBX] = r.ebx;
    s.gpr[RCX] = r.ecx;
    s.gpr[RDX] = r.edx;
}

void rdmsr(Core& c, const Insn&) {
    require_cpl0(c);
    uint64_t v;
    if (!msr_read(c, static_cast<uint32_t>(c.st->gpr[RCX]), v)) raise(13, 0);
    c.st->gpr[RAX] = static_cast<uint32_t>(v);
    c.st->gpr[RDX] = v >> 32;
}

void wrmsr(Core& c, const Insn&) {
    require_cpl0(c);
    const uint64_t v = (c.st->gpr[RDX] << 32) | static_cast<uint32_t>(c.st->gpr[RAX]);
    if (!msr_write(c, static_cast<uint32_t>(c.st->gpr[RCX]), v)) raise(13, 0);
}

void rdtsc(Core& c, const Insn& i) {
    const uint64_t t = guest_tsc(c);
    c.st->gpr[RAX] = static_cast<uint32_t>(t);
    c.st->gpr[RDX] = t >> 32;
    if (i.aux == 1) c.st->gpr[RCX] = static_cast<uint32_t>(c.st->msrs.tsc_aux);
}

// MOV CRn: aux = CR number, cond = 1 for a write (r0 = GPR).
void mov_cr(Core& c, const Insn& i) {
    require_cpl0(c);
    CpuState& s = *c.st;
    if (i.cond == 0) {
        uint64_t v = 0;
        switch (i.aux) {
            case 0: v = s.cr0; break;
            case 2: v = s.cr2; break;
            case 3: v = s.cr3; break;
            case 4: v = s.cr4; break;
            case 8: v = s.cr8; break;
            default: raise(6);
        }
        s.gpr[i.r0] = v;
        return;
    }
    const uint64_t v = s.gpr[i.r0];
    switch (i.aux) {
        case 0: {
            if ((v >> 32) != 0) raise(13, 0);
            const uint64_t changed = (s.cr0 ^ v);
            s.cr0 = v | 0x10;
            if ((s.cr0 & (1u << 31)) != 0 && (s.efer & (1u << 8)) != 0) s.efer |= 1u << 10;
            else s.efer &= ~(1ULL << 10);
            if ((changed & ((1u << 31) | (1u << 16) | 1u)) != 0) {
                tlb_flush(c);
                c.eng->blocks.flush_jump_cache();
            }
            break;
        }
        case 2: s.cr2 = v; break;
        case 3:
            s.cr3 = v & ~(1ULL << 63);
            tlb_flush(c);
            c.eng->blocks.flush_jump_cache();
            break;
        case 4: {
            const uint64_t changed = s.cr4 ^ v;
            s.cr4 = v;
            if ((changed & ((1u << 4) | (1u << 5) | (1u << 7) | (1u << 17) | (1u << 20) | (1u << 21))) != 0) {
                tlb_flush(c);
                c.eng->blocks.flush_jump_cache();
            }
            break;
        }
        case 8: s.cr8 = v & 0xf; break;
        default: raise(6);
    }
}

void mov_dr(Core& c, const Insn& i) {
    require_cpl0(c);
    if (i.cond == 0) c.st->gpr[i.r0] = i.aux == 6 ? 0xffff0ff0 : (i.aux == 7 ? 0x400 : 0);
}

// LGDT/LIDT (aux 0/1), SGDT/SIDT (aux 2/3).
void dtable(Core& c, const Insn& i) {
    const uint64_t a = ea(c, i);
    DescTable& t = (i.aux & 1) != 0 ? c.st->idt : c.st->gdt;
    if (i.aux < 2) {
        require_cpl0(c);
        const uint16_t limit = rd<uint16_t>(c, a);
        const uint64_t base = rd<uint64_t>(c, a + 2);
        t.limit = limit;
        t.base = base;
    } else {
        wr<uint16_t>(c, a, t.limit);
        wr<uint64_t>(c, a + 2, t.base);
    }
}

// LTR (aux 0), LLDT (1): load base/limit from the GDT (16-byte system descriptor in long mode).
void load_sys_seg(Core& c, const Insn& i) {
    require_cpl0(c);
    const uint16_t sel = i.r0 != kNoReg ? static_cast<uint16_t>(c.st->gpr[i.r0]) : rd<uint16_t>(c, ea(c, i));
    Segment& s = i.aux == 0 ? c.st->tr : c.st->ldt;
    s.selector = sel;
    if ((sel & ~3u) == 0) {
        if (i.aux == 0) raise(13, 0);
        s.unusable = 1;
        return;
    }
    const uint64_t off = sel & ~7u;
    if (off + 15 > c.st->gdt.limit) raise(13, sel & ~3u);
    const uint64_t lo = rd<uint64_t>(c, c.st->gdt.base + off);
    const uint64_t hi = rd<uint64_t>(c, c.st->gdt.base + off + 8);
    s.limit = static_cast<uint32_t>((lo & 0xffff) | ((lo >> 32) & 0xf0000));
    s.base = ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000) | (hi << 32);
    s.type = (lo >> 40) & 0xf;
    s.present = (lo >> 47) & 1;
    s.g = (lo >> 55) & 1;
    if (s.g != 0) s.limit = (s.limit << 12) | 0xfff;
    s.unusable = 0;
    if (i.aux == 0) {
        s.type |= 2;  // busy
        const uint64_t da = c.st->gdt.base + off;
        wr<uint64_t>(c, da, lo | (2ULL << 40));
    }
}

// STR (aux 0) / SLDT (1).
void store_sys_seg(Core& c, const Insn& i) {
    const uint16_t v = i.aux == 0 ? c.st->tr.selector : c.st->ldt.selector;
    if (i.r0 != kNoReg) c.st->gpr[i.r0] = v;
    else wr<uint16_t>(c, ea(c, i), v);
}

bool io_allowed(const Core& c) { return cpl(*c.st) <= ((c.st->rflags >> 12) & 3); }

void cli(Core& c, const Insn&) {
    if (!io_allowed(c)) raise(13, 0);
    c.st->rflags &= ~fl::IF;
}

void sti(Core& c, const Insn&) {
    if (!io_allowed(c)) raise(13, 0);
    if ((c.st->rflags & fl::IF) == 0) c.st->irq_shadow = true;
    c.st->rflags |= fl::IF;
    c.stop = true;
}

void pushf(Core& c, const Insn& i) {
    const uint64_t v = c.st->rflags & ~(fl::RF | fl::VM);
    if (i.osz == 2) {
        const uint64_t sp = c.st->gpr[RSP] - 2;
        wr<uint16_t>(c, sp, static_cast<uint16_t>(v));
        c.st->gpr[RSP] = sp;
    } else {
        push64(c, v);
    }
}

void popf(Core& c, const Insn& i) {
    uint64_t v;
    if (i.osz == 2) {
        v = rd<uint16_t>(c, c.st->gpr[RSP]);
        c.st->gpr[RSP] += 2;
        v |= c.st->rflags & ~0xffffULL;
    } else {
        v = pop64(c);
    }
    uint64_t mask = fl::ARITH | fl::TF | fl::DF | fl::NT | fl::AC | fl::ID;
    const unsigned cp = cpl(*c.st);
    if (cp == 0) mask |= fl::IF | fl::IOPL;
    else if (cp <= ((c.st->rflags >> 12) & 3)) mask |= fl::IF;
    if (i.osz == 2) mask &= 0xffff;
    c.st->rflags = (c.st->rflags & ~mask) | (v & mask) | fl::FIXED1;
    c.stop = true;  // IF may have changed
}

void iretq(Core& c, const Insn& i) {
    if (i.osz != 8) raise(6);
    do_iret(c);
}

void hlt(Core& c, const Insn& i) {
    require_cpl0(c);
    (void)i;
    request_exit(c, ExitReason::Hlt);
}

void invlpg(Core& c, const Insn& i) {
    require_cpl0(c);
    tlb_flush_page(c, ea(c, i));
}

void nop_priv(Core& c, const Insn&) { require_cpl0(c); }

void swapgs(Core& c, const Insn&) {
    require_cpl0(c);
    std::swap(c.st->seg[GS].base, c.st->msrs.kernel_gs_base);
}

void syscall(Core& c, const Insn& i) {
    CpuState& s = *c.st;
    if ((s.efer & 1) == 0) raise(6);
    s.gpr[RCX] = s.rip + i.len;
    s.gpr[R11] = s.rflags & ~fl::RF;
    s.rflags &= ~(s.msrs.sfmask | fl::RF);
    s.rflags |= fl::FIXED1;
    const auto sel = static_cast<uint16_t>((s.msrs.star >> 32) & 0xfffc);
    Segment& cs = s.seg[CS];
    cs.selector = sel; cs.base = 0; cs.limit = 0xffffffff; cs.type = 0xb; cs.s = 1; cs.dpl = 0;
    cs.present = 1; cs.l = 1; cs.db = 0; cs.g = 1; cs.unusable = 0;
    Segment& ss = s.seg[SS];
    ss.selector = static_cast<uint16_t>(sel + 8); ss.base = 0; ss.limit = 0xffffffff; ss.type = 3; ss.s = 1;
    ss.dpl = 0; ss.present = 1; ss.db = 1; ss.g = 1; ss.unusable = 0;
    c.next_rip = s.msrs.lstar;
    load_cs_ss_for_cpl(c);
}

void sysret(Core& c, const Insn& i) {
    CpuState& s = *c.st;
    if ((s.efer & 1) == 0) raise(6);
    require_cpl0(c);
    const auto base = static_cast<uint16_t>((s.msrs.star >> 48) & 0xffff);
    Segment& cs = s.seg[CS];
    if (i.osz == 8) {
        cs.selector = static_cast<uint16_t>((base + 16) | 3);
        cs.l = 1; cs.db = 0;
        c.next_rip = s.gpr[RCX];
    } else {
        cs.selector = static_cast<uint16_t>(base | 3);
        cs.l = 0; cs.db = 1;
        c.next_rip = static_cast<uint32_t>(s.gpr[RCX]);
    }
    cs.dpl = 3; cs.type = 0xb; cs.present = 1; cs.s = 1; cs.g = 1; cs.base = 0; cs.limit = 0xffffffff;
    Segment& ss = s.seg[SS];
    ss.selector = static_cast<uint16_t>((base + 8) | 3);
    ss.dpl = 3; ss.type = 3; ss.present = 1; ss.s = 1; ss.db = 1; ss.g = 1; ss.base = 0; ss.limit = 0xffffffff;
    s.rflags = (s.gpr[R11] & 0x3c7fd7ULL) | fl::FIXED1;
    load_cs_ss_for_cpl(c);
}

// INT n (aux 0, vector in imm), INT3 (aux 1), INT1 (aux 2).
void int_n(Core& c, const Insn& i) {
    const uint8_t vec = i.aux == 1 ? 3 : (i.aux == 2 ? 1 : static_cast<uint8_t>(i.imm));
    deliver_event(c, vec, false, 0, i.aux == 0, c.st->rip + i.len);
    c.next_rip = c.st->rip;
}

void ud(Core&, const Insn&) { raise(6); }

// MOV Sreg, r/m (cond 1) or MOV r/m, Sreg (cond 0); aux = segment index.
void mov_sreg(Core& c, const Insn& i) {
    if (i.cond == 0) {
        const uint16_t v = c.st->seg[i.aux].selector;
        if (i.r0 != kNoReg) setr<uint64_t>(c, i.r0, v);  // zero-extended for 32/64-bit dests
        else wr<uint16_t>(c, ea(c, i), v);
        return;
    }
    if (i.aux == CS) raise(6);
    const uint16_t v = i.r1 != kNoReg ? static_cast<uint16_t>(c.st->gpr[i.r1]) : rd<uint16_t>(c, ea(c, i));
    Segment& s = c.st->seg[i.aux];
    const uint64_t keep_base = s.base;
    s.selector = v;
    if ((v & ~3u) == 0) {
        s.unusable = i.aux == SS ? s.unusable : 1;
    } else {
        const uint64_t off = v & ~7u;
        if (off + 7 > c.st->gdt.limit) raise(13, v & ~3u);
        const uint64_t d = rd<uint64_t>(c, c.st->gdt.base + off);
        s.type = (d >> 40) & 0xf; s.s = (d >> 44) & 1; s.dpl = (d >> 45) & 3; s.present = (d >> 47) & 1;
        s.db = (d >> 54) & 1; s.g = (d >> 55) & 1; s.l = (d >> 53) & 1; s.unusable = 0;
        s.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
        s.limit = static_cast<uint32_t>((d & 0xffff) | ((d >> 32) & 0xf0000));
        if (s.g != 0) s.limit = (s.limit << 12) | 0xfff;
    }
    if (i.aux == FS || i.aux == GS) {
        if ((v & ~3u) == 0) s.base = keep_base;
    }
    if (i.aux == SS) {
        c.st->irq_shadow = true;
        c.stop = true;
    }
}

// POP to FS/GS/SS/DS/ES is rare in 64-bit code; unsupported.

void xgetbv(Core& c, const Insn&) {
    if ((c.st->cr4 & (1u << 18)) == 0) raise(6);
    if (static_cast<uint32_t>(c.st->gpr[RCX]) != 0) raise(13, 0);
    c.st->gpr[RAX] = static_cast<uint32_t>(c.st->xcr0);
    c.st->gpr[RDX] = c.st->xcr0 >> 32;
}

void xsetbv(Core& c, const Insn&) {
    require_cpl0(c);
    if ((c.st->cr4 & (1u << 18)) == 0) raise(6);
    const uint64_t v = (c.st->gpr[RDX] << 32) | static_cast<uint32_t>(c.st->gpr[RAX]);
    if (static_cast<uint32_t>(c.st->gpr[RCX]) != 0 || (v & 1) == 0 || (v & ~3ULL) != 0) raise(13, 0);
    c.st->xcr0 = v;
}

// ---- port I/O ----
// IN/OUT: aux bit 0 = in, imm = port if aux bit 1 set (imm8 form) else DX.
void io(Core& c, const Insn& i) {
    if (!io_allowed(c)) raise(13, 0);
    const auto port = static_cast<uint16_t>((i.aux & 2) != 0 ? i.imm : c.st->gpr[RDX]);
    IoExit& e = c.result->io;
    e = IoExit{};
    e.port = port;
    e.size = i.osz;
    e.count = 1;
    e.is_in = (i.aux & 1) != 0;
    if (e.is_in) {
        c.eng->pending_in = PendingIn{true, false, false, i.osz, c.st->rip + i.len, 1, 8, 0};
        c.next_rip = c.st->rip;  // completed by the next run()
    } else {
        const uint64_t v = c.st->gpr[RAX];
        std::memcpy(e.data.data(), &v, i.osz);
    }
    request_exit(c, ExitReason::Io);
}

// INS (aux 1) / OUTS (aux 0), one element per exit.
void io_string(Core& c, const Insn& i) {
    if (!io_allowed(c)) raise(13, 0);
    CpuState& s = *c.st;
    const auto mask = [&](uint64_t v) { return i.asz == 4 ? static_cast<uint32_t>(v) : v; };
    if (i.rep != 0 && mask(s.gpr[RCX]) == 0) return;
    const int64_t step = (s.rflags & fl::DF) != 0 ? -static_cast<int64_t>(i.osz) : i.osz;
    IoExit& e = c.result->io;
    e = IoExit{};
    e.port = static_cast<uint16_t>(s.gpr[RDX]);
    e.size = i.osz;
    e.count = 1;
    e.is_in = i.aux == 1;
    const bool last = i.rep == 0 || mask(s.gpr[RCX]) == 1;
    const uint64_t next = last ? s.rip + i.len : s.rip;
    if (e.is_in) {
        const uint64_t rdi = mask(s.gpr[RDI]);
        (void)translate(c, rdi, Access::Write);  // fault now, not at completion
        if (i.rep != 0) {
            // pio_in_emulated(): min3(bytes to the page boundary (below RDI with DF), the
            // read-ahead buffer's elements, RCX), at least 1.
            const uint64_t off = rdi & 0xfff;
            const uint64_t in_page = (s.rflags & fl::DF) != 0 ? off : 0x1000 - off;
            uint64_t n = std::min<uint64_t>({in_page, kMaxPioInBytes / i.osz, mask(s.gpr[RCX])});
            if (n == 0) n = 1;
            e.count = static_cast<uint32_t>(n);
        }
        c.eng->pending_in = PendingIn{true, true, i.rep != 0, i.osz, s.rip + i.len, e.count, i.asz, s.rip};
        c.next_rip = s.rip;
    } else {
        uint64_t a = mask(s.gpr[RSI]);
        if (i.seg != kNoSeg) a += seg_base(c, i.seg);
        read_slow(c, a, e.data.data(), i.osz, Access::Read);
        s.gpr[RSI] = mask(s.gpr[RSI] + step);
        if (i.rep != 0) s.gpr[RCX] = mask(s.gpr[RCX] - 1);
        c.next_rip = next;
    }
    request_exit(c, ExitReason::Io);
}

Form reg_or_mem(const DecodeCtx& x, unsigned k) { return x.form[k]; }

}  // namespace

// Completes an IN / INS after the daemon supplied the data.
void complete_in(Core& c, const PendingIn& p, const uint8_t* data) {
    CpuState& s = *c.st;
    uint64_t v = 0;
    std::memcpy(&v, data, p.size);
    if (!p.string) {
        if (p.size == 1) setr<uint8_t>(c, RAX, static_cast<uint8_t>(v));
        else if (p.size == 2) setr<uint16_t>(c, RAX, static_cast<uint16_t>(v));
        else s.gpr[RAX] = static_cast<uint32_t>(v);
        s.rip = p.next_rip;
        return;
    }
    const auto mask = [&](uint64_t x) { return p.asz == 4 ? static_cast<uint32_t>(x) : x; };
    const int64_t step = (s.rflags & fl::DF) != 0 ? -static_cast<int64_t>(p.size) : p.size;
    // The VMM may have changed RCX meanwhile (KVM_SET_REGS): never store more than it asks for.
    const uint64_t n = p.rep ? std::min<uint64_t>(p.count, mask(s.gpr[RCX])) : 1;
    for (uint64_t k = 0; k < n; ++k) {
        write_slow(c, mask(s.gpr[RDI]), data + k * p.size, p.size);
        s.gpr[RDI] = mask(s.gpr[RDI] + static_cast<uint64_t>(step));
        if (p.rep) s.gpr[RCX] = mask(s.gpr[RCX] - 1);
    }
    s.rip = (p.rep && mask(s.gpr[RCX]) != 0) ? p.insn_rip : p.next_rip;
}

bool lower_system(DecodeCtx& x) {
    Insn& o = x.out;
    const auto m = x.d.mnemonic;
    switch (m) {
        case ZYDIS_MNEMONIC_CPUID: o.fn = &cpuid; break;
        case ZYDIS_MNEMONIC_RDMSR: o.fn = &rdmsr; break;
        case ZYDIS_MNEMONIC_WRMSR: o.fn = &wrmsr; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_RDTSC: o.aux = 0; o.fn = &rdtsc; break;
        case ZYDIS_MNEMONIC_RDTSCP: o.aux = 1; o.fn = &rdtsc; break;
        case ZYDIS_MNEMONIC_MOV: {
            const auto c0 = x.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? ZydisRegisterGetClass(x.ops[0].reg.value)
                                                                        : ZYDIS_REGCLASS_INVALID;
            const auto c1 = x.ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER ? ZydisRegisterGetClass(x.ops[1].reg.value)
                                                                        : ZYDIS_REGCLASS_INVALID;
            if (c0 == ZYDIS_REGCLASS_CONTROL || c1 == ZYDIS_REGCLASS_CONTROL || c0 == ZYDIS_REGCLASS_DEBUG ||
                c1 == ZYDIS_REGCLASS_DEBUG) {
                const bool write = c0 == ZYDIS_REGCLASS_CONTROL || c0 == ZYDIS_REGCLASS_DEBUG;
                const ZydisRegister special = write ? x.ops[0].reg.value : x.ops[1].reg.value;
                const ZydisRegister gpr = write ? x.ops[1].reg.value : x.ops[0].reg.value;
                o.cond = write ? 1 : 0;
                o.r0 = static_cast<uint8_t>(ZydisRegisterGetId(gpr));
                o.aux = static_cast<uint8_t>(ZydisRegisterGetId(special));
                const bool is_cr = (write ? c0 : c1) == ZYDIS_REGCLASS_CONTROL;
                o.fn = is_cr ? &mov_cr : &mov_dr;
                x.ends_block = write;
                return true;
            }
            if (c0 == ZYDIS_REGCLASS_SEGMENT || c1 == ZYDIS_REGCLASS_SEGMENT) {
                const bool write = c0 == ZYDIS_REGCLASS_SEGMENT;
                const ZydisRegister sr = write ? x.ops[0].reg.value : x.ops[1].reg.value;
                static constexpr uint8_t map[] = {ES, CS, SS, DS, FS, GS};
                o.aux = map[(sr - ZYDIS_REGISTER_ES) % 6];
                o.cond = write ? 1 : 0;
                if (!write && x.form[0] == Form::M) o.r0 = kNoReg;
                if (write && x.form[1] == Form::M) o.r1 = kNoReg;
                o.fn = &mov_sreg;
                x.ends_block = write;
                return true;
            }
            return false;
        }
        case ZYDIS_MNEMONIC_LGDT: o.aux = 0; o.fn = &dtable; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_LIDT: o.aux = 1; o.fn = &dtable; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_SGDT: o.aux = 2; o.fn = &dtable; break;
        case ZYDIS_MNEMONIC_SIDT: o.aux = 3; o.fn = &dtable; break;
        case ZYDIS_MNEMONIC_LTR: o.aux = 0; o.fn = &load_sys_seg; if (reg_or_mem(x, 0) == Form::M) o.r0 = kNoReg; break;
        case ZYDIS_MNEMONIC_LLDT: o.aux = 1; o.fn = &load_sys_seg; if (reg_or_mem(x, 0) == Form::M) o.r0 = kNoReg; break;
        case ZYDIS_MNEMONIC_STR: o.aux = 0; o.fn = &store_sys_seg; if (reg_or_mem(x, 0) == Form::M) o.r0 = kNoReg; break;
        case ZYDIS_MNEMONIC_SLDT: o.aux = 1; o.fn = &store_sys_seg; if (reg_or_mem(x, 0) == Form::M) o.r0 = kNoReg; break;
        case ZYDIS_MNEMONIC_CLI: o.fn = &cli; break;
        case ZYDIS_MNEMONIC_STI: o.fn = &sti; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_PUSHFQ:
        case ZYDIS_MNEMONIC_PUSHF: o.fn = &pushf; break;
        case ZYDIS_MNEMONIC_POPFQ:
        case ZYDIS_MNEMONIC_POPF: o.fn = &popf; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_IRETQ:
        case ZYDIS_MNEMONIC_IRETD:
        case ZYDIS_MNEMONIC_IRET: o.fn = &iretq; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_HLT: o.fn = &hlt; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_INVLPG: o.fn = &invlpg; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_WBINVD:
        case ZYDIS_MNEMONIC_INVD: o.fn = &nop_priv; break;
        case ZYDIS_MNEMONIC_SWAPGS: o.fn = &swapgs; break;
        case ZYDIS_MNEMONIC_SYSCALL: o.fn = &syscall; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_SYSRET: o.fn = &sysret; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_INT: o.aux = 0; o.fn = &int_n; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_INT3: o.aux = 1; o.fn = &int_n; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_INT1: o.aux = 2; o.fn = &int_n; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_UD0:
        case ZYDIS_MNEMONIC_UD1:
        case ZYDIS_MNEMONIC_UD2: o.fn = &ud; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_XGETBV: o.fn = &xgetbv; break;
        case ZYDIS_MNEMONIC_XSETBV: o.fn = &xsetbv; x.ends_block = true; break;
        case ZYDIS_MNEMONIC_IN:
        case ZYDIS_MNEMONIC_OUT: {
            const bool in = m == ZYDIS_MNEMONIC_IN;
            const ZydisDecodedOperand& data = in ? x.ops[0] : x.ops[1];
            const ZydisDecodedOperand& port = in ? x.ops[1] : x.ops[0];
            o.osz = static_cast<uint8_t>(data.size / 8);
            o.aux = static_cast<uint8_t>((in ? 1 : 0) | (port.type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? 2 : 0));
            if (port.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) o.imm = static_cast<int64_t>(port.imm.value.u & 0xff);
            o.fn = &io;
            x.ends_block = true;
            break;
        }
        case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
        case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD: {
            const bool in = m == ZYDIS_MNEMONIC_INSB || m == ZYDIS_MNEMONIC_INSW || m == ZYDIS_MNEMONIC_INSD;
            o.aux = in ? 1 : 0;
            o.osz = (m == ZYDIS_MNEMONIC_INSB || m == ZYDIS_MNEMONIC_OUTSB) ? 1
                    : (m == ZYDIS_MNEMONIC_INSW || m == ZYDIS_MNEMONIC_OUTSW) ? 2 : 4;
            o.rep = (x.d.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) != 0 ? 1 : 0;
            o.fn = &io_string;
            x.ends_block = true;
            break;
        }
        default:
            return false;
    }
    return true;
}

}  // namespace kvmemu::cpu
