// SSE/SSE2 moves, logic and integer arithmetic; FXSAVE/FXRSTOR, FNINIT, LDMXCSR/STMXCSR.
// Packed operations run as the same SSE2 instruction on the host (x86-64 always has SSE2).
#include <emmintrin.h>

#include "cpu/internal/decode.hpp"

namespace kvmemu::cpu {
namespace {

using V = __m128i;

inline void sse_check(const Core& c) {
    if ((c.st->cr4 & (1u << 9)) == 0 || (c.st->cr0 & (1u << 2)) != 0) raise(6);  // OSFXSR, EM
    if ((c.st->cr0 & (1u << 3)) != 0) raise(7);                                   // TS
}

inline V xmm(const Core& c, uint8_t r) {
    V v;
    std::memcpy(&v, c.st->fx.xmm[r].data(), 16);
    return v;
}
inline void set_xmm(Core& c, uint8_t r, V v) { std::memcpy(c.st->fx.xmm[r].data(), &v, 16); }

inline V load16(Core& c, uint64_t a, bool aligned) {
    if (aligned && (a & 15) != 0) raise(13, 0);
    return rd<V>(c, a);
}
inline void store16(Core& c, uint64_t a, V v, bool aligned) {
    if (aligned && (a & 15) != 0) raise(13, 0);
    wr<V>(c, a, v);
}

// ---- packed binary ops: xmm op= xmm/m128 (memory must be aligned) ----
using BinOp = V (*)(V, V);
template <BinOp OP, Form S>
void pbin(Core& c, const Insn& i) {
    sse_check(c);
    const V b = S == Form::M ? load16(c, ea(c, i), true) : xmm(c, i.r1);
    set_xmm(c, i.r0, OP(xmm(c, i.r0), b));
}

V op_pxor(V a, V b) { return _mm_xor_si128(a, b); }
V op_por(V a, V b) { return _mm_or_si128(a, b); }
V op_pand(V a, V b) { return _mm_and_si128(a, b); }
V op_pandn(V a, V b) { return _mm_andnot_si128(a, b); }
V op_paddb(V a, V b) { return _mm_add_epi8(a, b); }
V op_paddw(V a, V b) { return _mm_add_epi16(a, b); }
V op_paddd(V a, V b) { return _mm_add_epi32(a, b); }
V op_paddq(V a, V b) { return _mm_add_epi64(a, b); }
V op_psubb(V a, V b) { return _mm_sub_epi8(a, b); }
V op_psubw(V a, V b) { return _mm_sub_epi16(a, b); }
V op_psubd(V a, V b) { return _mm_sub_epi32(a, b); }
V op_psubq(V a, V b) { return _mm_sub_epi64(a, b); }
V op_pcmpeqb(V a, V b) { return _mm_cmpeq_epi8(a, b); }
V op_pcmpeqw(V a, V b) { return _mm_cmpeq_epi16(a, b); }
V op_pcmpeqd(V a, V b) { return _mm_cmpeq_epi32(a, b); }
V op_pcmpgtb(V a, V b) { return _mm_cmpgt_epi8(a, b); }
V op_pcmpgtw(V a, V b) { return _mm_cmpgt_epi16(a, b); }
V op_pcmpgtd(V a, V b) { return _mm_cmpgt_epi32(a, b); }
V op_pminub(V a, V b) { return _mm_min_epu8(a, b); }
V op_pmaxub(V a, V b) { return _mm_max_epu8(a, b); }
V op_pminsw(V a, V b) { return _mm_min_epi16(a, b); }
V op_pmaxsw(V a, V b) { return _mm_max_epi16(a, b); }
V op_paddusb(V a, V b) { return _mm_adds_epu8(a, b); }
V op_psubusb(V a, V b) { return _mm_subs_epu8(a, b); }
V op_pmullw(V a, V b) { return _mm_mullo_epi16(a, b); }
V op_pavgb(V a, V b) { return _mm_avg_epu8(a, b); }
V op_psadbw(V a, V b) { return _mm_sad_epu8(a, b); }
V op_punpcklbw(V a, V b) { return _mm_unpacklo_epi8(a, b); }
V op_punpcklwd(V a, V b) { return _mm_unpacklo_epi16(a, b); }
V op_punpckldq(V a, V b) { return _mm_unpacklo_epi32(a, b); }
V op_punpcklqdq(V a, V b) { return _mm_unpacklo_epi64(a, b); }
V op_punpckhbw(V a, V b) { return _mm_unpackhi_epi8(a, b); }
V op_punpckhwd(V a, V b) { return _mm_unpackhi_epi16(a, b); }
V op_punpckhdq(V a, V b) { return _mm_unpackhi_epi32(a, b); }
V op_punpckhqdq(V a, V b) { return _mm_unpackhi_epi64(a, b); }
V op_packuswb(V a, V b) { return _mm_packus_epi16(a, b); }
V op_packsswb(V a, V b) { return _mm_packs_epi16(a, b); }
V op_packssdw(V a, V b) { return _mm_packs_epi32(a, b); }
// Shifts by the count in the low quadword of xmm/m128.
V op_psrlw(V a, V b) { return _mm_srl_epi16(a, b); }
V op_psrld(V a, V b) { return _mm_srl_epi32(a, b); }
V op_psrlq(V a, V b) { return _mm_srl_epi64(a, b); }
V op_psllw(V a, V b) { return _mm_sll_epi16(a, b); }
V op_pslld(V a, V b) { return _mm_sll_epi32(a, b); }
V op_psllq(V a, V b) { return _mm_sll_epi64(a, b); }
V op_psraw(V a, V b) { return _mm_sra_epi16(a, b); }
V op_psrad(V a, V b) { return _mm_sra_epi32(a, b); }

// Shifts by immediate: count in imm (aux selects the operation).
void pshift_imm(Core& c, const Insn& i) {
    sse_check(c);
    const V a = xmm(c, i.r0);
    const unsigned n = static_cast<unsigned>(i.imm) & 0xff;
    const V cnt = _mm_cvtsi32_si128(static_cast<int>(n));
    V r;
    switch (i.aux) {
        case 0: r = _mm_srl_epi16(a, cnt); break;
        case 1: r = _mm_srl_epi32(a, cnt); break;
        case 2: r = _mm_srl_epi64(a, cnt); break;
        case 3: r = _mm_sll_epi16(a, cnt); break;
        case 4: r = _mm_sll_epi32(a, cnt); break;
        case 5: r = _mm_sll_epi64(a, cnt); break;
        case 6: r = _mm_sra_epi16(a, cnt); break;
        case 7: r = _mm_sra_epi32(a, cnt); break;
        case 8: {  // psrldq
            uint8_t b[32] = {};
            std::memcpy(b, &a, 16);
            V o;
            std::memcpy(&o, b + std::min(n, 16u), 16);
            r = o;
            break;
        }
        default: {  // pslldq
            uint8_t b[32] = {};
            std::memcpy(b + 16, &a, 16);
            V o;
            std::memcpy(&o, b + 16 - std::min(n, 16u), 16);
            r = o;
            break;
        }
    }
    set_xmm(c, i.r0, r);
}

// PSHUFD (aux 0), PSHUFLW (1), PSHUFHW (2): xmm, xmm/m128, imm8.
template <Form S>
void pshuf(Core& c, const Insn& i) {
    sse_check(c);
    const V src = S == Form::M ? load16(c, ea(c, i), true) : xmm(c, i.r1);
    const auto imm = static_cast<unsigned>(i.imm);
    uint32_t d[4], s[4];
    uint16_t w[8], sw[8];
    std::memcpy(s, &src, 16);
    std::memcpy(sw, &src, 16);
    V r;
    if (i.aux == 0) {
        for (unsigned k = 0; k < 4; ++k) d[k] = s[(imm >> (2 * k)) & 3];
        std::memcpy(&r, d, 16);
    } else {
        std::memcpy(w, sw, 16);
        const unsigned base = i.aux == 1 ? 0 : 4;
        for (unsigned k = 0; k < 4; ++k) w[base + k] = sw[base + ((imm >> (2 * k)) & 3)];
        std::memcpy(&r, w, 16);
    }
    set_xmm(c, i.r0, r);
}

V op_unpcklps(V a, V b) { return _mm_castps_si128(_mm_unpacklo_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b))); }
V op_unpckhps(V a, V b) { return _mm_castps_si128(_mm_unpackhi_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b))); }
V op_pmuludq(V a, V b) { return _mm_mul_epu32(a, b); }
V op_pmaddwd(V a, V b) { return _mm_madd_epi16(a, b); }
V op_pmulhw(V a, V b) { return _mm_mulhi_epi16(a, b); }
V op_pmulhuw(V a, V b) { return _mm_mulhi_epu16(a, b); }
V op_paddsb(V a, V b) { return _mm_adds_epi8(a, b); }
V op_paddsw(V a, V b) { return _mm_adds_epi16(a, b); }
V op_paddusw(V a, V b) { return _mm_adds_epu16(a, b); }
V op_psubsb(V a, V b) { return _mm_subs_epi8(a, b); }
V op_psubsw(V a, V b) { return _mm_subs_epi16(a, b); }
V op_psubusw(V a, V b) { return _mm_subs_epu16(a, b); }
V op_pavgw(V a, V b) { return _mm_avg_epu16(a, b); }

