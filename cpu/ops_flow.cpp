// Control flow and the stack: JMP/Jcc/CALL/RET/LOOP/JRCXZ, PUSH/POP, LEAVE/ENTER.
#include "cpu/internal/decode.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

void jmp_rel(Core& c, const Insn& i) { c.next_rip = c.st->rip + i.len + static_cast<uint64_t>(i.imm); }

template <unsigned CC>
void jcc(Core& c, const Insn& i) {
    if (cond_true(CC, c.st->rflags)) c.next_rip = c.st->rip + i.len + static_cast<uint64_t>(i.imm);
}

template <Form S>
void jmp_ind(Core& c, const Insn& i) {
    c.next_rip = S == Form::M ? rd<uint64_t>(c, ea(c, i)) : c.st->gpr[i.r0];
}

void call_rel(Core& c, const Insn& i) {
    push64(c, c.st->rip + i.len);
    c.next_rip = c.st->rip + i.len + static_cast<uint64_t>(i.imm);
}

template <Form S>
void call_ind(Core& c, const Insn& i) {
    const uint64_t target = S == Form::M ? rd<uint64_t>(c, ea(c, i)) : c.st->gpr[i.r0];
    push64(c, c.st->rip + i.len);
    c.next_rip = target;
}

void ret(Core& c, const Insn& i) {
    const uint64_t target = rd<uint64_t>(c, c.st->gpr[RSP]);
    c.st->gpr[RSP] += 8 + static_cast<uint64_t>(i.imm);
    c.next_rip = target;
}

void ret_far(Core& c, const Insn& i) { do_far_ret(c, i.osz, static_cast<uint64_t>(i.imm)); }

// JMP far m16:xx (aux 0) / CALL far m16:xx (aux 1).
void far_mem(Core& c, const Insn& i) { do_far_transfer(c, ea(c, i), i.osz, i.aux == 1, c.st->rip + i.len); }

// XLAT: AL = [seg:RBX + AL].
void xlat(Core& c, const Insn& i) {
    uint64_t a = c.st->gpr[RBX] + (c.st->gpr[RAX] & 0xff);
    if (i.asz == 4) a = static_cast<uint32_t>(a);
    if (i.seg != kNoSeg) a += seg_base(c, i.seg);
    setr<uint8_t>(c, RAX, rd<uint8_t>(c, a));
}

// LOOP (aux 0), LOOPE (1), LOOPNE (2), JRCXZ (3); address size in asz.
void loop(Core& c, const Insn& i) {
    uint64_t& rcx = c.st->gpr[RCX];
    bool take;
    if (i.aux == 3) {
        take = (i.asz == 4 ? static_cast<uint32_t>(rcx) : rcx) == 0;
    } else {
        if (i.asz == 4) rcx = static_cast<uint32_t>(rcx - 1);
        else rcx -= 1;
        take = rcx != 0;
        if (i.aux == 1) take = take && (c.st->rflags & fl::ZF) != 0;
        if (i.aux == 2) take = take && (c.st->rflags & fl::ZF) == 0;
    }
    if (take) c.next_rip = c.st->rip + i.len + static_cast<uint64_t>(i.imm);
}

template <class T, Form S>
void push(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const T v = get_op<T, S, 0>(c, i, addr);
    const uint64_t sp = c.st->gpr[RSP] - sizeof(T);
    wr<T>(c, sp, v);
    c.st->gpr[RSP] = sp;
}

template <class T, Form D>
void pop(Core& c, const Insn& i) {
    const T v = rd<T>(c, c.st->gpr[RSP]);
    const uint64_t old = c.st->gpr[RSP];
    c.st->gpr[RSP] += sizeof(T);
    if constexpr (D == Form::M) {
        try {
            wr<T>(c, ea(c, i), v);  // uses the incremented RSP, as hardware does
        } catch (...) {
            c.st->gpr[RSP] = old;
            throw;
        }
    } else {
        setr<T>(c, i.r0, v);
    }
}

void leave(Core& c, const Insn&) {
    const uint64_t v = rd<uint64_t>(c, c.st->gpr[RBP]);
    c.st->gpr[RSP] = c.st->gpr[RBP] + 8;
    c.st->gpr[RBP] = v;
}

void enter(Core& c, const Insn& i) {
    const auto size = static_cast<uint16_t>(i.imm);
    const unsigned level = static_cast<unsigned>(i.imm2) & 31;
    uint64_t sp = c.st->gpr[RSP] - 8;
    wr<uint64_t>(c, sp, c.st->gpr[RBP]);
    const uint64_t frame = sp;
    uint64_t bp = c.st->gpr[RBP];
    for (unsigned l = 1; l < level; ++l) {
        bp -= 8;
        sp -= 8;
        wr<uint64_t>(c, sp, rd<uint64_t>(c, bp));
    }
    if (level > 0) {
        sp -= 8;
        wr<uint64_t>(c, sp, frame);
    }
    c.st->gpr[RBP] = frame;
    c.st->gpr[RSP] = sp - size;
}

