// LOCK-prefixed read-modify-writes (and XCHG with memory) executed as the same locked host
// instruction on the guest page's host mapping, so they are atomic across vCPU threads. MMIO,
// page-crossing and code-page operands fall back to the plain (non-atomic) handler.
#include "cpu/internal/atomic.hpp"

#include "cpu/internal/hostflags.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

// Host pointer for an atomic RMW of `len` bytes at va, or nullptr to take the plain path.
uint8_t* rmw_ptr(Core& c, uint64_t va, unsigned len) {
    if ((va & 0xfff) > 0x1000 - len) return nullptr;
    const TlbEntry& e = c.tlb[(va >> 12) & (kTlbSize - 1)];
    if (e.tag_w == tag_of(c, va)) return e.host_w + (va & 0xfff);
    uint64_t gpa;
    if (translate_host(c, va, Access::Write, gpa) == nullptr) return nullptr;
    if (e.tag_w == tag_of(c, va)) return e.host_w + (va & 0xfff);  // not a code page
    return nullptr;
}

#define KVMEMU_LOCKBIN(name, insn)                                                               \
    template <class T>                                                                           \
    inline void name(T* p, T b, uint64_t cf, uint64_t& flags) {                                  \
        uint64_t ax;                                                                             \
        asm volatile("bt $0,%[cf]\n\tlock " insn " %[b],%[m]\n\tlahf\n\tseto %%al"               \
                     : [m] "+m"(*p), "=&a"(ax)                                                   \
                     : [b] "r"(b), [cf] "r"(cf)                                                  \
                     : "cc", "memory");                                                          \
        flags = lahf_to_rflags(ax);                                                              \
    }
KVMEMU_LOCKBIN(l_add, "add")
KVMEMU_LOCKBIN(l_or, "or")
KVMEMU_LOCKBIN(l_adc, "adc")
KVMEMU_LOCKBIN(l_sbb, "sbb")
KVMEMU_LOCKBIN(l_and, "and")
KVMEMU_LOCKBIN(l_sub, "sub")
KVMEMU_LOCKBIN(l_xor, "xor")
KVMEMU_LOCKBIN(l_bts, "bts")
KVMEMU_LOCKBIN(l_btr, "btr")
KVMEMU_LOCKBIN(l_btc, "btc")
#undef KVMEMU_LOCKBIN

// Memory-only operands carry no size for the assembler: spell the suffix out.
#define KVMEMU_LOCKUN_SZ(insn, sfx)                                                              \
    asm volatile("lock " insn sfx " %[m]\n\tlahf\n\tseto %%al"                                  \
                 : [m] "+m"(*p), "=&a"(ax)                                                       \
                 :                                                                               \
                 : "cc", "memory")
#define KVMEMU_LOCKUN(name, insn)                                                                \
    template <class T>                                                                           \
    inline void name(T* p, uint64_t& flags) {                                                    \
        uint64_t ax;                                                                             \
        if constexpr (sizeof(T) == 1) KVMEMU_LOCKUN_SZ(insn, "b");                               \
        else if constexpr (sizeof(T) == 2) KVMEMU_LOCKUN_SZ(insn, "w");                          \
        else if constexpr (sizeof(T) == 4) KVMEMU_LOCKUN_SZ(insn, "l");                          \
        else KVMEMU_LOCKUN_SZ(insn, "q");                                                        \
        flags = lahf_to_rflags(ax);                                                              \
    }
KVMEMU_LOCKUN(l_inc, "inc")
KVMEMU_LOCKUN(l_dec, "dec")
KVMEMU_LOCKUN(l_neg, "neg")
KVMEMU_LOCKUN(l_not, "not")
#undef KVMEMU_LOCKUN
#undef KVMEMU_LOCKUN_SZ

template <LockOp OP, class T, Form S>
void locked(Core& c, const Insn& i) {
    const uint64_t addr = ea(c, i);
    uint8_t* host = rmw_ptr(c, addr, sizeof(T));
    if (host == nullptr) return i.fallback(c, i);
    T* p = reinterpret_cast<T*>(host);
    uint64_t f = 0, mask = fl::ARITH;
    T b{};
    if constexpr (S == Form::R) b = getr<T>(c, i.r1);
    else if constexpr (S == Form::I) b = static_cast<T>(i.imm);
    const uint64_t cf = c.st->rflags;
    switch (OP) {
        case LockOp::Add: l_add<T>(p, b, cf, f); break;
        case LockOp::Or: l_or<T>(p, b, cf, f); break;
        case LockOp::Adc: l_adc<T>(p, b, cf, f); break;
        case LockOp::Sbb: l_sbb<T>(p, b, cf, f); break;
        case LockOp::And: l_and<T>(p, b, cf, f); break;
        case LockOp::Sub: l_sub<T>(p, b, cf, f); break;
        case LockOp::Xor: l_xor<T>(p, b, cf, f); break;
        case LockOp::Inc: l_inc<T>(p, f); mask &= ~fl::CF; break;
        case LockOp::Dec: l_dec<T>(p, f); mask &= ~fl::CF; break;
        case LockOp::Neg: l_neg<T>(p, f); break;
        case LockOp::Not: l_not<T>(p, f); mask = 0; break;
        case LockOp::Bts: if constexpr (sizeof(T) > 1) l_bts<T>(p, static_cast<T>(b & (sizeof(T) * 8 - 1)), cf, f); break;
        case LockOp::Btr: if constexpr (sizeof(T) > 1) l_btr<T>(p, static_cast<T>(b & (sizeof(T) * 8 - 1)), cf, f); break;
        case LockOp::Btc: if constexpr (sizeof(T) > 1) l_btc<T>(p, static_cast<T>(b & (sizeof(T) * 8 - 1)), cf, f); break;
        case LockOp::Xchg: {
            T v = b;
            asm volatile("xchg %[v],%[m]" : [m] "+m"(*p), [v] "+r"(v) : : "memory");
            setr<T>(c, i.r1, v);
            mask = 0;
            break;
        }
        case LockOp::Xadd: {
            T v = b;
            asm volatile("lock xadd %[v],%[m]" : [m] "+m"(*p), [v] "+r"(v) : : "cc", "memory");
            (void)h_add<T>(v, b, f);
            setr<T>(c, i.r1, v);
            break;
        }
        case LockOp::Cmpxchg: {
            const T expect = getr<T>(c, RAX);
            T acc = expect;
            asm volatile("lock cmpxchg %[v],%[m]" : [m] "+m"(*p), "+a"(acc) : [v] "r"(b) : "cc", "memory");
            (void)h_cmp<T>(expect, acc, f);
            if (acc != expect) setr<T>(c, RAX, acc);
            break;
        }
    }
    set_flags(c, mask, f);
}

