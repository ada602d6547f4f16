// Locked read-modify-write handlers (atomic across vCPUs on the host mapping of guest memory).
#pragma once

#include "cpu/internal/decode.hpp"

namespace kvmemu::cpu {

enum class LockOp : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Inc, Dec, Neg, Not, Bts, Btr, Btc, Xchg, Xadd, Cmpxchg };

// After a family lowered a LOCK-prefixed instruction (or XCHG with memory) to a plain handler,
// replace it with the atomic one (which falls back to the plain handler for MMIO etc.).
void make_locked(DecodeCtx& x);

}  // namespace kvmemu::cpu
