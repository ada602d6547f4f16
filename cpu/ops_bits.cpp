// Shifts and rotates, SHLD/SHRD, MUL/IMUL/DIV/IDIV, BT/BTS/BTR/BTC, BSF/BSR/TZCNT/LZCNT/POPCNT.
#include "cpu/internal/decode.hpp"
#include "cpu/internal/hostflags.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

enum class Sh : uint8_t { Shl, Shr, Sar, Rol, Ror, Rcl, Rcr };

// S: Form::I = count in imm, Form::R = count in CL.
template <Sh OP, class T, Form D, Form S>
void shift(Core& c, const Insn& i) {
    const unsigned raw = S == Form::I ? static_cast<unsigned>(i.imm) : static_cast<unsigned>(c.st->gpr[RCX]);
    const uint8_t count = static_cast<uint8_t>(raw & (sizeof(T) == 8 ? 63 : 31));
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T a = get_op<T, D, 0>(c, i, addr);
    if (count == 0) {
        if constexpr (D == Form::M) wr<T>(c, addr, a);  // the access still happens
        return;
    }
    uint64_t f;
    T r;
    const uint64_t cf = c.st->rflags;
    if constexpr (OP == Sh::Shl) r = h_shl(a, count, cf, f);
    else if constexpr (OP == Sh::Shr) r = h_shr(a, count, cf, f);
    else if constexpr (OP == Sh::Sar) r = h_sar(a, count, cf, f);
    else if constexpr (OP == Sh::Rol) r = h_rol(a, count, cf, f);
    else if constexpr (OP == Sh::Ror) r = h_ror(a, count, cf, f);
    else if constexpr (OP == Sh::Rcl) r = h_rcl(a, count, cf, f);
    else r = h_rcr(a, count, cf, f);
    if constexpr (D == Form::M) wr<T>(c, addr, r);
    else setr<T>(c, i.r0, r);
    if constexpr (OP == Sh::Shl || OP == Sh::Shr || OP == Sh::Sar) set_flags(c, fl::ARITH, f);
    else set_flags(c, fl::CF | fl::OF, f);
}

// SHLD/SHRD r/m, r, imm8|CL (aux: 0 = shld, 1 = shrd).
template <class T, Form D, Form S, bool RIGHT>
void dshift(Core& c, const Insn& i) {
    const unsigned raw = S == Form::I ? static_cast<unsigned>(i.imm) : static_cast<unsigned>(c.st->gpr[RCX]);
    const uint8_t count = static_cast<uint8_t>(raw & (sizeof(T) == 8 ? 63 : 31));
    uint64_t addr = 0;
    if constexpr (D == Form::M) addr = ea(c, i);
    const T a = get_op<T, D, 0>(c, i, addr);
    const T b = getr<T>(c, i.r1);
    if (count == 0) return;
    uint64_t f;
    const T r = RIGHT ? h_shrd(a, b, count, f) : h_shld(a, b, count, f);
    if constexpr (D == Form::M) wr<T>(c, addr, r);
    else setr<T>(c, i.r0, r);
    set_flags(c, fl::ARITH, f);
}

enum class Md : uint8_t { Mul, Imul, Div, Idiv };

