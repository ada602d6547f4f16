// Event delivery through the guest's 64-bit IDT (interrupt/trap gates, TSS stack switch and IST),
// segment descriptor loads for CS/SS, and IRETQ.
#include "cpu/internal/core.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

// Loads a segment cache from the GDT. Lenient: an unreadable or out-of-limit descriptor keeps the
// current attributes (harnesses often set segment caches through SET_SREGS without a real GDT).
void load_segment(Core& c, Segment& s, uint16_t sel) {
    s.selector = sel;
    if ((sel & ~3u) == 0) {
        s.unusable = 1;
        s.dpl = sel & 3;
        return;
    }
    const uint64_t off = sel & ~7u;
    if (off + 7 > c.st->gdt.limit) {
        s.dpl = sel & 3;
        return;
    }
    uint64_t d;
    try {
        d = rd<uint64_t>(c, c.st->gdt.base + off);
    } catch (const GuestFault&) {
        s.dpl = sel & 3;
        return;
    }
    s.limit = static_cast<uint32_t>((d & 0xffff) | ((d >> 32) & 0xf0000));
    s.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
    s.type = (d >> 40) & 0xf;
    s.s = (d >> 44) & 1;
    s.dpl = (d >> 45) & 3;
    s.present = (d >> 47) & 1;
    s.avl = (d >> 52) & 1;
    s.l = (d >> 53) & 1;
    s.db = (d >> 54) & 1;
    s.g = (d >> 55) & 1;
    if (s.g != 0) s.limit = (s.limit << 12) | 0xfff;
    s.unusable = 0;
}

uint64_t tss_read(Core& c, uint64_t off) {
    if (off + 7 > c.st->tr.limit && c.st->tr.limit != 0) raise(10, c.st->tr.selector & ~3u);
    return rd<uint64_t>(c, c.st->tr.base + off);
}

}  // namespace

void deliver_event(Core& c, uint8_t vector, bool has_error, uint32_t error, bool software,
                   uint64_t return_rip) {
    CpuState& s = *c.st;
    const unsigned old_cpl = cpl(s);
    const uint64_t saved_cpl3 = c.cpl3;
    c.cpl3 = 0;  // implicit supervisor accesses from here on
    try {
        const uint32_t idt_err = vector * 8u + 2u + (software ? 0u : 1u);
        if (vector * 16u + 15u > s.idt.limit) raise(13, idt_err);
        const uint64_t lo = rd<uint64_t>(c, s.idt.base + vector * 16u);
        const uint64_t hi = rd<uint64_t>(c, s.idt.base + vector * 16u + 8);
        const unsigned type = (lo >> 40) & 0xf;
        const unsigned dpl = (lo >> 45) & 3;
        if (type != 0xe && type != 0xf) raise(13, idt_err);
        if (software && dpl < old_cpl) raise(13, idt_err);
        if (((lo >> 47) & 1) == 0) raise(11, idt_err);
        const uint64_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ULL) | (hi << 32);
        const auto sel = static_cast<uint16_t>((lo >> 16) & 0xffff);
        const unsigned ist = (lo >> 32) & 7;

        Segment new_cs = s.seg[CS];
        load_segment(c, new_cs, sel);
        const unsigned new_cpl = new_cs.dpl;
        uint64_t rsp = s.gpr[RSP];
        const bool switch_stack = new_cpl < old_cpl;
        if (ist != 0) rsp = tss_read(c, 0x24 + 8 * (ist - 1));
        else if (switch_stack) rsp = tss_read(c, 4 + 8 * new_cpl);
        rsp &= ~15ULL;
        const uint64_t frame[6] = {return_rip,     s.seg[CS].selector, s.rflags,
                                   s.gpr[RSP],     s.seg[SS].selector, 0};
        // Push SS, RSP, RFLAGS, CS, RIP, [error].
        uint64_t sp = rsp;
        sp -= 8; wr<uint64_t>(c, sp, frame[4]);
        sp -= 8; wr<uint64_t>(c, sp, frame[3]);
        sp -= 8; wr<uint64_t>(c, sp, frame[2]);
        sp -= 8; wr<uint64_t>(c, sp, frame[1]);
        sp -= 8; wr<uint64_t>(c, sp, frame[0]);
        if (has_error) {
            sp -= 8;
            wr<uint64_t>(c, sp, error);
        }
        s.gpr[RSP] = sp;
        new_cs.selector = static_cast<uint16_t>((sel & ~3u) | new_cpl);
        s.seg[CS] = new_cs;
        if (switch_stack) {
            s.seg[SS].selector = static_cast<uint16_t>(new_cpl);
            s.seg[SS].dpl = static_cast<uint8_t>(new_cpl);
        }
        s.rflags &= ~(fl::TF | fl::NT | fl::RF | fl::VM);
        if (type == 0xe) s.rflags &= ~fl::IF;
        s.rip = target;
        s.halted = false;
        s.irq_shadow = false;
        c.cpl3 = new_cpl == 3 ? 1 : 0;
        if (c.cpl3 != saved_cpl3) c.eng->blocks.invalidate_chains();
    } catch (...) {
        c.cpl3 = saved_cpl3;
        throw;
    }
}