// SHUFPS (aux 0) / SHUFPD (aux 1): xmm, xmm/m128, imm8.
template <Form S>
void shufp(Core& c, const Insn& i) {
    sse_check(c);
    const V b = S == Form::M ? load16(c, ea(c, i), true) : xmm(c, i.r1);
    const V a = xmm(c, i.r0);
    const auto imm = static_cast<unsigned>(i.imm);
    V r;
    if (i.aux == 0) {
        uint32_t x[4], y[4], d[4];
        std::memcpy(x, &a, 16);
        std::memcpy(y, &b, 16);
        d[0] = x[imm & 3];
        d[1] = x[(imm >> 2) & 3];
        d[2] = y[(imm >> 4) & 3];
        d[3] = y[(imm >> 6) & 3];
        std::memcpy(&r, d, 16);
    } else {
        uint64_t x[2], y[2], d[2];
        std::memcpy(x, &a, 16);
        std::memcpy(y, &b, 16);
        d[0] = x[imm & 1];
        d[1] = y[(imm >> 1) & 1];
        std::memcpy(&r, d, 16);
    }
    set_xmm(c, i.r0, r);
}

// MOVHLPS (aux 0) / MOVLHPS (aux 1), register forms.
void movhl(Core& c, const Insn& i) {
    sse_check(c);
    auto& d = c.st->fx.xmm[i.r0];
    const auto& s = c.st->fx.xmm[i.r1];
    if (i.aux == 0) std::memcpy(d.data(), s.data() + 8, 8);
    else std::memcpy(d.data() + 8, s.data(), 8);
}

