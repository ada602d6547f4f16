// String instructions MOVS/STOS/LODS/CMPS/SCAS with REP/REPE/REPNE. A long REP is cut into
// slices of kRepSlice elements (RIP stays on the instruction) so kicks and interrupts get through.
#include "cpu/internal/decode.hpp"
#include "cpu/internal/hostflags.hpp"

namespace kvmemu::cpu {
namespace {

constexpr uint64_t kRepSlice = 65536;

enum class Str : uint8_t { Movs, Stos, Lods, Cmps, Scas };

inline uint64_t areg(const Core& c, const Insn& i, unsigned r) {
    return i.asz == 4 ? static_cast<uint32_t>(c.st->gpr[r]) : c.st->gpr[r];
}
inline void aset(Core& c, const Insn& i, unsigned r, uint64_t v) {
    c.st->gpr[r] = i.asz == 4 ? static_cast<uint32_t>(v) : v;
}
inline uint64_t src_addr(const Core& c, const Insn& i) {
    const uint64_t a = areg(c, i, RSI);
    return i.seg != kNoSeg ? a + seg_base(c, i.seg) : a;
}

// Bulk MOVSB/STOSB forward within one page each: memcpy/memset on host pointers.
template <Str OP>
bool bulk_bytes(Core& c, const Insn& i, uint64_t& rcx) {
    if (i.asz != 8 || i.seg != kNoSeg || (c.st->rflags & fl::DF) != 0) return false;
    const uint64_t di = c.st->gpr[RDI];
    const TlbEntry& ed = c.tlb[(di >> 12) & (kTlbSize - 1)];
    if (ed.tag_w != tag_of(c, di)) return false;
    uint64_t n = std::min<uint64_t>(rcx, 0x1000 - (di & 0xfff));
    if constexpr (OP == Str::Movs) {
        const uint64_t si = c.st->gpr[RSI];
        const TlbEntry& es = c.tlb[(si >> 12) & (kTlbSize - 1)];
        if (es.tag_r != tag_of(c, si)) return false;
        n = std::min<uint64_t>(n, 0x1000 - (si & 0xfff));
        const uint8_t* s = es.host_r + (si & 0xfff);
        uint8_t* d = ed.host_w + (di & 0xfff);
        if (s < d && s + n > d) return false;  // overlapping forward copy: byte semantics
        std::memmove(d, s, n);
        c.st->gpr[RSI] = si + n;
    } else {
        std::memset(ed.host_w + (di & 0xfff), static_cast<uint8_t>(c.st->gpr[RAX]), n);
    }
    c.st->gpr[RDI] = di + n;
    rcx -= n;
    return true;
}

template <Str OP, class T>
inline bool one(Core& c, const Insn& i) {  // returns ZF for CMPS/SCAS
    const int64_t step = (c.st->rflags & fl::DF) != 0 ? -static_cast<int64_t>(sizeof(T)) : sizeof(T);
    if constexpr (OP == Str::Movs) {
        const T v = rd<T>(c, src_addr(c, i));
        wr<T>(c, areg(c, i, RDI), v);
        aset(c, i, RSI, areg(c, i, RSI) + step);
        aset(c, i, RDI, areg(c, i, RDI) + step);
        return false;
    } else if constexpr (OP == Str::Stos) {
        wr<T>(c, areg(c, i, RDI), getr<T>(c, RAX));
        aset(c, i, RDI, areg(c, i, RDI) + step);
        return false;
    } else if constexpr (OP == Str::Lods) {
        const T v = rd<T>(c, src_addr(c, i));
        setr<T>(c, RAX, v);
        aset(c, i, RSI, areg(c, i, RSI) + step);
        return false;
    } else if constexpr (OP == Str::Cmps) {
        const T a = rd<T>(c, src_addr(c, i));
        const T b = rd<T>(c, areg(c, i, RDI));
        uint64_t f;
        (void)h_cmp<T>(a, b, f);
        set_flags(c, fl::ARITH, f);
        aset(c, i, RSI, areg(c, i, RSI) + step);
        aset(c, i, RDI, areg(c, i, RDI) + step);
        return (f & fl::ZF) != 0;
    } else {
        const T b = rd<T>(c, areg(c, i, RDI));
        uint64_t f;
        (void)h_cmp<T>(getr<T>(c, RAX), b, f);
        set_flags(c, fl::ARITH, f);
        aset(c, i, RDI, areg(c, i, RDI) + step);
        return (f & fl::ZF) != 0;
    }
}

template <Str OP, class T>
void string_op(Core& c, const Insn& i) {
    if (i.rep == 0) {
        (void)one<OP, T>(c, i);
        return;
    }
    uint64_t rcx = areg(c, i, RCX);
    uint64_t done = 0;
    while (rcx != 0) {
        if constexpr ((OP == Str::Movs || OP == Str::Stos) && sizeof(T) == 1) {
            if (rcx >= 16 && bulk_bytes<OP>(c, i, rcx)) {
                aset(c, i, RCX, rcx);
                done += 256;
                if (done >= kRepSlice && rcx != 0) {
                    c.next_rip = c.st->rip;
                    c.stop = true;
                    return;
                }
                continue;
            }
        }
        const bool zf = one<OP, T>(c, i);
        --rcx;
        aset(c, i, RCX, rcx);
        if constexpr (OP == Str::Cmps || OP == Str::Scas) {
            if (i.rep == 1 && !zf) return;
            if (i.rep == 2 && zf) return;
        }
        if ((++done >= kRepSlice || c.stop) && rcx != 0) {
            c.next_rip = c.st->rip;  // resume the same instruction later
            c.stop = true;
            return;
        }
    }
}

}  // namespace

bool lower_string(DecodeCtx& x) {
    Insn& o = x.out;
    const auto& d = x.d;
    if (d.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT) return false;
    Str op;
    switch (d.opcode) {
        case 0xa4: case 0xa5: op = Str::Movs; break;
        case 0xa6: case 0xa7: op = Str::Cmps; break;
        case 0xaa: case 0xab: op = Str::Stos; break;
        case 0xac: case 0xad: op = Str::Lods; break;
        case 0xae: case 0xaf: op = Str::Scas; break;
        default: return false;
    }
    o.osz = static_cast<uint8_t>(d.operand_width / 8);
    if ((d.opcode & 1) == 0) o.osz = 1;
    o.rep = 0;
    if ((d.attributes & ZYDIS_ATTRIB_HAS_REP) != 0 || (d.attributes & ZYDIS_ATTRIB_HAS_REPE) != 0) o.rep = 1;
    if ((d.attributes & ZYDIS_ATTRIB_HAS_REPNE) != 0) o.rep = 2;
    if (op != Str::Cmps && op != Str::Scas && o.rep != 0) o.rep = 1;
    auto pick = [&](auto opc) {
        return with_size(o.osz, [&](auto t) -> Handler { return &string_op<std::decay_t<decltype(opc)>::value, std::decay_t<decltype(t)>>; });
    };
    using std::integral_constant;
    switch (op) {
        case Str::Movs: o.fn = pick(integral_constant<Str, Str::Movs>{}); break;
        case Str::Stos: o.fn = pick(integral_constant<Str, Str::Stos>{}); break;
        case Str::Lods: o.fn = pick(integral_constant<Str, Str::Lods>{}); break;
        case Str::Cmps: o.fn = pick(integral_constant<Str, Str::Cmps>{}); break;
        case Str::Scas: o.fn = pick(integral_constant<Str, Str::Scas>{}); break;
    }
    return true;
}

}  // namespace kvmemu::cpu
