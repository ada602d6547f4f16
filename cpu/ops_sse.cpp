// SSE/SSE2 moves, logic and integer arithmetic; FXSAVE/FXRSTOR, FNINIT, LDMXCSR/STMXCSR.
#include "cpu/internal/decode.hpp"

namespace kvmemu::cpu {

bool lower_sse(DecodeCtx& x) {
    (void)x;
    return false;
}

}  // namespace kvmemu::cpu
