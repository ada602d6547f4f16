// Stats block layout (the oracle's KVM_GET_STATS_FD data block) and the descriptor table.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "mmu/stats.hpp"

namespace kvmemu::mmu {
namespace {

TEST(Stats, DescriptorsMatchFieldOffsets) {
    MmuStats s;
    s.pages_4k = 4;
    s.pages_2m = 2;
    s.pages_1g = 1;
    s.nx_lpage_splits = 7;
    s.max_mmu_rmap_size = 9;
    unsigned char raw[sizeof(MmuStats)];
    std::memcpy(raw, &s, sizeof raw);
    auto at = [&](std::string_view name) {
        for (const StatDesc& d : kMmuStatDescs) {
            if (d.name == name) {
                std::uint64_t v;
                std::memcpy(&v, raw + d.offset, sizeof v);
                return v;
            }
        }
        return ~std::uint64_t{0};
    };
    EXPECT_EQ(at("pages_4k"), 4u);
    EXPECT_EQ(at("pages_2m"), 2u);
    EXPECT_EQ(at("pages_1g"), 1u);
    EXPECT_EQ(at("nx_lpage_splits"), 7u);
    EXPECT_EQ(at("max_mmu_rmap_size"), 9u);
    std::set<std::uint32_t> offsets;
    for (const StatDesc& d : kMmuStatDescs) offsets.insert(d.offset);
    EXPECT_EQ(offsets.size(), 16u);
    // The oracle lists max_mmu_rmap_size (peak, @112) before max_mmu_page_hash_collisions (@104).
    EXPECT_EQ(kMmuStatDescs[13].name, "max_mmu_rmap_size");
    EXPECT_EQ(kMmuStatDescs[12].type, StatType::kInstant);
    EXPECT_EQ(s.pages(1), 4u);
    EXPECT_EQ(s.pages(3), 1u);
}

}  // namespace
}  // namespace kvmemu::mmu
