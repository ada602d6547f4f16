// Memslot storage and lookup: GFN -> slot by binary search, up to KVM's 32764 slots.
#include <gtest/gtest.h>

#include <cerrno>

#include "mmu/memslots.hpp"
#include "tests/mmu/mmu_test_util.hpp"

namespace kvmemu::mmu::testing {
namespace {

TEST(Memslots, FindByGfn) {
    MemslotSet set;
    ASSERT_TRUE(set.insert(make_slot(1, 0x100000, k2MiB, kHvaBase)));
    ASSERT_TRUE(set.insert(make_slot(0, 0, 0x1000, kHvaBase + k1GiB)));
    EXPECT_EQ(set.find(0)->id, 0u);
    EXPECT_EQ(set.find(1), nullptr);
    EXPECT_EQ(set.find(0x100)->id, 1u);
    EXPECT_EQ(set.find(0x100 + 511)->id, 1u);
    EXPECT_EQ(set.find(0x100 + 512), nullptr);
    std::size_t hint = 0;
    EXPECT_EQ(set.find(0x150, hint)->id, 1u);
    EXPECT_EQ(hint, 1u);  // sorted by GFN: slot 1 is second
}

TEST(Memslots, HvaTranslation) {
    const Memslot s = make_slot(0, 0x100000, k2MiB, kHvaBase);
    EXPECT_EQ(s.gpa_to_hva(0x100123), kHvaBase + 0x123);
    EXPECT_EQ(s.hva_pfn(0x101), (kHvaBase >> 12) + 1);
}

TEST(Memslots, RefusesOverlapDuplicatesAndBadRanges) {
    MemslotSet set;
    ASSERT_TRUE(set.insert(make_slot(0, 0x200000, k2MiB, kHvaBase)));
    EXPECT_EQ(set.insert(make_slot(0, 0x800000, k2MiB, kHvaBase)).error(), EEXIST);
    EXPECT_EQ(set.insert(make_slot(1, 0x300000, k2MiB, kHvaBase)).error(), EEXIST);
    EXPECT_EQ(set.insert(make_slot(1, 0x100000, k2MiB, kHvaBase)).error(), EEXIST);
    EXPECT_TRUE(set.insert(make_slot(1, 0x400000, k2MiB, kHvaBase)));  // adjacent is fine
    EXPECT_EQ(set.insert(make_slot(2, 0x900000, 0, kHvaBase)).error(), EINVAL);
    EXPECT_EQ(set.insert(make_slot(2, std::uint64_t{1} << 48, k2MiB, kHvaBase)).error(), EINVAL);
    EXPECT_EQ(set.insert(make_slot(2, 0x900000, k2MiB, kHvaBase + 1)).error(), EINVAL);
    EXPECT_EQ(set.erase(9).error(), ENOENT);
}

TEST(Memslots, ReplaceMayOverlapItself) {
    MemslotSet set;
    ASSERT_TRUE(set.insert(make_slot(0, 0x200000, k2MiB, kHvaBase)));
    ASSERT_TRUE(set.insert(make_slot(1, 0x800000, k2MiB, kHvaBase)));
    EXPECT_TRUE(set.replace(0, make_slot(0, 0x300000, k2MiB, kHvaBase)));
    EXPECT_EQ(set.replace(0, make_slot(0, 0x700000, k2MiB, kHvaBase)).error(), EEXIST);
    EXPECT_EQ(set.find(0x300)->id, 0u);
    EXPECT_EQ(set.find(0x200), nullptr);
}

TEST(Memslots, HoldsKvmsSlotLimit) {
    // KVM_CAP_NR_MEMSLOTS is 32764 on x86.
    MemslotSet set;
    for (std::uint32_t i = 0; i < kMaxMemslots; ++i) {
        ASSERT_TRUE(set.insert(make_slot(i, std::uint64_t{i} * 2 * k4KiB, k4KiB, kHvaBase)));
    }
    EXPECT_EQ(set.insert(make_slot(kMaxMemslots, k1GiB, k4KiB, kHvaBase)).error(), ENOSPC);
    for (std::uint32_t i = 0; i < kMaxMemslots; i += 997) {
        EXPECT_EQ(set.find(std::uint64_t{i} * 2)->id, i);
        EXPECT_EQ(set.find(std::uint64_t{i} * 2 + 1), nullptr);
    }
}

}  // namespace
}  // namespace kvmemu::mmu::testing
