// Core: the engine's per-run working context (state, bus, software TLB, pre-decoded instruction
// form) and the inline fast paths every instruction handler uses for registers and memory.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "cpu/engine.hpp"
#include "cpu/state.hpp"

namespace kvmemu::cpu {

struct Core;
struct Insn;
using Handler = void (*)(Core&, const Insn&);

inline constexpr uint8_t kNoReg = 0xff;
inline constexpr uint8_t kRipReg = 0xfe;
inline constexpr uint8_t kNoSeg = 0xff;
inline constexpr unsigned kMaxBlockInsns = 64;

// Operand forms for templated handlers: register, memory, immediate.
enum class Form : uint8_t { R, M, I };

// Pre-decoded instruction. Register numbers 0..15 are GPRs; 16..19 are AH, CH, DH, BH (8-bit
// operands without REX). r0 is the destination register (or the only register), r1 the source.
struct Insn {
    Handler fn = nullptr;
    uint8_t len = 0;
    uint8_t osz = 0;  // operand size in bytes
    uint8_t asz = 8;  // address size in bytes
    uint8_t r0 = kNoReg, r1 = kNoReg;
    uint8_t base = kNoReg, index = kNoReg, scale = 0;
    uint8_t seg = kNoSeg;  // FS or GS override (others ignored in 64-bit mode)
    uint8_t cond = 0;      // condition code / sub-operation
    uint8_t rep = 0;       // 0 none, 1 rep/repe, 2 repne
    uint8_t aux = 0;       // handler-specific
    uint16_t mnemonic = 0;  // ZydisMnemonic, for diagnostics
    int64_t disp = 0;
    int64_t imm = 0;
    int64_t imm2 = 0;
    Handler fallback = nullptr;  // plain handler behind an atomic one (LOCK)
};

// A guest exception to deliver through the IDT.
struct GuestFault {
    uint8_t vector;
    bool has_error;
    uint32_t error;
};

// Thrown to leave run() with a filled RunResult (exits that stop an instruction midway or after).
struct ExitNow {};

// Pending completion of an instruction that exited for IN.
struct PendingIn {
    bool active = false;
    bool string = false;  // ins
    bool rep = false;
    uint8_t size = 0;
    uint64_t next_rip = 0;  // in / non-rep ins: after the instruction
    uint32_t count = 1;     // rep ins: elements the exit asked for
    uint8_t asz = 8;        // rep ins: address size (RCX / RDI width)
    uint64_t insn_rip = 0;  // rep ins: the instruction (restarted while RCX is not 0)
};

// KVM's read-ahead buffer for string port input (struct read_cache's data): the most one
// KVM_EXIT_IO of a rep INS carries.
inline constexpr unsigned kMaxPioInBytes = 1024;

struct TlbEntry {
    uint64_t tag_r = ~0ULL, tag_w = ~0ULL, tag_x = ~0ULL;
    uint8_t* host_r = nullptr;
    uint8_t* host_w = nullptr;
    uint8_t* host_x = nullptr;
    uint64_t gpa = 0;  // guest-physical page of this translation
};

inline constexpr unsigned kTlbSize = 256;
inline constexpr uint64_t kTlbGens = 1024;

class BlockCache;

struct Core {
    CpuState* st = nullptr;
    PhysBus* bus = nullptr;
    Engine::Impl* eng = nullptr;
    RunResult* result = nullptr;

    uint64_t next_rip = 0;
    bool stop = false;     // end the current block after this instruction
    bool exit_pending = false;  // leave run() after this instruction (result->reason is set)
    uint64_t cpl3 = 0;     // 1 when CPL is 3 (folded into TLB tags)
    uint64_t tlb_gen = 0;  // 0..kTlbGens-1, bits 1..10 of TLB tags; bumping it flushes the TLB

    std::array<TlbEntry, kTlbSize> tlb{};

    // MMIO: completed reads replayed in order on re-execution; writes queued for exits.
    std::deque<MmioExit> mmio_reads_done;
    std::deque<MmioExit> mmio_writes;

