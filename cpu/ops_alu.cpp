// Integer data movement and arithmetic: ALU binary ops, INC/DEC/NOT/NEG, MOV/MOVZX/MOVSX/LEA,
// XCHG/CMPXCHG/XADD, SETcc/CMOVcc, sign extensions, flag instructions.
#include "cpu/internal/decode.hpp"
#include "cpu/internal/hostflags.hpp"

namespace kvmemu::cpu {
namespace {

enum class Alu : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp, Test };

template <Alu OP, class T>
inline T alu_op(T a, T b, uint64_t rflags, uint64_t& f) {
    if constexpr (OP == Alu::Add) return h_add(a, b, f);
    else if constexpr (OP == Alu::Or) return h_or(a, b, f);
    else if constexpr (OP == Alu::Adc) return h_adc(a, b, rflags, f);
    else if constexpr (OP == Alu::Sbb) return h_sbb(a, b, rflags, f);
    else if constexpr (OP == Alu::And) return h_and(a, b, f);
    else if constexpr (OP == Alu::Sub) return h_sub(a, b, f);
    else if constexpr (OP == Alu::Xor) return h_xor(a, b, f);
    else if constexpr (OP == Alu::Cmp) return h_cmp(a, b, f);
    else return h_test(a, b, f);
}

template <Alu OP, class T, Form D, Form S>
void alu(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M || S == Form::M) addr = ea(c, i);
    const T a = get_op<T, D, 0>(c, i, addr);
    const T b = get_op<T, S, 1>(c, i, addr);
    uint64_t f;
    const T r = alu_op<OP, T>(a, b, c.st->rflags, f);
    if constexpr (OP != Alu::Cmp && OP != Alu::Test) {
        if constexpr (D == Form::M) wr<T>(c, addr, r);
        else setr<T>(c, i.r0, r);
    }
    set_flags(c, fl::ARITH, f);
}

// xor r,r / sub r,r: zero idiom, flags fixed.
template <class T>
void zero_idiom(Core& c, const Insn& i) {
    setr<T>(c, i.r0, 0);
    set_flags(c, fl::ARITH, fl::ZF | fl::PF);
}

enum class Un : uint8_t { Inc, Dec, Not, Neg };

template <Un OP, class T, Form D>
void unary(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T a = get_op<T, D, 0>(c, i, addr);
    uint64_t f = 0;
    T r;
    if constexpr (OP == Un::Inc) r = h_inc(a, f);
    else if constexpr (OP == Un::Dec) r = h_dec(a, f);
    else if constexpr (OP == Un::Neg) r = h_neg(a, f);
    else r = static_cast<T>(~a);
    if constexpr (D == Form::M) wr<T>(c, addr, r);
    else setr<T>(c, i.r0, r);
    if constexpr (OP == Un::Inc || OP == Un::Dec) set_flags(c, fl::ARITH & ~fl::CF, f);
    else if constexpr (OP == Un::Neg) set_flags(c, fl::ARITH, f);
}

template <class T, Form D, Form S>
void mov(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M || S == Form::M) addr = ea(c, i);
    const T v = get_op<T, S, 1>(c, i, addr);
    if constexpr (D == Form::M) wr<T>(c, addr, v);
    else setr<T>(c, i.r0, v);
}

template <class TD, class TS, bool SIGNED, Form S>
void movx(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const TS v = get_op<TS, S, 1>(c, i, addr);
    TD r;
    if constexpr (SIGNED) r = static_cast<TD>(static_cast<std::make_signed_t<TD>>(static_cast<std::make_signed_t<TS>>(v)));
    else r = static_cast<TD>(v);
    setr<TD>(c, i.r0, r);
}

template <class T>
void lea(Core& c, const Insn& i) {
    uint64_t a = static_cast<uint64_t>(i.disp);
    if (i.base != kNoReg) a += i.base == kRipReg ? c.st->rip + i.len : c.st->gpr[i.base];
    if (i.index != kNoReg) a += c.st->gpr[i.index] << i.scale;
    setr<T>(c, i.r0, static_cast<T>(a));
}

template <class T, Form D>
void xchg(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T a = get_op<T, D, 0>(c, i, addr);
    const T b = getr<T>(c, i.r1);
    if constexpr (D == Form::M) {
        wr<T>(c, addr, b);
    } else {
        setr<T>(c, i.r0, b);
    }
    setr<T>(c, i.r1, a);
}

template <class T, Form D>
void cmpxchg(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T dst = get_op<T, D, 0>(c, i, addr);
    const T acc = getr<T>(c, RAX);
    uint64_t f;
    (void)h_cmp<T>(acc, dst, f);
    set_flags(c, fl::ARITH, f);
    if (acc == dst) {
        const T src = getr<T>(c, i.r1);
        if constexpr (D == Form::M) wr<T>(c, addr, src);
        else setr<T>(c, i.r0, src);
    } else {
        if constexpr (D == Form::M) wr<T>(c, addr, dst);  // the processor always writes back
        setr<T>(c, RAX, dst);
    }
}

