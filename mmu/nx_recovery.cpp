// NX recovery period computation.
#include "mmu/nx_recovery.hpp"

#include <algorithm>

namespace kvmemu::mmu {

std::optional<std::uint32_t> nx_recovery_period_ms(bool nx_huge_pages, unsigned ratio,
                                                   unsigned period_ms) {
    if (!nx_huge_pages || ratio == 0) return std::nullopt;
    if (period_ms != 0) return period_ms;
    return 60u * 60u * 1000u / std::min(ratio, 3600u);
}

}  // namespace kvmemu::mmu