template <Md OP, class T, Form S>
void muldiv(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const T b = get_op<T, S, 0>(c, i, addr);
    T lo, hi;
    if constexpr (sizeof(T) == 1) {
        lo = static_cast<T>(c.st->gpr[RAX]);
        hi = static_cast<T>(c.st->gpr[RAX] >> 8);
    } else {
        lo = getr<T>(c, RAX);
        hi = getr<T>(c, RDX);
    }
    if constexpr (OP == Md::Mul || OP == Md::Imul) {
        uint64_t f;
        if constexpr (OP == Md::Mul) h_mul1<T>(lo, b, lo, hi, f);
        else h_imul1<T>(lo, b, lo, hi, f);
        set_flags(c, fl::ARITH, f);
    } else {
        __extension__ using U = unsigned __int128;
        __extension__ using S128 = __int128;
        constexpr unsigned bits = sizeof(T) * 8;
        if (b == 0) raise(0);
        const U n = (static_cast<U>(hi) << bits) | lo;
        if constexpr (OP == Md::Div) {
            const U q = n / b;
            if ((q >> bits) != 0) raise(0);
            const U r = n % b;
            lo = static_cast<T>(q);
            hi = static_cast<T>(r);
        } else {
            using ST = std::make_signed_t<T>;
            const S128 sn = static_cast<S128>(n << (128 - 2 * bits)) >> (128 - 2 * bits);
            const S128 sb = static_cast<ST>(b);
            const S128 min = static_cast<S128>(static_cast<U>(1) << (2 * bits - 1));  // modular (C++20)
            if (sb == -1 && sn == min) raise(0);
            const S128 q = sn / sb;
            const S128 r = sn % sb;
            const S128 lim = static_cast<S128>(1) << (bits - 1);
            if (q >= lim || q < -lim) raise(0);
            lo = static_cast<T>(q);
            hi = static_cast<T>(r);
        }
    }
    if constexpr (sizeof(T) == 1) {
        setr<uint16_t>(c, RAX, static_cast<uint16_t>(lo | (static_cast<uint16_t>(hi) << 8)));
    } else {
        setr<T>(c, RAX, lo);
        setr<T>(c, RDX, hi);
    }
}

// IMUL r, r/m (aux=0) and IMUL r, r/m, imm (aux=1).
template <class T, Form S, bool THREE>
void imul_n(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const T src = get_op<T, S, 1>(c, i, addr);
    uint64_t f;
    T r;
    if constexpr (THREE) r = h_imul3<T>(src, static_cast<T>(i.imm), f);
    else r = h_imul2<T>(getr<T>(c, i.r0), src, f);
    setr<T>(c, i.r0, r);
    set_flags(c, fl::ARITH, f);
}

enum class Bt : uint8_t { Bt, Bts, Btr, Btc };

template <Bt OP, class T, Form D, Form S>
void bittest(Core& c, const Insn& i) {
    constexpr unsigned bits = sizeof(T) * 8;
    uint64_t addr = 0;
    T bit;
    if constexpr (S == Form::I) {
        bit = static_cast<T>(i.imm & (bits - 1));
        if constexpr (D == Form::M) addr = ea(c, i);
    } else {
        const auto off = static_cast<std::make_signed_t<T>>(getr<T>(c, i.r1));
        bit = static_cast<T>(off & (bits - 1));
        if constexpr (D == Form::M) {
            const int64_t words = (static_cast<int64_t>(off) - (off & (bits - 1))) / static_cast<int64_t>(bits);
            addr = ea(c, i) + static_cast<uint64_t>(words * static_cast<int64_t>(sizeof(T)));
        }
    }
    const T a = get_op<T, D, 0>(c, i, addr);
    uint64_t f;
    T r;
    if constexpr (OP == Bt::Bt) r = h_bt<T>(a, bit, f);
    else if constexpr (OP == Bt::Bts) r = h_bts<T>(a, bit, f);
    else if constexpr (OP == Bt::Btr) r = h_btr<T>(a, bit, f);
    else r = h_btc<T>(a, bit, f);
    if constexpr (OP != Bt::Bt) {
        if constexpr (D == Form::M) wr<T>(c, addr, r);
        else setr<T>(c, i.r0, r);
    }
    set_flags(c, fl::ARITH, f);
}

enum class Scan : uint8_t { Bsf, Bsr, Tzcnt, Lzcnt, Popcnt };

