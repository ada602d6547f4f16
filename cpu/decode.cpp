// Lowers one Zydis-decoded instruction to the engine's compact Insn: operand forms, registers,
// memory operand, immediates; then asks each instruction family for its handler.
#include <Zydis/Zydis.h>

#include "cpu/internal/atomic.hpp"
#include "cpu/internal/block_cache.hpp"
#include "cpu/internal/decode.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

uint8_t reg_index(ZydisRegister r) {
    switch (ZydisRegisterGetClass(r)) {
        case ZYDIS_REGCLASS_GPR8: {
            const unsigned k = r - ZYDIS_REGISTER_AL;  // AL CL DL BL AH CH DH BH SPL BPL SIL DIL R8B..
            if (k >= 4 && k <= 7) return static_cast<uint8_t>(16 + k - 4);
            if (k >= 8 && k <= 11) return static_cast<uint8_t>(k - 4);
            return static_cast<uint8_t>(k >= 12 ? k - 4 : k);
        }
        case ZYDIS_REGCLASS_GPR16: return static_cast<uint8_t>(r - ZYDIS_REGISTER_AX);
        case ZYDIS_REGCLASS_GPR32: return static_cast<uint8_t>(r - ZYDIS_REGISTER_EAX);
        case ZYDIS_REGCLASS_GPR64: return static_cast<uint8_t>(r - ZYDIS_REGISTER_RAX);
        case ZYDIS_REGCLASS_XMM: return static_cast<uint8_t>(r - ZYDIS_REGISTER_XMM0);
        default: return static_cast<uint8_t>(ZydisRegisterGetId(r));
    }
}

const ZydisDecoder& decoder() {
    static const ZydisDecoder d = [] {
        ZydisDecoder z;
        ZydisDecoderInit(&z, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
        return z;
    }();
    return d;
}

}  // namespace

void h_ud(Core& c, const Insn& i) {
    if (c.eng->unsupported) {
        uint8_t buf[15];
        unsigned n = i.len != 0 ? i.len : 15;
        try {
            read_slow(c, c.st->rip, buf, n, Access::Exec);
        } catch (const GuestFault&) {
            n = 0;
        }
        const char* what = i.mnemonic != 0 ? ZydisMnemonicGetString(static_cast<ZydisMnemonic>(i.mnemonic))
                                           : "undecodable";
        c.eng->unsupported(c.st->rip, std::span<const uint8_t>(buf, n), what != nullptr ? what : "?");
    }
    raise(6);
}

bool decode_one(Core& c, const uint8_t* bytes, unsigned avail, Insn& out, bool& ends_block) {
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    out = Insn{};
    ends_block = false;
    const ZyanStatus st = ZydisDecoderDecodeFull(&decoder(), bytes, avail, &d, ops);
    if (!ZYAN_SUCCESS(st)) {
        if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) return false;
        out.len = 1;
        out.fn = &h_ud;
        ends_block = true;
        return true;
    }
    out.len = d.length;
    out.mnemonic = static_cast<uint16_t>(d.mnemonic);
    out.osz = static_cast<uint8_t>(d.operand_width / 8);
    out.asz = static_cast<uint8_t>(d.address_width / 8);
    out.cond = d.opcode & 15;
    if ((d.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_FS) != 0) out.seg = FS;
    if ((d.attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS) != 0) out.seg = GS;
    if ((d.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE)) != 0) out.rep = 1;
    if ((d.attributes & ZYDIS_ATTRIB_HAS_REPNE) != 0) out.rep = 2;

    DecodeCtx x{c, d, ops, d.operand_count_visible, {Form::I, Form::I, Form::I, Form::I}, {0, 0, 0, 0}, out,
                ends_block};
    bool bad = false;
    bool have_imm = false;
    for (unsigned k = 0; k < x.nops && k < 4; ++k) {
        const ZydisDecodedOperand& o = ops[k];
        x.size[k] = o.size / 8;
        switch (o.type) {
            case ZYDIS_OPERAND_TYPE_REGISTER:
                x.form[k] = Form::R;
                if (k == 0) out.r0 = reg_index(o.reg.value);
                else if (out.r1 == kNoReg) out.r1 = reg_index(o.reg.value);
                break;
            case ZYDIS_OPERAND_TYPE_MEMORY:
                x.form[k] = Form::M;
                if (o.mem.base == ZYDIS_REGISTER_RIP) out.base = kRipReg;
                else if (o.mem.base != ZYDIS_REGISTER_NONE) out.base = reg_index(o.mem.base);
                if (o.mem.index != ZYDIS_REGISTER_NONE) {
                    if (ZydisRegisterGetClass(o.mem.index) != ZYDIS_REGCLASS_GPR64 &&
                        ZydisRegisterGetClass(o.mem.index) != ZYDIS_REGCLASS_GPR32)
                        bad = true;  // VSIB
                    out.index = reg_index(o.mem.index);
                }
                out.scale = o.mem.scale == 8 ? 3 : o.mem.scale == 4 ? 2 : o.mem.scale == 2 ? 1 : 0;
                out.disp = o.mem.disp.has_displacement ? o.mem.disp.value : 0;
                if (o.mem.segment == ZYDIS_REGISTER_FS) out.seg = FS;
                else if (o.mem.segment == ZYDIS_REGISTER_GS) out.seg = GS;
                break;
            case ZYDIS_OPERAND_TYPE_IMMEDIATE: {
                x.form[k] = Form::I;
                const int64_t v = o.imm.is_signed || o.imm.is_relative ? o.imm.value.s
                                                                       : static_cast<int64_t>(o.imm.value.u);
                if (!have_imm) out.imm = v;
                else out.imm2 = v;
                have_imm = true;
                break;
            }
            default:
                bad = true;
                break;
        }
    }
    if (!bad && (lower_alu(x) || lower_bits(x) || lower_flow(x) || lower_string(x) || lower_system(x) ||
                 lower_sse(x))) {
        if (out.fn == &h_ud) ends_block = true;
        if ((d.attributes & ZYDIS_ATTRIB_HAS_LOCK) != 0 || d.mnemonic == ZYDIS_MNEMONIC_XCHG) make_locked(x);
        return true;
    }
    out.fn = &h_ud;
    ends_block = true;
    return true;
}

}  // namespace kvmemu::cpu
