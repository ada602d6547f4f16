// Host-executed arithmetic: each guest ALU operation runs as the same x86 instruction on the host
// and the resulting flags are captured with LAHF/SETO (no stack use, so the red zone is safe).
// Flags therefore match the host CPU bit for bit, including the architecturally undefined ones.
#pragma once

#include <cstdint>

namespace kvmemu::cpu {

// AH after LAHF = SF ZF 0 AF 0 PF 1 CF, AL after SETO = OF.
inline uint64_t lahf_to_rflags(uint64_t ax) { return ((ax >> 8) & 0xd5) | ((ax & 1) << 11); }

#define KVMEMU_BINOP(name, insn)                                                          \
    template <class T>                                                                    \
    inline T name(T a, T b, uint64_t& flags) {                                            \
        uint64_t ax;                                                                      \
        asm(insn " %[b],%[a]\n\tlahf\n\tseto %%al"                                        \
            : [a] "+r"(a), "=&a"(ax)                                                      \
            : [b] "r"(b)                                                                  \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_BINOP(h_add, "add")
KVMEMU_BINOP(h_or, "or")
KVMEMU_BINOP(h_and, "and")
KVMEMU_BINOP(h_sub, "sub")
KVMEMU_BINOP(h_xor, "xor")
KVMEMU_BINOP(h_cmp, "cmp")
KVMEMU_BINOP(h_test, "test")
#undef KVMEMU_BINOP

#define KVMEMU_CARRYOP(name, insn)                                                        \
    template <class T>                                                                    \
    inline T name(T a, T b, uint64_t cf, uint64_t& flags) {                               \
        uint64_t ax;                                                                      \
        asm("bt $0,%[cf]\n\t" insn " %[b],%[a]\n\tlahf\n\tseto %%al"                      \
            : [a] "+r"(a), "=&a"(ax)                                                      \
            : [b] "r"(b), [cf] "r"(cf)                                                    \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_CARRYOP(h_adc, "adc")
KVMEMU_CARRYOP(h_sbb, "sbb")
#undef KVMEMU_CARRYOP

#define KVMEMU_UNOP(name, insn)                                                           \
    template <class T>                                                                    \
    inline T name(T a, uint64_t& flags) {                                                 \
        uint64_t ax;                                                                      \
        asm(insn " %[a]\n\tlahf\n\tseto %%al" : [a] "+r"(a), "=&a"(ax) : : "cc");         \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_UNOP(h_inc, "inc")
KVMEMU_UNOP(h_dec, "dec")
KVMEMU_UNOP(h_neg, "neg")
#undef KVMEMU_UNOP

// Shifts and rotates by CL; CF is loaded first (for RCL/RCR). Caller handles a masked count of 0.
#define KVMEMU_SHIFT(name, insn)                                                          \
    template <class T>                                                                    \
    inline T name(T a, uint8_t count, uint64_t cf, uint64_t& flags) {                     \
        uint64_t ax;                                                                      \
        asm("bt $0,%[cf]\n\t" insn " %%cl,%[a]\n\tlahf\n\tseto %%al"                      \
            : [a] "+r"(a), "=&a"(ax)                                                      \
            : "c"(count), [cf] "r"(cf)                                                    \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_SHIFT(h_shl, "shl")
KVMEMU_SHIFT(h_shr, "shr")
KVMEMU_SHIFT(h_sar, "sar")
KVMEMU_SHIFT(h_rol, "rol")
KVMEMU_SHIFT(h_ror, "ror")
KVMEMU_SHIFT(h_rcl, "rcl")
KVMEMU_SHIFT(h_rcr, "rcr")
#undef KVMEMU_SHIFT

#define KVMEMU_DSHIFT(name, insn)                                                         \
    template <class T>                                                                    \
    inline T name(T a, T b, uint8_t count, uint64_t& flags) {                             \
        uint64_t ax;                                                                      \
        asm(insn " %%cl,%[b],%[a]\n\tlahf\n\tseto %%al"                                   \
            : [a] "+r"(a), "=&a"(ax)                                                      \
            : [b] "r"(b), "c"(count)                                                      \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_DSHIFT(h_shld, "shld")
KVMEMU_DSHIFT(h_shrd, "shrd")
#undef KVMEMU_DSHIFT

// Bit scans / counts: dst keeps its old value where the host leaves it unchanged (BSF/BSR of 0).
#define KVMEMU_SCAN(name, insn)                                                           \
    template <class T>                                                                    \
    inline T name(T old, T src, uint64_t& flags) {                                        \
        uint64_t ax;                                                                      \
        asm(insn " %[s],%[d]\n\tlahf\n\tseto %%al"                                        \
            : [d] "+r"(old), "=&a"(ax)                                                    \
            : [s] "r"(src)                                                                \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return old;                                                                       \
    }
KVMEMU_SCAN(h_bsf, "bsf")
KVMEMU_SCAN(h_bsr, "bsr")
KVMEMU_SCAN(h_tzcnt, "tzcnt")
KVMEMU_SCAN(h_lzcnt, "lzcnt")
KVMEMU_SCAN(h_popcnt, "popcnt")
KVMEMU_SCAN(h_imul2, "imul")
#undef KVMEMU_SCAN

// Bit tests with the bit number in a register (already reduced modulo the operand width).
#define KVMEMU_BT(name, insn)                                                             \
    template <class T>                                                                    \
    inline T name(T a, T bit, uint64_t& flags) {                                          \
        uint64_t ax;                                                                      \
        asm(insn " %[b],%[a]\n\tlahf\n\tseto %%al"                                        \
            : [a] "+r"(a), "=&a"(ax)                                                      \
            : [b] "r"(bit)                                                                \
            : "cc");                                                                      \
        flags = lahf_to_rflags(ax);                                                       \
        return a;                                                                         \
    }
KVMEMU_BT(h_bt, "bt")
KVMEMU_BT(h_bts, "bts")
KVMEMU_BT(h_btr, "btr")
KVMEMU_BT(h_btc, "btc")
#undef KVMEMU_BT

// One-operand MUL / IMUL: (hi:lo) = a * b.
#define KVMEMU_MUL(name, insn)                                                            \
    template <class T>                                                                    \
    inline void name(T a, T b, T& lo, T& hi, uint64_t& flags) {                           \
        uint64_t ax = a;                                                                  \
        if constexpr (sizeof(T) == 1) {                                                   \
            uint16_t r;                                                                   \
            asm(insn "b %[b]\n\tmovw %%ax,%[r]\n\tlahf\n\tseto %%al"                        \
                : "+a"(ax), [r] "=&r"(r)                                                  \
                : [b] "q"(b)                                                              \
                : "cc");                                                                  \
            lo = static_cast<T>(r);                                                       \
            hi = static_cast<T>(r >> 8);                                                  \
        } else {                                                                          \
            T h;                                                                          \
            uint64_t l;                                                                   \
            asm(insn " %[b]\n\tmov %%rax,%[l]\n\tlahf\n\tseto %%al"                         \
                : "+a"(ax), "=&d"(h), [l] "=&r"(l)                                        \
                : [b] "r"(b)                                                              \
                : "cc");                                                                  \
            lo = static_cast<T>(l);                                                       \
            hi = h;                                                                       \
        }                                                                                 \
        flags = lahf_to_rflags(ax);                                                       \
    }
KVMEMU_MUL(h_mul1, "mul")
KVMEMU_MUL(h_imul1, "imul")
#undef KVMEMU_MUL

// IMUL r, r/m, imm (three-operand form, via the two-operand host instruction).
template <class T>
inline T h_imul3(T src, T imm, uint64_t& flags) {
    uint64_t ax;
    asm("imul %[s],%[d]\n\tlahf\n\tseto %%al" : [d] "+r"(imm), "=&a"(ax) : [s] "r"(src) : "cc");
    flags = lahf_to_rflags(ax);
    return imm;
}

}  // namespace kvmemu::cpu
