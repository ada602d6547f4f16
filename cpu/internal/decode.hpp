// DecodeCtx: one Zydis-decoded instruction being lowered to an Insn, and the per-family lowering
// entry points (each family's .cpp picks its templated handler for the operand forms).
#pragma once

#include <Zydis/Zydis.h>

#include <utility>

#include "cpu/internal/core.hpp"

namespace kvmemu::cpu {

struct DecodeCtx {
    Core& c;
    const ZydisDecodedInstruction& d;
    const ZydisDecodedOperand* ops;  // visible operands first
    unsigned nops;                   // visible operand count
    Form form[4];
    unsigned size[4];  // operand sizes in bytes
    Insn& out;
    bool& ends_block;
};

// Each returns true when it recognised the instruction (out.fn set; fn may be the #UD handler).
bool lower_alu(DecodeCtx& x);
bool lower_bits(DecodeCtx& x);  // shifts, rotates, mul/div, bit tests and scans
bool lower_flow(DecodeCtx& x);
bool lower_string(DecodeCtx& x);
bool lower_sse(DecodeCtx& x);
bool lower_system(DecodeCtx& x);

void h_ud(Core& c, const Insn& i);  // raises #UD (after the unsupported hook)

// Compile-time dispatch helpers: call f with a value-typed tag for the runtime choice.
template <class F>
Handler with_size(unsigned osz, F&& f) {
    switch (osz) {
        case 1: return f(uint8_t{});
        case 2: return f(uint16_t{});
        case 4: return f(uint32_t{});
        default: return f(uint64_t{});
    }
}
template <Form V>
using FormTag = std::integral_constant<Form, V>;

template <class F>
Handler with_form(Form a, F&& f) {
    switch (a) {
        case Form::R: return f(FormTag<Form::R>{});
        case Form::M: return f(FormTag<Form::M>{});
        default: return f(FormTag<Form::I>{});
    }
}

// Destination R/M with source R/M/I, excluding memory-to-memory.
template <class F>
Handler with_forms2(Form a, Form b, F&& f) {
    if (a == Form::R) {
        if (b == Form::R) return f(FormTag<Form::R>{}, FormTag<Form::R>{});
        if (b == Form::M) return f(FormTag<Form::R>{}, FormTag<Form::M>{});
        return f(FormTag<Form::R>{}, FormTag<Form::I>{});
    }
    if (a == Form::M) {
        if (b == Form::R) return f(FormTag<Form::M>{}, FormTag<Form::R>{});
        if (b == Form::I) return f(FormTag<Form::M>{}, FormTag<Form::I>{});
    }
    return nullptr;
}

}  // namespace kvmemu::cpu