    // Fault-during-delivery tracking for #DF / triple fault.
    int delivering = -1;
};

// ---- registers ----
template <class T>
[[gnu::always_inline]] inline T getr(const Core& c, uint8_t r) {
    if constexpr (sizeof(T) == 1) {
        if (r >= 16) return static_cast<T>(c.st->gpr[r - 16] >> 8);
    }
    return static_cast<T>(c.st->gpr[r]);
}

template <class T>
[[gnu::always_inline]] inline void setr(Core& c, uint8_t r, T v) {
    if constexpr (sizeof(T) == 1) {
        if (r >= 16) {
            uint64_t& g = c.st->gpr[r - 16];
            g = (g & ~0xff00ULL) | (static_cast<uint64_t>(v) << 8);
            return;
        }
        uint64_t& g = c.st->gpr[r];
        g = (g & ~0xffULL) | v;
    } else if constexpr (sizeof(T) == 2) {
        uint64_t& g = c.st->gpr[r];
        g = (g & ~0xffffULL) | v;
    } else if constexpr (sizeof(T) == 4) {
        c.st->gpr[r] = v;
    } else {
        c.st->gpr[r] = v;
    }
}

[[gnu::always_inline]] inline void set_flags(Core& c, uint64_t mask, uint64_t value) {
    c.st->rflags = (c.st->rflags & ~mask) | (value & mask);
}

// ---- memory ----
[[noreturn]] void raise(uint8_t vector);
[[noreturn]] void raise(uint8_t vector, uint32_t error);

void read_slow(Core& c, uint64_t va, void* dst, unsigned len, Access acc);
void write_slow(Core& c, uint64_t va, const void* src, unsigned len);
// Translates va for access (filling the TLB); returns the host pointer or nullptr for MMIO.
uint8_t* translate_host(Core& c, uint64_t va, Access acc, uint64_t& gpa);
uint64_t translate(Core& c, uint64_t va, Access acc);  // guest-physical, raises #PF
void tlb_flush(Core& c);
void tlb_flush_page(Core& c, uint64_t va);
void tlb_drop_writes_to(Core& c, uint64_t gpa_page);

// Valid tags never have bit 11 set, so the empty tag ~0 never matches.
[[gnu::always_inline]] inline uint64_t tag_of(const Core& c, uint64_t va) {
    return (va & ~0xfffULL) | c.cpl3 | (c.tlb_gen << 1);
}

template <class T>
[[gnu::always_inline]] inline T rd(Core& c, uint64_t va) {
    const TlbEntry& e = c.tlb[(va >> 12) & (kTlbSize - 1)];
    const uint64_t off = va & 0xfff;
    T v;
    if (e.tag_r == tag_of(c, va) && off <= 0x1000 - sizeof(T)) [[likely]] {
        std::memcpy(&v, e.host_r + off, sizeof(T));
    } else {
        read_slow(c, va, &v, sizeof(T), Access::Read);
    }
    return v;
}

template <class T>
[[gnu::always_inline]] inline void wr(Core& c, uint64_t va, T v) {
    const TlbEntry& e = c.tlb[(va >> 12) & (kTlbSize - 1)];
    const uint64_t off = va & 0xfff;
    if (e.tag_w == tag_of(c, va) && off <= 0x1000 - sizeof(T)) [[likely]] {
        std::memcpy(e.host_w + off, &v, sizeof(T));
    } else {
        write_slow(c, va, &v, sizeof(T));
    }
}

[[gnu::always_inline]] inline uint64_t seg_base(const Core& c, uint8_t seg) {
    return seg == FS ? c.st->seg[FS].base : c.st->seg[GS].base;
}

// Effective (linear) address of the memory operand.
[[gnu::always_inline]] inline uint64_t ea(const Core& c, const Insn& i) {
    uint64_t a = static_cast<uint64_t>(i.disp);
    if (i.base != kNoReg) a += i.base == kRipReg ? c.st->rip + i.len : c.st->gpr[i.base];
    if (i.index != kNoReg) a += c.st->gpr[i.index] << i.scale;
    if (i.asz == 4) a = static_cast<uint32_t>(a);
    if (i.seg != kNoSeg) a += seg_base(c, i.seg);
    return a;
}

// Operand read/write by form; register operand N is r0 (N=0) or r1 (N=1).
template <class T, Form F, int N>
[[gnu::always_inline]] inline T get_op(Core& c, const Insn& i, uint64_t addr) {
    if constexpr (F == Form::R) return getr<T>(c, N == 0 ? i.r0 : i.r1);
    else if constexpr (F == Form::M) return rd<T>(c, addr);
    else return static_cast<T>(i.imm);
}

[[gnu::always_inline]] inline void push64(Core& c, uint64_t v) {
    const uint64_t sp = c.st->gpr[RSP] - 8;
    wr<uint64_t>(c, sp, v);
    c.st->gpr[RSP] = sp;
}
[[gnu::always_inline]] inline uint64_t pop64(Core& c) {
    const uint64_t v = rd<uint64_t>(c, c.st->gpr[RSP]);
    c.st->gpr[RSP] += 8;
    return v;
}

inline bool cond_true(unsigned cc, uint64_t f) {
    bool r;
    switch (cc >> 1) {
        case 0: r = (f & fl::OF) != 0; break;
        case 1: r = (f & fl::CF) != 0; break;
        case 2: r = (f & fl::ZF) != 0; break;
        case 3: r = (f & (fl::CF | fl::ZF)) != 0; break;
        case 4: r = (f & fl::SF) != 0; break;
        case 5: r = (f & fl::PF) != 0; break;
        case 6: r = ((f & fl::SF) != 0) != ((f & fl::OF) != 0); break;
        default: r = (f & fl::ZF) != 0 || (((f & fl::SF) != 0) != ((f & fl::OF) != 0)); break;
    }
    return r != ((cc & 1) != 0);
}

inline unsigned cpl(const CpuState& s) { return s.seg[CS].dpl; }
inline void require_cpl0(const Core& c) {
    if (cpl(*c.st) != 0) raise(13, 0);
}

}  // namespace kvmemu::cpu