void load_cs_ss_for_cpl(Core& c) {
    const uint64_t v = cpl(*c.st) == 3 ? 1 : 0;
    if (v != c.cpl3) c.eng->blocks.invalidate_chains();
    c.cpl3 = v;
}

void do_iret(Core& c) {
    CpuState& s = *c.st;
    const uint64_t sp = s.gpr[RSP];
    const uint64_t rip = rd<uint64_t>(c, sp);
    const auto cs = static_cast<uint16_t>(rd<uint64_t>(c, sp + 8));
    const uint64_t rflags = rd<uint64_t>(c, sp + 16);
    const uint64_t rsp = rd<uint64_t>(c, sp + 24);
    const auto ss = static_cast<uint16_t>(rd<uint64_t>(c, sp + 32));
    const unsigned old_cpl = cpl(s);
    if ((cs & 3u) < old_cpl) raise(13, cs & ~3u);
    Segment new_cs = s.seg[CS];
    load_segment(c, new_cs, cs);
    new_cs.dpl = cs & 3;
    new_cs.selector = cs;
    Segment new_ss = s.seg[SS];
    load_segment(c, new_ss, ss);
    new_ss.selector = ss;
    new_ss.dpl = cs & 3;
    uint64_t mask = fl::ARITH | fl::TF | fl::DF | fl::NT | fl::AC | fl::ID | fl::RF;
    if (old_cpl == 0) mask |= fl::IF | fl::IOPL;
    else if (old_cpl <= ((s.rflags >> 12) & 3)) mask |= fl::IF;
    s.rflags = (s.rflags & ~mask) | (rflags & mask) | fl::FIXED1;
    s.seg[CS] = new_cs;
    s.seg[SS] = new_ss;
    s.gpr[RSP] = rsp;
    c.next_rip = rip;
    load_cs_ss_for_cpl(c);
}

// Far RET (RETF/LRETQ): pops RIP and CS (operand size osz), then `extra` bytes; to an outer
// privilege level also RSP and SS.
void do_far_ret(Core& c, unsigned osz, uint64_t extra) {
    CpuState& s = *c.st;
    auto pop = [&](uint64_t at) -> uint64_t {
        if (osz == 8) return rd<uint64_t>(c, at);
        if (osz == 4) return rd<uint32_t>(c, at);
        return rd<uint16_t>(c, at);
    };
    const uint64_t sp = s.gpr[RSP];
    const uint64_t rip = pop(sp);
    const auto cs = static_cast<uint16_t>(pop(sp + osz));
    const unsigned old_cpl = cpl(s);
    if ((cs & 3u) < old_cpl) raise(13, cs & ~3u);
    Segment new_cs = s.seg[CS];
    load_segment(c, new_cs, cs);
    new_cs.selector = cs;
    new_cs.dpl = cs & 3;
    uint64_t new_sp = sp + 2 * osz + extra;
    if ((cs & 3u) > old_cpl) {
        const uint64_t rsp = pop(new_sp);
        const auto ss = static_cast<uint16_t>(pop(new_sp + osz));
        Segment new_ss = s.seg[SS];
        load_segment(c, new_ss, ss);
        new_ss.selector = ss;
        new_ss.dpl = cs & 3;
        s.seg[SS] = new_ss;
        new_sp = rsp;
    }
    s.seg[CS] = new_cs;
    s.gpr[RSP] = new_sp;
    c.next_rip = new_cs.l != 0 ? rip : static_cast<uint32_t>(rip);
    load_cs_ss_for_cpl(c);
}

// Far JMP/CALL through memory (m16:16/32/64) to a code segment of the same privilege.
void do_far_transfer(Core& c, uint64_t target_addr, unsigned osz, bool call, uint64_t return_rip) {
    CpuState& s = *c.st;
    uint64_t off;
    if (osz == 8) off = rd<uint64_t>(c, target_addr);
    else if (osz == 4) off = rd<uint32_t>(c, target_addr);
    else off = rd<uint16_t>(c, target_addr);
    const uint16_t sel = rd<uint16_t>(c, target_addr + osz);
    if ((sel & ~3u) == 0) raise(13, 0);
    Segment new_cs = s.seg[CS];
    load_segment(c, new_cs, sel);
    new_cs.selector = static_cast<uint16_t>((sel & ~3u) | cpl(s));
    new_cs.dpl = static_cast<uint8_t>(cpl(s));
    if (call) {
        const uint64_t sp = s.gpr[RSP];
        if (osz == 8) {
            wr<uint64_t>(c, sp - 8, s.seg[CS].selector);
            wr<uint64_t>(c, sp - 16, return_rip);
        } else if (osz == 4) {
            wr<uint32_t>(c, sp - 4, s.seg[CS].selector);
            wr<uint32_t>(c, sp - 8, static_cast<uint32_t>(return_rip));
        } else {
            wr<uint16_t>(c, sp - 2, s.seg[CS].selector);
            wr<uint16_t>(c, sp - 4, static_cast<uint16_t>(return_rip));
        }
        s.gpr[RSP] = sp - 2 * osz;
    }
    s.seg[CS] = new_cs;
    c.next_rip = new_cs.l != 0 ? off : static_cast<uint32_t>(off);
}

}  // namespace kvmemu::cpu