// PEXTRW r32, xmm, imm8 / PINSRW xmm, r32/m16, imm8 (aux 0 / 1).
template <Form S>
void pxw(Core& c, const Insn& i) {
    sse_check(c);
    if (i.aux == 0) {
        uint16_t w;
        std::memcpy(&w, c.st->fx.xmm[i.r1].data() + 2 * (i.imm & 7), 2);
        c.st->gpr[i.r0] = w;
    } else {
        const uint16_t w = S == Form::M ? rd<uint16_t>(c, ea(c, i)) : static_cast<uint16_t>(c.st->gpr[i.r1]);
        std::memcpy(c.st->fx.xmm[i.r0].data() + 2 * (i.imm & 7), &w, 2);
    }
}

// MOVMSKPS (aux 0) / MOVMSKPD (aux 1).
void movmskp(Core& c, const Insn& i) {
    sse_check(c);
    const V v = xmm(c, i.r1);
    c.st->gpr[i.r0] = static_cast<uint32_t>(i.aux == 0 ? _mm_movemask_ps(_mm_castsi128_ps(v))
                                                       : _mm_movemask_pd(_mm_castsi128_pd(v)));
}

void pmovmskb(Core& c, const Insn& i) {
    sse_check(c);
    c.st->gpr[i.r0] = static_cast<uint32_t>(_mm_movemask_epi8(xmm(c, i.r1)));
}

// Full 128-bit moves: MOVDQA/MOVDQU/MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVNTDQ/... (aux 1 = aligned).
template <Form D, Form S>
void mov128(Core& c, const Insn& i) {
    sse_check(c);
    const bool al = i.aux != 0;
    V v;
    if constexpr (S == Form::M) v = load16(c, ea(c, i), al);
    else v = xmm(c, i.r1);
    if constexpr (D == Form::M) store16(c, ea(c, i), v, al);
    else set_xmm(c, i.r0, v);
}

