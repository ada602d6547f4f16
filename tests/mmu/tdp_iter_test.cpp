// The walker: pre-order over the SPTEs covering a range, like KVM's tdp_iter.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "mmu/tdp_iter.hpp"

namespace kvmemu::mmu {
namespace {

// root -> PDPT[0] -> PD[0] = 2M leaf, PD[1] -> PT with PT[3] a 4K leaf.
struct SmallTree {
    TablePool pool;
    std::uint32_t root = pool.alloc_zeroed(4, 0);
    SmallTree() {
        const std::uint32_t pdpt = pool.alloc_zeroed(3, 0);
        const std::uint32_t pd = pool.alloc_zeroed(2, 0);
        const std::uint32_t pt = pool.alloc_zeroed(1, 512);
        pool.table(root).spte[0] = make_nonleaf_spte(pdpt);
        pool.table(pdpt).spte[0] = make_nonleaf_spte(pd);
        pool.table(pd).spte[0] = make_leaf_spte(0x1000, 2, LeafAccess{true, true, true});
        pool.table(pd).spte[1] = make_nonleaf_spte(pt);
        pool.table(pt).spte[3] = make_leaf_spte(0x2003, 1, LeafAccess{true, true, true});
    }
};

TEST(TdpIter, VisitsPresentPathsInPreOrder) {
    SmallTree t;
    std::vector<std::pair<int, std::uint64_t>> present;
    for (ConstTdpIter it(t.pool, t.root, 0, 1024); it.valid(); it.next()) {
        if (is_shadow_present_pte(it.old_spte())) present.emplace_back(it.level(), it.gfn());
    }
    const std::vector<std::pair<int, std::uint64_t>> expect{
        {4, 0}, {3, 0}, {2, 0}, {2, 512}, {1, 515}};
    EXPECT_EQ(present, expect);
}

TEST(TdpIter, SingleGfnWalkStopsAtLeaf) {
    SmallTree t;
    std::vector<int> levels;
    for (ConstTdpIter it(t.pool, t.root, 515, 516); it.valid(); it.next())
        levels.push_back(it.level());
    EXPECT_EQ(levels, (std::vector<int>{4, 3, 2, 1}));
    levels.clear();
    for (ConstTdpIter it(t.pool, t.root, 7, 8); it.valid(); it.next()) levels.push_back(it.level());
    EXPECT_EQ(levels, (std::vector<int>{4, 3, 2}));  // the 2M leaf ends the walk
}

TEST(TdpIter, MinLevelLimitsDescent) {
    SmallTree t;
    int deepest = 9;
    for (ConstTdpIter it(t.pool, t.root, 0, 1024, 3); it.valid(); it.next())
        deepest = std::min(deepest, it.level());
    EXPECT_EQ(deepest, 3);
}

TEST(TdpIter, ZappingCurrentSkipsSubtree) {
    SmallTree t;
    int visited_pt = 0;
    for (TdpIter it(t.pool, t.root, 0, 1024); it.valid(); it.next()) {
        if (it.level() == 2 && it.gfn() == 512) it.set_spte(0);
        if (it.level() == 1) ++visited_pt;
    }
    EXPECT_EQ(visited_pt, 0);
}

TEST(TdpIter, EmptyOrOutOfRangeIsInvalid) {
    SmallTree t;
    EXPECT_FALSE(ConstTdpIter(t.pool, t.root, 5, 5).valid());
    EXPECT_FALSE(ConstTdpIter(t.pool, t.root, kGfnLimit, kGfnLimit + 1).valid());
}

}  // namespace
}  // namespace kvmemu::mmu