template <class T, Form D>
void xadd(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T dst = get_op<T, D, 0>(c, i, addr);
    const T src = getr<T>(c, i.r1);
    uint64_t f;
    const T sum = h_add<T>(dst, src, f);
    if constexpr (D == Form::M) {
        wr<T>(c, addr, sum);
        setr<T>(c, i.r1, dst);
    } else {
        setr<T>(c, i.r1, dst);
        setr<T>(c, i.r0, sum);
    }
    set_flags(c, fl::ARITH, f);
}

template <unsigned CC, Form D>
void setcc(Core& c, const Insn& i) {
    const uint8_t v = cond_true(CC, c.st->rflags) ? 1 : 0;
    if constexpr (D == Form::M) wr<uint8_t>(c, ea(c, i), v);
    else setr<uint8_t>(c, i.r0, v);
}

template <unsigned CC, class T, Form S>
void cmovcc(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const T v = get_op<T, S, 1>(c, i, addr);  // memory is read even when the condition is false
    if (cond_true(CC, c.st->rflags)) setr<T>(c, i.r0, v);
    else if constexpr (sizeof(T) == 4) setr<T>(c, i.r0, getr<T>(c, i.r0));  // zero-extends
}

template <class F>
Handler with_cc(unsigned cc, F&& f) {
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

// CBW/CWDE/CDQE (aux=0) and CWD/CDQ/CQO (aux=1) by operand size.
void sign_ext(Core& c, const Insn& i) {
    uint64_t& a = c.st->gpr[RAX];
    uint64_t& d = c.st->gpr[RDX];
    if (i.aux == 0) {
        switch (i.osz) {
            case 2: setr<uint16_t>(c, RAX, static_cast<uint16_t>(static_cast<int8_t>(a))); break;
            case 4: a = static_cast<uint32_t>(static_cast<int16_t>(a)); break;
            default: a = static_cast<uint64_t>(static_cast<int32_t>(a)); break;
        }
    } else {
        switch (i.osz) {
            case 2: setr<uint16_t>(c, RDX, (a & 0x8000) != 0 ? 0xffff : 0); break;
            case 4: d = (a & 0x80000000u) != 0 ? 0xffffffffu : 0; break;
            default: d = static_cast<int64_t>(a) < 0 ? ~0ULL : 0; break;
        }
    }
}

void flag_op(Core& c, const Insn& i) {
    uint64_t& f = c.st->rflags;
    switch (i.aux) {
        case 0: f &= ~fl::CF; break;
        case 1: f |= fl::CF; break;
        case 2: f ^= fl::CF; break;
        case 3: f &= ~fl::DF; break;
        case 4: f |= fl::DF; break;
        case 5: {  // lahf
            setr<uint8_t>(c, 16, static_cast<uint8_t>((f & 0xd5) | 2));
            break;
        }
        default: {  // sahf
            const uint64_t ah = (c.st->gpr[RAX] >> 8) & 0xd5;
            f = (f & ~0xd5ULL) | ah;
            break;
        }
    }
}

template <class T>
void bswap(Core& c, const Insn& i) {
    if constexpr (sizeof(T) == 8) c.st->gpr[i.r0] = __builtin_bswap64(c.st->gpr[i.r0]);
    else if constexpr (sizeof(T) == 4) c.st->gpr[i.r0] = __builtin_bswap32(static_cast<uint32_t>(c.st->gpr[i.r0]));
    else setr<uint16_t>(c, i.r0, 0);  // BSWAP r16 is undefined; hardware gives 0
}

void nop(Core&, const Insn&) {}

Handler alu_handler(Alu op, const DecodeCtx& x) {
    auto pick = [&](auto opc) {
        return with_size(x.out.osz, [&](auto t) {
            return with_forms2(x.form[0], x.form[1], [&](auto d, auto s) -> Handler {
                return &alu<std::decay_t<decltype(opc)>::value, std::decay_t<decltype(t)>, std::decay_t<decltype(d)>::value, std::decay_t<decltype(s)>::value>;
            });
        });
    };
    switch (op) {
        case Alu::Add: return pick(std::integral_constant<Alu, Alu::Add>{});
        case Alu::Or: return pick(std::integral_constant<Alu, Alu::Or>{});
        case Alu::Adc: return pick(std::integral_constant<Alu, Alu::Adc>{});
        case Alu::Sbb: return pick(std::integral_constant<Alu, Alu::Sbb>{});
        case Alu::And: return pick(std::integral_constant<Alu, Alu::And>{});
        case Alu::Sub: return pick(std::integral_constant<Alu, Alu::Sub>{});
        case Alu::Xor: return pick(std::integral_constant<Alu, Alu::Xor>{});
        case Alu::Cmp: return pick(std::integral_constant<Alu, Alu::Cmp>{});
        default: return pick(std::integral_constant<Alu, Alu::Test>{});
    }
}

Handler unary_handler(Un op, const DecodeCtx& x) {
    auto pick = [&](auto opc) {
        return with_size(x.out.osz, [&](auto t) {
            return with_form(x.form[0], [&](auto d) -> Handler {
                if constexpr (std::decay_t<decltype(d)>::value == Form::I) return nullptr;
                else return &unary<std::decay_t<decltype(opc)>::value, std::decay_t<decltype(t)>, std::decay_t<decltype(d)>::value>;
            });
        });
    };
    switch (op) {
        case Un::Inc: return pick(std::integral_constant<Un, Un::Inc>{});
        case Un::Dec: return pick(std::integral_constant<Un, Un::Dec>{});
        case Un::Not: return pick(std::integral_constant<Un, Un::Not>{});
        default: return pick(std::integral_constant<Un, Un::Neg>{});
    }
}

bool is_gpr_ops(const DecodeCtx& x) {
    for (unsigned k = 0; k < x.nops; ++k) {
        if (x.ops[k].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
        const auto cls = ZydisRegisterGetClass(x.ops[k].reg.value);
        if (cls != ZYDIS_REGCLASS_GPR8 && cls != ZYDIS_REGCLASS_GPR16 && cls != ZYDIS_REGCLASS_GPR32 &&
            cls != ZYDIS_REGCLASS_GPR64)
            return false;
    }
    return true;
}

}  // namespace

bool lower_alu(DecodeCtx& x) {
    Insn& o = x.out;
    const auto m = x.d.mnemonic;
    switch (m) {
        case ZYDIS_MNEMONIC_ADD: o.fn = alu_handler(Alu::Add, x); break;
        case ZYDIS_MNEMONIC_OR: o.fn = alu_handler(Alu::Or, x); break;
        case ZYDIS_MNEMONIC_ADC: o.fn = alu_handler(Alu::Adc, x); break;
        case ZYDIS_MNEMONIC_SBB: o.fn = alu_handler(Alu::Sbb, x); break;
        case ZYDIS_MNEMONIC_AND: o.fn = alu_handler(Alu::And, x); break;
        case ZYDIS_MNEMONIC_SUB:
        case ZYDIS_MNEMONIC_XOR:
            if (x.form[0] == Form::R && x.form[1] == Form::R && o.r0 == o.r1 && o.osz >= 4) {
                o.fn = with_size(o.osz, [](auto t) -> Handler { return &zero_idiom<std::decay_t<decltype(t)>>; });
            } else {
                o.fn = alu_handler(m == ZYDIS_MNEMONIC_SUB ? Alu::Sub : Alu::Xor, x);
            }
            break;
        case ZYDIS_MNEMONIC_CMP: o.fn = alu_handler(Alu::Cmp, x); break;
        case ZYDIS_MNEMONIC_TEST: o.fn = alu_handler(Alu::Test, x); break;
        case ZYDIS_MNEMONIC_INC: o.fn = unary_handler(Un::Inc, x); break;
        case ZYDIS_MNEMONIC_DEC: o.fn = unary_handler(Un::Dec, x); break;
        case ZYDIS_MNEMONIC_NOT: o.fn = unary_handler(Un::Not, x); break;
        case ZYDIS_MNEMONIC_NEG: o.fn = unary_handler(Un::Neg, x); break;
        case ZYDIS_MNEMONIC_MOV:
            if (!is_gpr_ops(x)) return false;  // control / segment registers: system family
            o.fn = with_size(o.osz, [&](auto t) {
                return with_forms2(x.form[0], x.form[1], [&](auto d, auto s) -> Handler {
                    return &mov<std::decay_t<decltype(t)>, std::decay_t<decltype(d)>::value, std::decay_t<decltype(s)>::value>;
                });
            });
            break;
        case ZYDIS_MNEMONIC_MOVZX:
        case ZYDIS_MNEMONIC_MOVSX:
        case ZYDIS_MNEMONIC_MOVSXD: {
            const bool sgn = m != ZYDIS_MNEMONIC_MOVZX;
            const unsigned ss = x.size[1];
            auto pick = [&](auto td) -> Handler {
                using TD = std::decay_t<decltype(td)>;
                auto with_src = [&](auto ts) -> Handler {
                    using TS = std::decay_t<decltype(ts)>;
                    if constexpr (sizeof(TS) > sizeof(TD)) {
                        return nullptr;
                    } else {
                        if (x.form[1] == Form::M)
                            return sgn ? &movx<TD, TS, true, Form::M> : &movx<TD, TS, false, Form::M>;
                        return sgn ? &movx<TD, TS, true, Form::R> : &movx<TD, TS, false, Form::R>;
                    }
                };
                return with_size(ss, with_src);
            };
            o.fn = with_size(o.osz, pick);
            break;
        }
        case ZYDIS_MNEMONIC_LEA:
            o.fn = with_size(o.osz, [](auto t) -> Handler { return &lea<std::decay_t<decltype(t)>>; });
            break;
        case ZYDIS_MNEMONIC_XCHG:
            if (x.form[1] == Form::M) {  // normalise to (r/m, r)
                std::swap(o.r0, o.r1);
                x.form[1] = Form::R;
                x.form[0] = Form::M;
            }
            o.fn = with_size(o.osz, [&](auto t) -> Handler {
                return x.form[0] == Form::M ? &xchg<std::decay_t<decltype(t)>, Form::M> : &xchg<std::decay_t<decltype(t)>, Form::R>;
            });
            break;
        case ZYDIS_MNEMONIC_CMPXCHG:
            o.fn = with_size(o.osz, [&](auto t) -> Handler {
                return x.form[0] == Form::M ? &cmpxchg<std::decay_t<decltype(t)>, Form::M> : &cmpxchg<std::decay_t<decltype(t)>, Form::R>;
            });
            break;
        case ZYDIS_MNEMONIC_XADD:
            o.fn = with_size(o.osz, [&](auto t) -> Handler {
                return x.form[0] == Form::M ? &xadd<std::decay_t<decltype(t)>, Form::M> : &xadd<std::decay_t<decltype(t)>, Form::R>;
            });
            break;
        case ZYDIS_MNEMONIC_BSWAP:
            o.fn = with_size(o.osz, [](auto t) -> Handler { return &bswap<std::decay_t<decltype(t)>>; });
            break;
        case ZYDIS_MNEMONIC_CBW:
        case ZYDIS_MNEMONIC_CWDE:
        case ZYDIS_MNEMONIC_CDQE:
            o.aux = 0;
            o.fn = &sign_ext;
            break;
        case ZYDIS_MNEMONIC_CWD:
        case ZYDIS_MNEMONIC_CDQ:
        case ZYDIS_MNEMONIC_CQO:
            o.aux = 1;
            o.fn = &sign_ext;
            break;
        case ZYDIS_MNEMONIC_CLC: o.aux = 0; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_STC: o.aux = 1; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_CMC: o.aux = 2; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_CLD: o.aux = 3; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_STD: o.aux = 4; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_LAHF: o.aux = 5; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_SAHF: o.aux = 6; o.fn = &flag_op; break;
        case ZYDIS_MNEMONIC_NOP:
        case ZYDIS_MNEMONIC_ENDBR64:
        case ZYDIS_MNEMONIC_ENDBR32:
        case ZYDIS_MNEMONIC_PAUSE:
        case ZYDIS_MNEMONIC_LFENCE:
        case ZYDIS_MNEMONIC_SFENCE:
        case ZYDIS_MNEMONIC_MFENCE:
        case ZYDIS_MNEMONIC_PREFETCHT0:
        case ZYDIS_MNEMONIC_PREFETCHT1:
        case ZYDIS_MNEMONIC_PREFETCHT2:
        case ZYDIS_MNEMONIC_PREFETCHNTA:
        case ZYDIS_MNEMONIC_PREFETCHW:
        case ZYDIS_MNEMONIC_CLFLUSH:
        case ZYDIS_MNEMONIC_CLFLUSHOPT:
            o.fn = &nop;
            break;
        default:
            if (m >= ZYDIS_MNEMONIC_SETB && m <= ZYDIS_MNEMONIC_SETZ && m != ZYDIS_MNEMONIC_SETSSBSY) {
                o.fn = with_cc(o.cond, [&](auto cc) -> Handler {
                    return x.form[0] == Form::M ? &setcc<std::decay_t<decltype(cc)>::value, Form::M>
                                                : &setcc<std::decay_t<decltype(cc)>::value, Form::R>;
                });
                break;
            }
            if (m >= ZYDIS_MNEMONIC_CMOVB && m <= ZYDIS_MNEMONIC_CMOVZ) {
                o.fn = with_cc(o.cond, [&](auto cc) {
                    return with_size(o.osz, [&](auto t) -> Handler {
                        if constexpr (sizeof(t) == 1) return nullptr;
                        else
                            return x.form[1] == Form::M ? &cmovcc<std::decay_t<decltype(cc)>::value, std::decay_t<decltype(t)>, Form::M>
                                                        : &cmovcc<std::decay_t<decltype(cc)>::value, std::decay_t<decltype(t)>, Form::R>;
                    });
                });
                break;
            }
            return false;
    }
    if (o.fn == nullptr) o.fn = &h_ud;
    return true;
}

}  // namespace kvmemu::cpu
