// Paging levels of the 4-level EPT-style structure and the GFN arithmetic tied to them
// (how many 4 KiB frames one SPTE covers at a level, which index it has in its table).
#pragma once

#include <cstdint>

namespace kvmemu::mmu {

// Leaf sizes a fault may map; values are KVM's PG_LEVEL_4K/2M/1G numbering.
enum class Level : std::uint8_t { k4K = 1, k2M = 2, k1G = 3 };

inline constexpr int kRootLevel = 4;     // PML4
inline constexpr int kMaxHugeLevel = 3;  // KVM_MAX_HUGEPAGE_LEVEL for TDP: 1G
inline constexpr unsigned kSptesPerTable = 512;
inline constexpr unsigned kPageShift = 12;
// 4 levels of 9 bits over 4 KiB pages: 48-bit guest-physical addresses, 2^36 GFNs.
inline constexpr std::uint64_t kGfnLimit = std::uint64_t{1} << 36;

constexpr int to_int(Level l) {
    return static_cast<int>(l);
}
constexpr Level to_level(int l) {
    return static_cast<Level>(l);
}

// Number of 4 KiB frames mapped by one SPTE at `level` (1 -> 1, 2 -> 512, 3 -> 512^2 ...).
constexpr std::uint64_t pages_per_spte(int level) {
    return std::uint64_t{1} << (9 * (level - 1));
}
constexpr std::uint64_t pages_per_spte(Level level) {
    return pages_per_spte(to_int(level));
}

// Index of the SPTE for `gfn` inside the table holding SPTEs of `level`.
constexpr unsigned spte_index(std::uint64_t gfn, int level) {
    return static_cast<unsigned>((gfn >> (9 * (level - 1))) & (kSptesPerTable - 1));
}

// First GFN of the region an SPTE at `level` covers around `gfn`.
constexpr std::uint64_t level_base_gfn(std::uint64_t gfn, int level) {
    return gfn & ~(pages_per_spte(level) - 1);
}

constexpr const char* level_name(Level l) {
    switch (l) {
        case Level::k4K:
            return "4K";
        case Level::k2M:
            return "2M";
        case Level::k1G:
            return "1G";
    }
    return "?";
}

}  // namespace kvmemu::mmu