// MOVD/MOVQ between GPR/memory and xmm. aux: 4 or 8 bytes. D/S forms; xmm side zero-extends.
template <Form D, Form S, bool TO_XMM>
void movdq(Core& c, const Insn& i) {
    sse_check(c);
    const unsigned n = i.aux;
    if constexpr (TO_XMM) {
        uint64_t v;
        if constexpr (S == Form::M) v = n == 4 ? rd<uint32_t>(c, ea(c, i)) : rd<uint64_t>(c, ea(c, i));
        else if (i.cond == 1) {  // source is an xmm register (movq xmm, xmm)
            std::memcpy(&v, c.st->fx.xmm[i.r1].data(), 8);
        } else {
            v = n == 4 ? static_cast<uint32_t>(c.st->gpr[i.r1]) : c.st->gpr[i.r1];
        }
        auto& x = c.st->fx.xmm[i.r0];
        x.fill(0);
        std::memcpy(x.data(), &v, 8);
    } else {
        uint64_t v;
        std::memcpy(&v, c.st->fx.xmm[i.r1].data(), 8);
        if (n == 4) v = static_cast<uint32_t>(v);
        if constexpr (D == Form::M) {
            if (n == 4) wr<uint32_t>(c, ea(c, i), static_cast<uint32_t>(v));
            else wr<uint64_t>(c, ea(c, i), v);
        } else {
            c.st->gpr[i.r0] = v;
        }
    }
}

// MOVSS/MOVSD (aux 4/8): xmm<-m zero-extends, xmm<-xmm merges the low element, m<-xmm stores.
template <Form D, Form S>
void movs_scalar(Core& c, const Insn& i) {
    sse_check(c);
    const unsigned n = i.aux;
    if constexpr (D == Form::M) {
        uint8_t b[8];
        std::memcpy(b, c.st->fx.xmm[i.r1].data(), n);
        if (n == 4) { uint32_t v; std::memcpy(&v, b, 4); wr<uint32_t>(c, ea(c, i), v); }
        else { uint64_t v; std::memcpy(&v, b, 8); wr<uint64_t>(c, ea(c, i), v); }
    } else if constexpr (S == Form::M) {
        uint64_t v = n == 4 ? rd<uint32_t>(c, ea(c, i)) : rd<uint64_t>(c, ea(c, i));
        auto& x = c.st->fx.xmm[i.r0];
        x.fill(0);
        std::memcpy(x.data(), &v, n);
    } else {
        std::memcpy(c.st->fx.xmm[i.r0].data(), c.st->fx.xmm[i.r1].data(), n);
    }
}

// MOVLPS/MOVLPD (aux 0) and MOVHPS/MOVHPD (aux 8): 8-byte half load/store.
template <Form D>
void movhalf(Core& c, const Insn& i) {
    sse_check(c);
    if constexpr (D == Form::M) {
        uint64_t v;
        std::memcpy(&v, c.st->fx.xmm[i.r1].data() + i.aux, 8);
        wr<uint64_t>(c, ea(c, i), v);
    } else {
        const uint64_t v = rd<uint64_t>(c, ea(c, i));
        std::memcpy(c.st->fx.xmm[i.r0].data() + i.aux, &v, 8);
    }
}

void fxsave(Core& c, const Insn& i) {
    if ((c.st->cr0 & ((1u << 2) | (1u << 3))) != 0) raise((c.st->cr0 & (1u << 2)) != 0 ? 6 : 7);
    const uint64_t a = ea(c, i);
    if ((a & 15) != 0) raise(13, 0);
    uint8_t buf[512];
    std::memcpy(buf, &c.st->fx, 512);
    // Write in 16-byte pieces so a fault leaves no partial state in registers.
    (void)translate(c, a, Access::Write);
    (void)translate(c, a + 511, Access::Write);
    for (unsigned k = 0; k < 512; k += 16) {
        V v;
        std::memcpy(&v, buf + k, 16);
        wr<V>(c, a + k, v);
    }
}

void fxrstor(Core& c, const Insn& i) {
    if ((c.st->cr0 & ((1u << 2) | (1u << 3))) != 0) raise((c.st->cr0 & (1u << 2)) != 0 ? 6 : 7);
    const uint64_t a = ea(c, i);
    if ((a & 15) != 0) raise(13, 0);
    FxState fx;
    auto* p = reinterpret_cast<uint8_t*>(&fx);
    for (unsigned k = 0; k < 512; k += 16) {
        const V v = rd<V>(c, a + k);
        std::memcpy(p + k, &v, 16);
    }
    if ((fx.mxcsr & ~c.st->fx.mxcsr_mask) != 0) raise(13, 0);
    const uint32_t mask = c.st->fx.mxcsr_mask;
    std::memcpy(fx.reserved2.data(), c.st->fx.reserved2.data(), fx.reserved2.size());
    c.st->fx = fx;
    c.st->fx.mxcsr_mask = mask;
}

