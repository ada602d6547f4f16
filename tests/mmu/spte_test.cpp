// SPTE format: every named predicate and constructor, traced to KVM's spte.h/spte.c.
#include <gtest/gtest.h>

#include <array>

#include "mmu/spte.hpp"

namespace kvmemu::mmu {
namespace {

TEST(Spte, LeafCarriesPermissionsAndPfn) {
    // make_spte(): R always, W and X by access, PS above 4K, pfn in bits 12..51.
    const std::uint64_t s = make_leaf_spte(0x12345, 1, LeafAccess{true, true, true});
    EXPECT_TRUE(is_shadow_present_pte(s));
    EXPECT_TRUE(is_readable_pte(s));
    EXPECT_TRUE(is_writable_pte(s));
    EXPECT_TRUE(is_executable_pte(s));
    EXPECT_FALSE(is_large_pte(s));
    EXPECT_TRUE(is_last_spte(s, 1));
    EXPECT_TRUE(is_accessed_spte(s));
    EXPECT_EQ(spte_to_pfn(s), 0x12345u);
    EXPECT_EQ(s & 0x7, 0x7u);  // EPT R|W|X in bits 0..2
    EXPECT_EQ((s >> 12) & 0xfffff, 0x12345u);
}

TEST(Spte, HugeLeafHasPageSizeBit) {
    const std::uint64_t s = make_leaf_spte(0x200, 2, LeafAccess{true, false, true});
    EXPECT_TRUE(is_large_pte(s));
    EXPECT_EQ(s & (1u << 7), 1u << 7);  // EPT bit 7
    EXPECT_TRUE(is_last_spte(s, 2));
    EXPECT_FALSE(is_executable_pte(s));
}

TEST(Spte, NotHostWritableNeverWritable) {
    // make_spte(): !host_writable strips ACC_WRITE (KVM_MEM_READONLY slots).
    const std::uint64_t s = make_leaf_spte(1, 1, LeafAccess{true, true, false});
    EXPECT_FALSE(is_writable_pte(s));
    EXPECT_FALSE(is_host_writable_spte(s));
    EXPECT_FALSE(is_mmu_writable_spte(s));
}

TEST(Spte, NonLeafPointsToChildTable) {
    // make_nonleaf_spte(): present, RWX, not a leaf above 4K.
    const std::uint64_t s = make_nonleaf_spte(77);
    EXPECT_TRUE(is_shadow_present_pte(s));
    EXPECT_FALSE(is_large_pte(s));
    EXPECT_FALSE(is_last_spte(s, 2));
    EXPECT_EQ(spte_to_child_table(s), 77u);
    EXPECT_TRUE(is_writable_pte(s) && is_executable_pte(s));
}

TEST(Spte, ZeroIsNotPresent) {
    EXPECT_FALSE(is_shadow_present_pte(0));
    EXPECT_FALSE(is_leaf_present(0, 1));
}

TEST(Spte, NxRuleForLeaves) {
    // make_spte(): huge leaves lose X while is_nx_huge_page_enabled(); 4K leaves never do.
    EXPECT_TRUE(leaf_may_execute(1, true));
    EXPECT_FALSE(leaf_may_execute(2, true));
    EXPECT_FALSE(leaf_may_execute(3, true));
    EXPECT_TRUE(leaf_may_execute(2, false));
    EXPECT_TRUE(leaf_may_execute(3, false));
}

TEST(Spte, SplitTo4KKeepsPermissionsAndBecomesExecutable) {
    // make_huge_page_split_spte(): children keep the parent's bits, consecutive pfns, no PS at
    // 4K, and X when splitting to 4K under the NX mitigation.
    const std::uint64_t huge = make_leaf_spte(0x400, 2, LeafAccess{true, false, true});
    for (unsigned i : {0u, 1u, 511u}) {
        const std::uint64_t c = make_huge_page_split_spte(huge, 2, i, true);
        EXPECT_EQ(spte_to_pfn(c), 0x400u + i);
        EXPECT_FALSE(is_large_pte(c));
        EXPECT_TRUE(is_executable_pte(c));
        EXPECT_TRUE(is_writable_pte(c));
        EXPECT_TRUE(is_host_writable_spte(c));
    }
    // A read-only huge leaf gives read-only children.
    const std::uint64_t ro = make_leaf_spte(0x400, 2, LeafAccess{false, false, false});
    EXPECT_FALSE(is_writable_pte(make_huge_page_split_spte(ro, 2, 3, true)));
}

TEST(Spte, Split1GTo2MStaysHugeAndNonExecutable) {
    const std::uint64_t huge = make_leaf_spte(0x40000, 3, LeafAccess{true, false, true});
    const std::uint64_t c = make_huge_page_split_spte(huge, 3, 5, true);
    EXPECT_TRUE(is_large_pte(c));
    EXPECT_FALSE(is_executable_pte(c));
    EXPECT_EQ(spte_to_pfn(c), 0x40000u + 5 * 512);
}

TEST(Spte, SplitWithoutMitigationKeepsX) {
    const std::uint64_t huge = make_leaf_spte(0x400, 2, LeafAccess{true, true, true});
    EXPECT_TRUE(is_executable_pte(make_huge_page_split_spte(huge, 2, 9, false)));
}

TEST(Spte, WriteProtectAndExecToggles) {
    const std::uint64_t s = make_leaf_spte(1, 1, LeafAccess{true, true, true});
    const std::uint64_t wp = make_spte_write_protected(s);
    EXPECT_FALSE(is_writable_pte(wp));
    EXPECT_TRUE(is_mmu_writable_spte(wp));  // the MMU may restore W on a write fault
    EXPECT_FALSE(is_executable_pte(make_spte_nonexecutable(s)));
    EXPECT_TRUE(is_executable_pte(make_spte_executable(make_spte_nonexecutable(s))));
}

}  // namespace
}  // namespace kvmemu::mmu

namespace kvmemu::mmu {
namespace {

TEST(Spte, SplitChildrenCoverTheHugePage) {
    const std::uint64_t huge = make_leaf_spte(0x800, 2, LeafAccess{true, false, true});
    std::array<std::uint64_t, kSptesPerTable> children{};
    make_split_children(huge, 2, true, children);
    for (unsigned i = 0; i < kSptesPerTable; ++i) {
        ASSERT_EQ(children[i], make_huge_page_split_spte(huge, 2, i, true));
        ASSERT_TRUE(is_leaf_present(children[i], 1));
    }
    EXPECT_FALSE(is_shadow_present_pte(kNonPresentSpte));
}

}  // namespace
}  // namespace kvmemu::mmu
