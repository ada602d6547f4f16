// The VM statistics KVM's x86 binary stats expose, in descriptor order, with their data offsets.
#pragma once

#include <array>
#include <cstdint>

namespace kvmemu::kvm {

// Values of a VM's stats: the data block of its stats file, one u64 each, in data-offset order.
struct VmStatsData {
    std::uint64_t remote_tlb_flush = 0;
    std::uint64_t remote_tlb_flush_requests = 0;
    std::uint64_t mmu_shadow_zapped = 0;
    std::uint64_t mmu_pte_write = 0;
    std::uint64_t mmu_pde_zapped = 0;
    std::uint64_t mmu_flooded = 0;
    std::uint64_t mmu_recycled = 0;
    std::uint64_t mmu_cache_miss = 0;
    std::uint64_t mmu_unsync = 0;
    std::uint64_t pages_4k = 0;
    std::uint64_t pages_2m = 0;
    std::uint64_t pages_1g = 0;
    std::uint64_t nx_lpage_splits = 0;
    std::uint64_t max_mmu_page_hash_collisions = 0;
    std::uint64_t max_mmu_rmap_size = 0;
    std::uint64_t mmu_kicks_spared = 0;
};
static_assert(sizeof(VmStatsData) == 128);

struct StatDescriptor {
    const char* name;
    std::uint32_t flags;   // KVM_STATS_TYPE_* | unit | base
    std::uint32_t offset;  // in the data block
    std::int16_t exponent = 0;
    std::uint16_t size = 1;  // in u64s (histograms have more)
};

// Descriptor order and flags as real KVM (Linux 6.18, x86) lists them.
inline constexpr std::array<StatDescriptor, 16> kVmStatDescriptors = {{
    {"remote_tlb_flush", 0x0, 0},
    {"remote_tlb_flush_requests", 0x0, 8},
    {"mmu_shadow_zapped", 0x0, 16},
    {"mmu_pte_write", 0x0, 24},
    {"mmu_pde_zapped", 0x0, 32},
    {"mmu_flooded", 0x0, 40},
    {"mmu_recycled", 0x0, 48},
    {"mmu_cache_miss", 0x0, 56},
    {"mmu_unsync", 0x1, 64},
    {"pages_4k", 0x1, 72},
    {"pages_2m", 0x1, 80},
    {"pages_1g", 0x1, 88},
    {"nx_lpage_splits", 0x1, 96},
    {"max_mmu_rmap_size", 0x2, 112},
    {"max_mmu_page_hash_collisions", 0x2, 104},
    {"mmu_kicks_spared", 0x0, 120},
}};

}  // namespace kvmemu::kvm