void fninit(Core& c, const Insn&) {
    if ((c.st->cr0 & ((1u << 2) | (1u << 3))) != 0) raise(7);
    FxState& f = c.st->fx;
    f.fcw = 0x37f;
    f.fsw = 0;
    f.ftw = 0;
    f.fop = 0;
    f.fip = 0;
    f.fdp = 0;
}

void fnop_x87(Core& c, const Insn&) {
    if ((c.st->cr0 & ((1u << 2) | (1u << 3))) != 0) raise(7);
}

// FNSTCW m16 (aux 0), FLDCW m16 (1), FNSTSW m16/AX (2).
void x87_ctl(Core& c, const Insn& i) {
    if ((c.st->cr0 & ((1u << 2) | (1u << 3))) != 0) raise(7);
    FxState& f = c.st->fx;
    switch (i.aux) {
        case 0: wr<uint16_t>(c, ea(c, i), f.fcw); break;
        case 1: f.fcw = rd<uint16_t>(c, ea(c, i)); break;
        default:
            if (i.r0 != kNoReg) setr<uint16_t>(c, RAX, f.fsw);
            else wr<uint16_t>(c, ea(c, i), f.fsw);
            break;
    }
}

void ldmxcsr(Core& c, const Insn& i) {
    sse_check(c);
    const uint32_t v = rd<uint32_t>(c, ea(c, i));
    if ((v & ~c.st->fx.mxcsr_mask) != 0) raise(13, 0);
    c.st->fx.mxcsr = v;
}

void stmxcsr(Core& c, const Insn& i) {
    sse_check(c);
    wr<uint32_t>(c, ea(c, i), c.st->fx.mxcsr);
}

bool is_xmm(const DecodeCtx& x, unsigned k) {
    return x.form[k] == Form::R && ZydisRegisterGetClass(x.ops[k].reg.value) == ZYDIS_REGCLASS_XMM;
}

template <BinOp OP>
Handler bin(const DecodeCtx& x) {
    if (!is_xmm(x, 0)) return nullptr;  // MMX forms are not supported
    if (x.form[1] == Form::M) return &pbin<OP, Form::M>;
    return is_xmm(x, 1) ? &pbin<OP, Form::R> : nullptr;
}

}  // namespace