template <Scan OP, class T, Form S>
void scan(Core& c, const Insn& i) {
    uint64_t addr = 0;
    if constexpr (S == Form::M) addr = ea(c, i);
    const T src = get_op<T, S, 1>(c, i, addr);
    uint64_t f;
    if constexpr (sizeof(T) == 4 && (OP == Scan::Bsf || OP == Scan::Bsr)) {
        // With a zero source the destination is left as the host leaves it (AMD: all 64 bits
        // unchanged); run the 32-bit host instruction on the full register to mirror that.
        uint64_t full = c.st->gpr[i.r0];
        uint64_t ax;
        if constexpr (OP == Scan::Bsf)
            asm("bsf %k[s],%k[d]\n\tlahf\n\tseto %%al" : [d] "+r"(full), "=&a"(ax) : [s] "r"(src) : "cc");
        else
            asm("bsr %k[s],%k[d]\n\tlahf\n\tseto %%al" : [d] "+r"(full), "=&a"(ax) : [s] "r"(src) : "cc");
        c.st->gpr[i.r0] = full;
        set_flags(c, fl::ARITH, lahf_to_rflags(ax));
        return;
    }
    const T old = getr<T>(c, i.r0);
    T r;
    if constexpr (OP == Scan::Bsf) r = h_bsf<T>(old, src, f);
    else if constexpr (OP == Scan::Bsr) r = h_bsr<T>(old, src, f);
    else if constexpr (OP == Scan::Tzcnt) r = h_tzcnt<T>(old, src, f);
    else if constexpr (OP == Scan::Lzcnt) r = h_lzcnt<T>(old, src, f);
    else r = h_popcnt<T>(old, src, f);
    setr<T>(c, i.r0, r);
    set_flags(c, fl::ARITH, f);
}

template <class Op>
Handler sized_rm(const DecodeCtx& x, Op op) {
    return with_size(x.out.osz, [&](auto t) -> Handler {
        if constexpr (sizeof(t) == 1) return nullptr;
        else return op(t);
    });
}

}  // namespace