template <LockOp OP>
Handler pick_form(unsigned osz, Form src) {
    return with_size(osz, [&](auto t) -> Handler {
        using T = std::decay_t<decltype(t)>;
        if (src == Form::R) return &locked<OP, T, Form::R>;
        if (src == Form::I) return &locked<OP, T, Form::I>;
        return nullptr;
    });
}

}  // namespace

Handler locked_handler(LockOp op, unsigned osz, Form src) {
    switch (op) {
        case LockOp::Add: return pick_form<LockOp::Add>(osz, src);
        case LockOp::Or: return pick_form<LockOp::Or>(osz, src);
        case LockOp::Adc: return pick_form<LockOp::Adc>(osz, src);
        case LockOp::Sbb: return pick_form<LockOp::Sbb>(osz, src);
        case LockOp::And: return pick_form<LockOp::And>(osz, src);
        case LockOp::Sub: return pick_form<LockOp::Sub>(osz, src);
        case LockOp::Xor: return pick_form<LockOp::Xor>(osz, src);
        case LockOp::Inc: return pick_form<LockOp::Inc>(osz, Form::I);
        case LockOp::Dec: return pick_form<LockOp::Dec>(osz, Form::I);
        case LockOp::Neg: return pick_form<LockOp::Neg>(osz, Form::I);
        case LockOp::Not: return pick_form<LockOp::Not>(osz, Form::I);
        case LockOp::Bts: return pick_form<LockOp::Bts>(osz, src);
        case LockOp::Btr: return pick_form<LockOp::Btr>(osz, src);
        case LockOp::Btc: return pick_form<LockOp::Btc>(osz, src);
        case LockOp::Xchg: return pick_form<LockOp::Xchg>(osz, Form::R);
        case LockOp::Xadd: return pick_form<LockOp::Xadd>(osz, Form::R);
        case LockOp::Cmpxchg: return pick_form<LockOp::Cmpxchg>(osz, Form::R);
    }
    return nullptr;
}

// Wraps an already-lowered memory-destination RMW: keeps the plain handler as the fallback.
void make_locked(DecodeCtx& x) {
    Insn& o = x.out;
    if (x.form[0] != Form::M || o.fn == nullptr || o.fn == &h_ud) return;
    LockOp op;
    switch (x.d.mnemonic) {
        case ZYDIS_MNEMONIC_ADD: op = LockOp::Add; break;
        case ZYDIS_MNEMONIC_OR: op = LockOp::Or; break;
        case ZYDIS_MNEMONIC_ADC: op = LockOp::Adc; break;
        case ZYDIS_MNEMONIC_SBB: op = LockOp::Sbb; break;
        case ZYDIS_MNEMONIC_AND: op = LockOp::And; break;
        case ZYDIS_MNEMONIC_SUB: op = LockOp::Sub; break;
        case ZYDIS_MNEMONIC_XOR: op = LockOp::Xor; break;
        case ZYDIS_MNEMONIC_INC: op = LockOp::Inc; break;
        case ZYDIS_MNEMONIC_DEC: op = LockOp::Dec; break;
        case ZYDIS_MNEMONIC_NEG: op = LockOp::Neg; break;
        case ZYDIS_MNEMONIC_NOT: op = LockOp::Not; break;
        case ZYDIS_MNEMONIC_BTS: op = LockOp::Bts; break;
        case ZYDIS_MNEMONIC_BTR: op = LockOp::Btr; break;
        case ZYDIS_MNEMONIC_BTC: op = LockOp::Btc; break;
        case ZYDIS_MNEMONIC_XCHG: op = LockOp::Xchg; break;
        case ZYDIS_MNEMONIC_XADD: op = LockOp::Xadd; break;
        case ZYDIS_MNEMONIC_CMPXCHG: op = LockOp::Cmpxchg; break;
        default: return;
    }
    // Register bit offsets for BT* address memory outside the operand: keep the plain handler.
    if ((op == LockOp::Bts || op == LockOp::Btr || op == LockOp::Btc) && x.form[1] != Form::I) return;
    const Handler h = locked_handler(op, o.osz, x.form[1]);
    if (h == nullptr) return;
    o.fallback = o.fn;
    o.fn = h;
}

}  // namespace kvmemu::cpu