template <class F>
Handler with_cc16(unsigned cc, F&& f) {
    switch (cc & 15) {
        case 0: return f(std::integral_constant<unsigned, 0>{});
        case 1: return f(std::integral_constant<unsigned, 1>{});
        case 2: return f(std::integral_constant<unsigned, 2>{});
        case 3: return f(std::integral_constant<unsigned, 3>{});
        case 4: return f(std::integral_constant<unsigned, 4>{});
        case 5: return f(std::integral_constant<unsigned, 5>{});
        case 6: return f(std::integral_constant<unsigned, 6>{});
        case 7: return f(std::integral_constant<unsigned, 7>{});
        case 8: return f(std::integral_constant<unsigned, 8>{});
        case 9: return f(std::integral_constant<unsigned, 9>{});
        case 10: return f(std::integral_constant<unsigned, 10>{});
        case 11: return f(std::integral_constant<unsigned, 11>{});
        case 12: return f(std::integral_constant<unsigned, 12>{});
        case 13: return f(std::integral_constant<unsigned, 13>{});
        case 14: return f(std::integral_constant<unsigned, 14>{});
        default: return f(std::integral_constant<unsigned, 15>{});
    }
}

}  // namespace

bool lower_flow(DecodeCtx& x) {
    Insn& o = x.out;
    const auto m = x.d.mnemonic;
    switch (m) {
        case ZYDIS_MNEMONIC_JMP:
        case ZYDIS_MNEMONIC_CALL:
            if (x.d.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
                x.ends_block = true;
                o.aux = m == ZYDIS_MNEMONIC_CALL ? 1 : 0;
                o.fn = x.form[0] == Form::M ? &far_mem : &h_ud;  // ptr16:32 is invalid in 64-bit mode
                return true;
            }
            if (m == ZYDIS_MNEMONIC_CALL) break;
            x.ends_block = true;
            if (x.form[0] == Form::I) o.fn = &jmp_rel;
            else o.fn = x.form[0] == Form::M ? &jmp_ind<Form::M> : &jmp_ind<Form::R>;
            if (x.form[0] != Form::I && o.osz != 8) o.fn = &h_ud;
            return true;
        default:
            break;
    }
    switch (m) {
        case ZYDIS_MNEMONIC_CALL:
            x.ends_block = true;
            if (x.form[0] == Form::I) o.fn = &call_rel;
            else o.fn = x.form[0] == Form::M ? &call_ind<Form::M> : &call_ind<Form::R>;
            if (x.form[0] != Form::I && o.osz != 8) o.fn = &h_ud;
            return true;
        case ZYDIS_MNEMONIC_RET:
            x.ends_block = true;
            o.imm = x.nops > 0 ? o.imm : 0;
            o.fn = x.d.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR ? &ret_far : &ret;
            return true;
        case ZYDIS_MNEMONIC_XLAT: o.fn = &xlat; return true;
        case ZYDIS_MNEMONIC_LOOP: x.ends_block = true; o.aux = 0; o.fn = &loop; return true;
        case ZYDIS_MNEMONIC_LOOPE: x.ends_block = true; o.aux = 1; o.fn = &loop; return true;
        case ZYDIS_MNEMONIC_LOOPNE: x.ends_block = true; o.aux = 2; o.fn = &loop; return true;
        case ZYDIS_MNEMONIC_JRCXZ:
        case ZYDIS_MNEMONIC_JECXZ: x.ends_block = true; o.aux = 3; o.fn = &loop; return true;
        case ZYDIS_MNEMONIC_PUSH:
            o.fn = with_size(o.osz, [&](auto t) -> Handler {
                using T = std::decay_t<decltype(t)>;
                if constexpr (sizeof(T) == 1 || sizeof(T) == 4) return nullptr;
                else return with_form(x.form[0], [&](auto s) -> Handler { return &push<T, std::decay_t<decltype(s)>::value>; });
            });
            break;
        case ZYDIS_MNEMONIC_POP:
            o.fn = with_size(o.osz, [&](auto t) -> Handler {
                using T = std::decay_t<decltype(t)>;
                if constexpr (sizeof(T) == 1 || sizeof(T) == 4) return nullptr;
                else return x.form[0] == Form::M ? &pop<T, Form::M> : &pop<T, Form::R>;
            });
            break;
        case ZYDIS_MNEMONIC_LEAVE: o.fn = &leave; break;
        case ZYDIS_MNEMONIC_ENTER: o.fn = &enter; break;
        default:
            if (m >= ZYDIS_MNEMONIC_JB && m <= ZYDIS_MNEMONIC_JZ && m != ZYDIS_MNEMONIC_JMP &&
                m != ZYDIS_MNEMONIC_JCXZ && m != ZYDIS_MNEMONIC_JECXZ && m != ZYDIS_MNEMONIC_JRCXZ) {
                x.ends_block = true;
                o.fn = with_cc16(o.cond, [](auto cc) -> Handler { return &jcc<std::decay_t<decltype(cc)>::value>; });
                return true;
            }
            return false;
    }
    if (o.fn == nullptr) o.fn = &h_ud;
    return true;
}

}  // namespace kvmemu::cpu