bool lower_bits(DecodeCtx& x) {
    Insn& o = x.out;
    const auto m = x.d.mnemonic;
    auto sh = [&](auto opc) -> Handler {
        constexpr Sh OP = std::decay_t<decltype(opc)>::value;
        const Form s = x.form[1] == Form::R ? Form::R : Form::I;
        return with_size(o.osz, [&](auto t) {
            return with_forms2(x.form[0], s, [&](auto d, auto sf) -> Handler {
                return &shift<OP, std::decay_t<decltype(t)>, std::decay_t<decltype(d)>::value, std::decay_t<decltype(sf)>::value>;
            });
        });
    };
    auto md = [&](auto opc) -> Handler {
        constexpr Md OP = std::decay_t<decltype(opc)>::value;
        return with_size(o.osz, [&](auto t) -> Handler {
            return x.form[0] == Form::M ? &muldiv<OP, std::decay_t<decltype(t)>, Form::M> : &muldiv<OP, std::decay_t<decltype(t)>, Form::R>;
        });
    };
    auto bt = [&](auto opc) -> Handler {
        constexpr Bt OP = std::decay_t<decltype(opc)>::value;
        return sized_rm(x, [&](auto t) {
            return with_forms2(x.form[0], x.form[1], [&](auto d, auto s) -> Handler {
                return &bittest<OP, std::decay_t<decltype(t)>, std::decay_t<decltype(d)>::value, std::decay_t<decltype(s)>::value>;
            });
        });
    };
    auto sc = [&](auto opc) -> Handler {
        constexpr Scan OP = std::decay_t<decltype(opc)>::value;
        return sized_rm(x, [&](auto t) -> Handler {
            return x.form[1] == Form::M ? &scan<OP, std::decay_t<decltype(t)>, Form::M> : &scan<OP, std::decay_t<decltype(t)>, Form::R>;
        });
    };
    using std::integral_constant;
    const CpuidTable& id = x.c.eng->cpuid;
    switch (m) {

        case ZYDIS_MNEMONIC_SHL: o.fn = sh(integral_constant<Sh, Sh::Shl>{}); break;
        case ZYDIS_MNEMONIC_SHR: o.fn = sh(integral_constant<Sh, Sh::Shr>{}); break;
        case ZYDIS_MNEMONIC_SAR: o.fn = sh(integral_constant<Sh, Sh::Sar>{}); break;
        case ZYDIS_MNEMONIC_ROL: o.fn = sh(integral_constant<Sh, Sh::Rol>{}); break;
        case ZYDIS_MNEMONIC_ROR: o.fn = sh(integral_constant<Sh, Sh::Ror>{}); break;
        case ZYDIS_MNEMONIC_RCL: o.fn = sh(integral_constant<Sh, Sh::Rcl>{}); break;
        case ZYDIS_MNEMONIC_RCR: o.fn = sh(integral_constant<Sh, Sh::Rcr>{}); break;
        case ZYDIS_MNEMONIC_SHLD:
        case ZYDIS_MNEMONIC_SHRD: {
            const bool right = m == ZYDIS_MNEMONIC_SHRD;
            const Form s = x.form[2] == Form::R ? Form::R : Form::I;
            o.fn = sized_rm(x, [&](auto t) -> Handler {
                using T = std::decay_t<decltype(t)>;
                if (x.form[0] == Form::M) {
                    if (s == Form::R) return right ? &dshift<T, Form::M, Form::R, true> : &dshift<T, Form::M, Form::R, false>;
                    return right ? &dshift<T, Form::M, Form::I, true> : &dshift<T, Form::M, Form::I, false>;
                }
                if (s == Form::R) return right ? &dshift<T, Form::R, Form::R, true> : &dshift<T, Form::R, Form::R, false>;
                return right ? &dshift<T, Form::R, Form::I, true> : &dshift<T, Form::R, Form::I, false>;
            });
            break;
        }
        case ZYDIS_MNEMONIC_MUL: o.fn = md(integral_constant<Md, Md::Mul>{}); break;
        case ZYDIS_MNEMONIC_DIV: o.fn = md(integral_constant<Md, Md::Div>{}); break;
        case ZYDIS_MNEMONIC_IDIV: o.fn = md(integral_constant<Md, Md::Idiv>{}); break;
        case ZYDIS_MNEMONIC_IMUL:
            if (x.nops == 1) {
                o.fn = md(integral_constant<Md, Md::Imul>{});
            } else {
                const bool three = x.nops == 3;
                o.fn = sized_rm(x, [&](auto t) -> Handler {
                    using T = std::decay_t<decltype(t)>;
                    if (x.form[1] == Form::M) return three ? &imul_n<T, Form::M, true> : &imul_n<T, Form::M, false>;
                    return three ? &imul_n<T, Form::R, true> : &imul_n<T, Form::R, false>;
                });
            }
            break;
        case ZYDIS_MNEMONIC_BT: o.fn = bt(integral_constant<Bt, Bt::Bt>{}); break;
        case ZYDIS_MNEMONIC_BTS: o.fn = bt(integral_constant<Bt, Bt::Bts>{}); break;
        case ZYDIS_MNEMONIC_BTR: o.fn = bt(integral_constant<Bt, Bt::Btr>{}); break;
        case ZYDIS_MNEMONIC_BTC: o.fn = bt(integral_constant<Bt, Bt::Btc>{}); break;
        case ZYDIS_MNEMONIC_BSF: o.fn = sc(integral_constant<Scan, Scan::Bsf>{}); break;
        case ZYDIS_MNEMONIC_BSR: o.fn = sc(integral_constant<Scan, Scan::Bsr>{}); break;
        case ZYDIS_MNEMONIC_TZCNT:
            // Without BMI1 in CPUID the encoding is REP BSF.
            o.fn = id.has(7, 0, 1, 3) ? sc(integral_constant<Scan, Scan::Tzcnt>{})
                                      : sc(integral_constant<Scan, Scan::Bsf>{});
            break;
        case ZYDIS_MNEMONIC_LZCNT:
            o.fn = id.has(0x80000001, 0, 2, 5) ? sc(integral_constant<Scan, Scan::Lzcnt>{})
                                               : sc(integral_constant<Scan, Scan::Bsr>{});
            break;
        case ZYDIS_MNEMONIC_POPCNT:
            o.fn = id.has(1, 0, 2, 23) ? sc(integral_constant<Scan, Scan::Popcnt>{}) : nullptr;
            break;
        default:
            return false;
    }
    if (o.fn == nullptr) o.fn = &h_ud;
    return true;
}

}  // namespace kvmemu::cpu
