// The VM statistics KVM's x86 binary stats expose, in descriptor order, with their data offsets.
#pragma once

#include <array>
#include <cstdint>

#include "mmu/stats.hpp"

namespace kvmemu::kvm {

// Values of a VM's stats: the data block of its stats file. The MMU keeps them in exactly that
// layout (mmu/stats.hpp).
using VmStatsData = mmu::MmuStats;

struct StatDescriptor {
    const char* name;
    std::uint32_t flags;   // KVM_STATS_TYPE_* | unit | base
    std::uint32_t offset;  // in the data block
    std::int16_t exponent = 0;
    std::uint16_t size = 1;  // in u64s (histograms have more)
};

// Descriptor order and flags as real KVM (Linux 6.18, x86) lists them: the MMU's table.
constexpr std::array<StatDescriptor, mmu::kMmuStatDescs.size()> make_vm_stat_descriptors() {
    std::array<StatDescriptor, mmu::kMmuStatDescs.size()> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto& d = mmu::kMmuStatDescs[i];
        out[i] = {d.name.data(), static_cast<std::uint32_t>(d.type), d.offset};
    }
    return out;
}
inline constexpr auto kVmStatDescriptors = make_vm_stat_descriptors();


}  // namespace kvmemu::kvm