bool lower_sse(DecodeCtx& x) {
    Insn& o = x.out;
    const auto m = x.d.mnemonic;
    if ((x.d.attributes & ZYDIS_ATTRIB_HAS_VEX) != 0 || (x.d.attributes & ZYDIS_ATTRIB_HAS_EVEX) != 0) return false;
    const Form f0 = x.form[0], f1 = x.form[1];
    switch (m) {
        case ZYDIS_MNEMONIC_PXOR: case ZYDIS_MNEMONIC_XORPS: case ZYDIS_MNEMONIC_XORPD: o.fn = bin<op_pxor>(x); break;
        case ZYDIS_MNEMONIC_POR: case ZYDIS_MNEMONIC_ORPS: case ZYDIS_MNEMONIC_ORPD: o.fn = bin<op_por>(x); break;
        case ZYDIS_MNEMONIC_PAND: case ZYDIS_MNEMONIC_ANDPS: case ZYDIS_MNEMONIC_ANDPD: o.fn = bin<op_pand>(x); break;
        case ZYDIS_MNEMONIC_PANDN: case ZYDIS_MNEMONIC_ANDNPS: case ZYDIS_MNEMONIC_ANDNPD: o.fn = bin<op_pandn>(x); break;
        case ZYDIS_MNEMONIC_PADDB: o.fn = bin<op_paddb>(x); break;
        case ZYDIS_MNEMONIC_PADDW: o.fn = bin<op_paddw>(x); break;
        case ZYDIS_MNEMONIC_PADDD: o.fn = bin<op_paddd>(x); break;
        case ZYDIS_MNEMONIC_PADDQ: o.fn = bin<op_paddq>(x); break;
        case ZYDIS_MNEMONIC_PSUBB: o.fn = bin<op_psubb>(x); break;
        case ZYDIS_MNEMONIC_PSUBW: o.fn = bin<op_psubw>(x); break;
        case ZYDIS_MNEMONIC_PSUBD: o.fn = bin<op_psubd>(x); break;
        case ZYDIS_MNEMONIC_PSUBQ: o.fn = bin<op_psubq>(x); break;
        case ZYDIS_MNEMONIC_PCMPEQB: o.fn = bin<op_pcmpeqb>(x); break;
        case ZYDIS_MNEMONIC_PCMPEQW: o.fn = bin<op_pcmpeqw>(x); break;
        case ZYDIS_MNEMONIC_PCMPEQD: o.fn = bin<op_pcmpeqd>(x); break;
        case ZYDIS_MNEMONIC_PCMPGTB: o.fn = bin<op_pcmpgtb>(x); break;
        case ZYDIS_MNEMONIC_PCMPGTW: o.fn = bin<op_pcmpgtw>(x); break;
        case ZYDIS_MNEMONIC_PCMPGTD: o.fn = bin<op_pcmpgtd>(x); break;
        case ZYDIS_MNEMONIC_PMINUB: o.fn = bin<op_pminub>(x); break;
        case ZYDIS_MNEMONIC_PMAXUB: o.fn = bin<op_pmaxub>(x); break;
        case ZYDIS_MNEMONIC_PMINSW: o.fn = bin<op_pminsw>(x); break;
        case ZYDIS_MNEMONIC_PMAXSW: o.fn = bin<op_pmaxsw>(x); break;
        case ZYDIS_MNEMONIC_PADDUSB: o.fn = bin<op_paddusb>(x); break;
        case ZYDIS_MNEMONIC_PSUBUSB: o.fn = bin<op_psubusb>(x); break;
        case ZYDIS_MNEMONIC_PMULLW: o.fn = bin<op_pmullw>(x); break;
        case ZYDIS_MNEMONIC_PAVGB: o.fn = bin<op_pavgb>(x); break;
        case ZYDIS_MNEMONIC_PSADBW: o.fn = bin<op_psadbw>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKLBW: o.fn = bin<op_punpcklbw>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKLWD: o.fn = bin<op_punpcklwd>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKLDQ: o.fn = bin<op_punpckldq>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKLQDQ: o.fn = bin<op_punpcklqdq>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKHBW: o.fn = bin<op_punpckhbw>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKHWD: o.fn = bin<op_punpckhwd>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKHDQ: o.fn = bin<op_punpckhdq>(x); break;
        case ZYDIS_MNEMONIC_PUNPCKHQDQ: o.fn = bin<op_punpckhqdq>(x); break;
        case ZYDIS_MNEMONIC_PACKUSWB: o.fn = bin<op_packuswb>(x); break;
        case ZYDIS_MNEMONIC_PACKSSWB: o.fn = bin<op_packsswb>(x); break;
        case ZYDIS_MNEMONIC_PACKSSDW: o.fn = bin<op_packssdw>(x); break;
        case ZYDIS_MNEMONIC_PSRLW: case ZYDIS_MNEMONIC_PSRLD: case ZYDIS_MNEMONIC_PSRLQ:
        case ZYDIS_MNEMONIC_PSLLW: case ZYDIS_MNEMONIC_PSLLD: case ZYDIS_MNEMONIC_PSLLQ:
        case ZYDIS_MNEMONIC_PSRAW: case ZYDIS_MNEMONIC_PSRAD:
        case ZYDIS_MNEMONIC_PSRLDQ: case ZYDIS_MNEMONIC_PSLLDQ: {
            if (!is_xmm(x, 0)) return false;
            if (f1 == Form::I) {
                static constexpr ZydisMnemonic order[] = {
                    ZYDIS_MNEMONIC_PSRLW, ZYDIS_MNEMONIC_PSRLD, ZYDIS_MNEMONIC_PSRLQ, ZYDIS_MNEMONIC_PSLLW,
                    ZYDIS_MNEMONIC_PSLLD, ZYDIS_MNEMONIC_PSLLQ, ZYDIS_MNEMONIC_PSRAW, ZYDIS_MNEMONIC_PSRAD,
                    ZYDIS_MNEMONIC_PSRLDQ, ZYDIS_MNEMONIC_PSLLDQ};
                for (uint8_t k = 0; k < 10; ++k)
                    if (order[k] == m) o.aux = k;
                o.fn = &pshift_imm;
                break;
            }
            switch (m) {
                case ZYDIS_MNEMONIC_PSRLW: o.fn = bin<op_psrlw>(x); break;
                case ZYDIS_MNEMONIC_PSRLD: o.fn = bin<op_psrld>(x); break;
                case ZYDIS_MNEMONIC_PSRLQ: o.fn = bin<op_psrlq>(x); break;
                case ZYDIS_MNEMONIC_PSLLW: o.fn = bin<op_psllw>(x); break;
                case ZYDIS_MNEMONIC_PSLLD: o.fn = bin<op_pslld>(x); break;
                case ZYDIS_MNEMONIC_PSLLQ: o.fn = bin<op_psllq>(x); break;
                case ZYDIS_MNEMONIC_PSRAW: o.fn = bin<op_psraw>(x); break;
                case ZYDIS_MNEMONIC_PSRAD: o.fn = bin<op_psrad>(x); break;
                default: o.fn = nullptr; break;
            }
            break;
        }
        case ZYDIS_MNEMONIC_PSHUFD: case ZYDIS_MNEMONIC_PSHUFLW: case ZYDIS_MNEMONIC_PSHUFHW:
            if (!is_xmm(x, 0)) return false;
            o.aux = m == ZYDIS_MNEMONIC_PSHUFD ? 0 : m == ZYDIS_MNEMONIC_PSHUFLW ? 1 : 2;
            o.fn = f1 == Form::M ? &pshuf<Form::M> : &pshuf<Form::R>;
            break;
        case ZYDIS_MNEMONIC_UNPCKLPS: o.fn = bin<op_unpcklps>(x); break;
        case ZYDIS_MNEMONIC_UNPCKHPS: o.fn = bin<op_unpckhps>(x); break;
        case ZYDIS_MNEMONIC_UNPCKLPD: o.fn = bin<op_punpcklqdq>(x); break;
        case ZYDIS_MNEMONIC_UNPCKHPD: o.fn = bin<op_punpckhqdq>(x); break;
        case ZYDIS_MNEMONIC_PMULUDQ: o.fn = bin<op_pmuludq>(x); break;
        case ZYDIS_MNEMONIC_PMADDWD: o.fn = bin<op_pmaddwd>(x); break;
        case ZYDIS_MNEMONIC_PMULHW: o.fn = bin<op_pmulhw>(x); break;
        case ZYDIS_MNEMONIC_PMULHUW: o.fn = bin<op_pmulhuw>(x); break;
        case ZYDIS_MNEMONIC_PADDSB: o.fn = bin<op_paddsb>(x); break;
        case ZYDIS_MNEMONIC_PADDSW: o.fn = bin<op_paddsw>(x); break;
        case ZYDIS_MNEMONIC_PADDUSW: o.fn = bin<op_paddusw>(x); break;
        case ZYDIS_MNEMONIC_PSUBSB: o.fn = bin<op_psubsb>(x); break;
        case ZYDIS_MNEMONIC_PSUBSW: o.fn = bin<op_psubsw>(x); break;
        case ZYDIS_MNEMONIC_PSUBUSW: o.fn = bin<op_psubusw>(x); break;
        case ZYDIS_MNEMONIC_PAVGW: o.fn = bin<op_pavgw>(x); break;
        case ZYDIS_MNEMONIC_SHUFPS: case ZYDIS_MNEMONIC_SHUFPD:
            if (!is_xmm(x, 0)) return false;
            o.aux = m == ZYDIS_MNEMONIC_SHUFPS ? 0 : 1;
            o.fn = f1 == Form::M ? &shufp<Form::M> : &shufp<Form::R>;
            break;
        case ZYDIS_MNEMONIC_MOVHLPS: case ZYDIS_MNEMONIC_MOVLHPS:
            if (!is_xmm(x, 0) || !is_xmm(x, 1)) return false;
            o.aux = m == ZYDIS_MNEMONIC_MOVHLPS ? 0 : 1;
            o.fn = &movhl;
            break;
        case ZYDIS_MNEMONIC_PEXTRW:
            if (!is_xmm(x, 1) || f0 != Form::R) return false;
            o.aux = 0;
            o.fn = &pxw<Form::R>;
            break;
        case ZYDIS_MNEMONIC_PINSRW:
            if (!is_xmm(x, 0)) return false;
            o.aux = 1;
            o.fn = f1 == Form::M ? &pxw<Form::M> : &pxw<Form::R>;
            break;
        case ZYDIS_MNEMONIC_MOVMSKPS: case ZYDIS_MNEMONIC_MOVMSKPD:
            if (!is_xmm(x, 1)) return false;
            o.aux = m == ZYDIS_MNEMONIC_MOVMSKPS ? 0 : 1;
            o.fn = &movmskp;
            break;
        case ZYDIS_MNEMONIC_PMOVMSKB:
            if (!is_xmm(x, 1)) return false;
            o.fn = &pmovmskb;
            break;
        case ZYDIS_MNEMONIC_MOVDQA: case ZYDIS_MNEMONIC_MOVAPS: case ZYDIS_MNEMONIC_MOVAPD:
        case ZYDIS_MNEMONIC_MOVNTDQ: case ZYDIS_MNEMONIC_MOVNTPS: case ZYDIS_MNEMONIC_MOVNTPD:
        case ZYDIS_MNEMONIC_MOVNTDQA:
        case ZYDIS_MNEMONIC_MOVDQU: case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD:
        case ZYDIS_MNEMONIC_LDDQU:
            o.aux = (m == ZYDIS_MNEMONIC_MOVDQU || m == ZYDIS_MNEMONIC_MOVUPS || m == ZYDIS_MNEMONIC_MOVUPD ||
                     m == ZYDIS_MNEMONIC_LDDQU) ? 0 : 1;
            if (f0 == Form::M) o.fn = &mov128<Form::M, Form::R>;
            else if (f1 == Form::M) o.fn = &mov128<Form::R, Form::M>;
            else o.fn = &mov128<Form::R, Form::R>;
            break;
        case ZYDIS_MNEMONIC_MOVD: case ZYDIS_MNEMONIC_MOVQ: {
            if (!is_xmm(x, 0) && !is_xmm(x, 1)) return false;  // MMX
            o.aux = static_cast<uint8_t>(x.size[is_xmm(x, 0) ? 1 : 0] == 4 ? 4 : 8);
            if (is_xmm(x, 0)) {
                o.cond = is_xmm(x, 1) ? 1 : 0;
                o.fn = f1 == Form::M ? &movdq<Form::R, Form::M, true> : &movdq<Form::R, Form::R, true>;
            } else {
                o.fn = f0 == Form::M ? &movdq<Form::M, Form::R, false> : &movdq<Form::R, Form::R, false>;
            }
            break;
        }
        case ZYDIS_MNEMONIC_MOVSS: case ZYDIS_MNEMONIC_MOVSD:
            if (x.nops != 2 || (!is_xmm(x, 0) && !is_xmm(x, 1))) return false;  // MOVSD string form
            o.aux = m == ZYDIS_MNEMONIC_MOVSS ? 4 : 8;
            if (f0 == Form::M) o.fn = &movs_scalar<Form::M, Form::R>;
            else if (f1 == Form::M) o.fn = &movs_scalar<Form::R, Form::M>;
            else o.fn = &movs_scalar<Form::R, Form::R>;
            break;
        case ZYDIS_MNEMONIC_MOVLPS: case ZYDIS_MNEMONIC_MOVLPD: case ZYDIS_MNEMONIC_MOVHPS: case ZYDIS_MNEMONIC_MOVHPD:
            if (f0 != Form::M && f1 != Form::M) return false;  // MOVHLPS/MOVLHPS register forms
            o.aux = (m == ZYDIS_MNEMONIC_MOVHPS || m == ZYDIS_MNEMONIC_MOVHPD) ? 8 : 0;
            o.fn = f0 == Form::M ? &movhalf<Form::M> : &movhalf<Form::R>;
            break;
        case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXSAVE64: o.fn = &fxsave; break;
        case ZYDIS_MNEMONIC_FXRSTOR: case ZYDIS_MNEMONIC_FXRSTOR64: o.fn = &fxrstor; break;
        case ZYDIS_MNEMONIC_FNINIT: o.fn = &fninit; break;
        case ZYDIS_MNEMONIC_FWAIT: case ZYDIS_MNEMONIC_FNCLEX: o.fn = &fnop_x87; break;
        case ZYDIS_MNEMONIC_FNSTCW: o.aux = 0; o.fn = &x87_ctl; break;
        case ZYDIS_MNEMONIC_FLDCW: o.aux = 1; o.fn = &x87_ctl; break;
        case ZYDIS_MNEMONIC_FNSTSW: o.aux = 2; if (f0 == Form::M) o.r0 = kNoReg; o.fn = &x87_ctl; break;
        case ZYDIS_MNEMONIC_LDMXCSR: o.fn = &ldmxcsr; break;
        case ZYDIS_MNEMONIC_STMXCSR: o.fn = &stmxcsr; break;
        default:
            return false;
    }
    if (o.fn == nullptr) o.fn = &h_ud;
    return true;
}

}  // namespace kvmemu::cpu
