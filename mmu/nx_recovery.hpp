// NX huge-page recovery arithmetic (KVM's calc_nx_huge_pages_recovery_period() and the batch
// size of kvm_recover_nx_huge_pages()) as pure functions.
#pragma once

#include <cstdint>
#include <optional>

namespace kvmemu::mmu {

// Recovery period in ms, or nullopt when recovery is disabled (nx_huge_pages off or ratio 0).
// period_ms == 0 means 3,600,000 / min(ratio, 3600): never faster than once a second.
std::optional<std::uint32_t> nx_recovery_period_ms(bool nx_huge_pages, unsigned ratio,
                                                   unsigned period_ms);

// How many tracked splits one recovery pass zaps: ceil(splits / ratio), 0 when ratio is 0.
constexpr std::uint64_t nx_recovery_batch(std::uint64_t splits, unsigned ratio) {
    return ratio == 0 ? 0 : (splits + ratio - 1) / ratio;
}

}  // namespace kvmemu::mmu
