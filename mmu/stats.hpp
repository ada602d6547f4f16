// Per-VM MMU statistics laid out exactly as the data block of KVM's VM binary stats (the
// oracle's KVM_GET_STATS_FD layout), with each field's name, type flag and offset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvmemu::mmu {

struct MmuStats {
    std::uint64_t remote_tlb_flush = 0;              // flushes done (see Mmu::flush_remote_tlbs)
    std::uint64_t remote_tlb_flush_requests = 0;     // flushes requested
    std::uint64_t mmu_shadow_zapped = 0;             // page tables freed by zaps
    std::uint64_t mmu_pte_write = 0;                 // shadow-paging only: always 0
    std::uint64_t mmu_pde_zapped = 0;                // shadow-paging only: always 0
    std::uint64_t mmu_flooded = 0;                   // shadow-paging only: always 0
    std::uint64_t mmu_recycled = 0;                  // no page-table quota: always 0
    std::uint64_t mmu_cache_miss = 0;                // page tables allocated
    std::uint64_t mmu_unsync = 0;                    // shadow-paging only: always 0
    std::uint64_t pages_4k = 0;                      // present 4K leaf SPTEs
    std::uint64_t pages_2m = 0;                      // present 2M leaf SPTEs
    std::uint64_t pages_1g = 0;                      // present 1G leaf SPTEs
    std::uint64_t nx_lpage_splits = 0;               // tracked NX huge-page splits (instant)
    std::uint64_t max_mmu_page_hash_collisions = 0;  // no shadow-page hash: always 0
    std::uint64_t max_mmu_rmap_size = 0;             // no rmaps: always 0
    std::uint64_t mmu_kicks_spared = 0;              // no vCPU kicks here: always 0

    // The leaf counter of a leaf level (1 = 4K, 2 = 2M, 3 = 1G).
    std::uint64_t& pages(int level) {
        return level == 1 ? pages_4k : level == 2 ? pages_2m : pages_1g;
    }
    std::uint64_t pages(int level) const {
        return level == 1 ? pages_4k : level == 2 ? pages_2m : pages_1g;
    }
};

static_assert(sizeof(MmuStats) == 16 * sizeof(std::uint64_t));
static_assert(offsetof(MmuStats, remote_tlb_flush) == 0);
static_assert(offsetof(MmuStats, remote_tlb_flush_requests) == 8);
static_assert(offsetof(MmuStats, mmu_shadow_zapped) == 16);
static_assert(offsetof(MmuStats, mmu_pte_write) == 24);
static_assert(offsetof(MmuStats, mmu_pde_zapped) == 32);
static_assert(offsetof(MmuStats, mmu_flooded) == 40);
static_assert(offsetof(MmuStats, mmu_recycled) == 48);
static_assert(offsetof(MmuStats, mmu_cache_miss) == 56);
static_assert(offsetof(MmuStats, mmu_unsync) == 64);
static_assert(offsetof(MmuStats, pages_4k) == 72);
static_assert(offsetof(MmuStats, pages_2m) == 80);
static_assert(offsetof(MmuStats, pages_1g) == 88);
static_assert(offsetof(MmuStats, nx_lpage_splits) == 96);
static_assert(offsetof(MmuStats, max_mmu_page_hash_collisions) == 104);
static_assert(offsetof(MmuStats, max_mmu_rmap_size) == 112);
static_assert(offsetof(MmuStats, mmu_kicks_spared) == 120);

// KVM_STATS_TYPE_* values of a descriptor's flags.
enum class StatType : std::uint32_t { kCumulative = 0, kInstant = 1, kPeak = 2 };

struct StatDesc {
    std::string_view name;
    StatType type;
    std::uint32_t offset;  // byte offset in the data block (== offsetof(MmuStats, field))
};

// Descriptors in the oracle's order (note: max_mmu_rmap_size is listed before
// max_mmu_page_hash_collisions although its offset is larger).
inline constexpr std::array<StatDesc, 16> kMmuStatDescs{{
    {"remote_tlb_flush", StatType::kCumulative, 0},
    {"remote_tlb_flush_requests", StatType::kCumulative, 8},
    {"mmu_shadow_zapped", StatType::kCumulative, 16},
    {"mmu_pte_write", StatType::kCumulative, 24},
    {"mmu_pde_zapped", StatType::kCumulative, 32},
    {"mmu_flooded", StatType::kCumulative, 40},
    {"mmu_recycled", StatType::kCumulative, 48},
    {"mmu_cache_miss", StatType::kCumulative, 56},
    {"mmu_unsync", StatType::kInstant, 64},
    {"pages_4k", StatType::kInstant, 72},
    {"pages_2m", StatType::kInstant, 80},
    {"pages_1g", StatType::kInstant, 88},
    {"nx_lpage_splits", StatType::kInstant, 96},
    {"max_mmu_rmap_size", StatType::kPeak, 112},
    {"max_mmu_page_hash_collisions", StatType::kPeak, 104},
    {"mmu_kicks_spared", StatType::kCumulative, 120},
}};

}  // namespace kvmemu::mmu
