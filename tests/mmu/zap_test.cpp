// Zaps (range, all, memslot delete/move) and NX split recovery, with the stats they move.
#include <gtest/gtest.h>

#include "tests/mmu/mmu_test_util.hpp"

namespace kvmemu::mmu::testing {
namespace {

TEST(Zap, RangeZapsWholeHugeLeafAndCountsFlush) {
    // A leaf intersecting the range is zapped whole; KVM flushes after zapping (remote_tlb_flush).
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    vm.mmu.fault(0, Access::Read);
    vm.mmu.fault(k2MiB, Access::Read);
    vm.mmu.zap_gfn_range(1, 2);  // one 4K page inside the first 2M leaf
    EXPECT_EQ(vm.mmu.stats().pages_2m, 1u);
    EXPECT_FALSE(vm.mmu.lookup(0));
    EXPECT_TRUE(vm.mmu.lookup(k2MiB));
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush, 1u);
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush_requests, 1u);
    vm.mmu.zap_gfn_range(3 * 512, 4 * 512);  // nothing mapped there: no flush
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush, 1u);
}

TEST(Zap, RangeOf4KLeavesFreesCoveredTables) {
    TestVm vm(Level::k4K);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    for (std::uint64_t gpa = 0; gpa < 4 * k2MiB; gpa += k4KiB) vm.mmu.fault(gpa, Access::Write);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 2048u);
    EXPECT_EQ(vm.mmu.page_table_count(), 3u + 4u);
    vm.mmu.zap_gfn_range(512 + 10, 3 * 512);  // part of PT 1, all of PT 2
    EXPECT_EQ(vm.mmu.stats().pages_4k, 2048u - (1024u - 10u));
    EXPECT_EQ(vm.mmu.page_table_count(), 3u + 3u);
    EXPECT_EQ(vm.mmu.stats().mmu_shadow_zapped, 1u);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Zap, AllLeavesOnlyTheRoot) {
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    vm.mmu.fault(0, Access::Exec);
    vm.mmu.fault(k2MiB, Access::Read);
    vm.mmu.zap_all();
    EXPECT_EQ(vm.mmu.stats().pages_4k + vm.mmu.stats().pages_2m + vm.mmu.stats().pages_1g, 0u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);  // instant stat: the split went with its table
    EXPECT_EQ(vm.mmu.page_table_count(), 1u);
    EXPECT_TRUE(vm.mmu.audit().ok());
}

TEST(Zap, DeletingSlotZapsItsSptes) {
    // kvm_arch_flush_shadow_memslot(): the slot's SPTEs go with it; other slots stay.
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(1, k2MiB, k2MiB, kHvaBase + k1GiB)));
    vm.mmu.fault(0, Access::Exec);
    vm.mmu.fault(k2MiB, Access::Read);
    ASSERT_TRUE(vm.mmu.delete_memslot(0));
    EXPECT_EQ(vm.mmu.stats().pages_4k, 0u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(vm.mmu.stats().pages_2m, 1u);
    EXPECT_EQ(vm.mmu.fault(0, Access::Read).outcome, FaultOutcome::NoSlot);
    EXPECT_EQ(vm.mmu.delete_memslot(0).error(), ENOENT);
}

TEST(Zap, MovingSlotZapsOldRangeAndMapsNewOne) {
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    vm.mmu.fault(0x1000, Access::Read);
    ASSERT_TRUE(vm.mmu.move_memslot(0, (4 * k2MiB) >> 12));
    EXPECT_FALSE(vm.mmu.lookup(0x1000));
    EXPECT_EQ(vm.mmu.stats().pages_2m, 0u);
    const FaultResult r = vm.mmu.fault(4 * k2MiB + 0x1000, Access::Read);
    EXPECT_EQ(r.hva, kHvaBase + 0x1000);  // same memory, new GPA
    EXPECT_EQ(r.level, Level::k2M);
}

// Three 2M regions with NX splits in the given order.
struct SplitVm : TestVm {
    SplitVm() : TestVm(Level::k2M, true) {
        EXPECT_TRUE(mmu.create_memslot(make_slot(0, 0, 8 * k2MiB, kHvaBase)));
        for (std::uint64_t r : {2, 0, 5}) mmu.fault(r * k2MiB, Access::Exec);
    }
};

TEST(Recovery, ZapsCeilOfSplitsOverRatioOldestFirst) {
    // kvm_recover_nx_huge_pages(): to_zap = DIV_ROUND_UP(nx_lpage_splits, ratio), taken from
    // the head (oldest) of possible_nx_huge_pages.
    SplitVm vm;
    ASSERT_EQ(vm.mmu.stats().nx_lpage_splits, 3u);
    EXPECT_EQ(vm.mmu.recover_nx_splits(2), 2u);  // ceil(3/2)
    ASSERT_EQ(vm.mmu.nx_splits().size(), 1u);
    EXPECT_EQ(vm.mmu.nx_splits()[0].base_gfn, 5u * 512);  // regions 2 and 0 went first
    EXPECT_FALSE(vm.mmu.lookup(2 * k2MiB));
    EXPECT_FALSE(vm.mmu.lookup(0));
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
    // The next access maps huge again.
    EXPECT_EQ(vm.mmu.fault(2 * k2MiB, Access::Read).level, Level::k2M);
    EXPECT_EQ(vm.mmu.recover_nx_splits(60), 1u);  // ceil(1/60) = 1
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(vm.mmu.recover_nx_splits(60), 0u);
    EXPECT_TRUE(vm.mmu.audit().ok());
}

TEST(Recovery, RatioZeroDisables) {
    SplitVm vm;
    EXPECT_EQ(vm.mmu.recover_nx_splits(0), 0u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 3u);
}

TEST(Recovery, OnlyWhileMitigationActive) {
    // Recovery runs only while the mitigation is on for the VM.
    SplitVm vm;
    vm.mmu.disable_nx_huge_pages();
    EXPECT_EQ(vm.mmu.recover_nx_splits(1), 0u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 3u);
}

TEST(Recovery, DirtyLoggedSlotIsUnaccountedNotZapped) {
    // KVM skips zapping splits in dirty-logged slots (they would fault back at 4K) and only
    // unaccounts them.
    SplitVm vm;
    const auto pages = vm.mmu.stats().pages_4k;
    ASSERT_TRUE(vm.mmu.set_memslot_flags(0, kMemLogDirtyPages));
    EXPECT_EQ(vm.mmu.recover_nx_splits(1), 3u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(vm.mmu.stats().pages_4k, pages);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Recovery, CountsOneFlushPerPass) {
    SplitVm vm;
    const auto before = vm.mmu.stats().remote_tlb_flush;
    vm.mmu.recover_nx_splits(1);
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush, before + 1);
}

TEST(Split, DoesNotFlush) {
    // tdp_mmu_split_huge_page() installs the split table without a TLB flush.
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    vm.mmu.fault(0, Access::Read);
    vm.mmu.fault(0, Access::Exec);
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush, 0u);
}

TEST(Zap, PartialZapKeepsSplitTracked) {
    // Zapping leaves inside a split region leaves its table (and KVM's tracking) in place.
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    vm.mmu.fault(0, Access::Read);
    vm.mmu.fault(0, Access::Exec);
    vm.mmu.zap_gfn_range(0, 100);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 412u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Read).level, Level::k4K);
    vm.mmu.zap_gfn_range(0, 512);  // the whole region: the table goes, and its tracking
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Zap, ReadonlyFlagChangeZapsSlot) {
    // KVM refuses to toggle KVM_MEM_READONLY (the caller returns EINVAL); applied anyway, the
    // slot is zapped so no writable SPTE survives.
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    vm.mmu.fault(0, Access::Write);
    ASSERT_TRUE(vm.mmu.set_memslot_flags(0, kMemReadonly));
    EXPECT_FALSE(vm.mmu.lookup(0));
    EXPECT_FALSE(is_writable_pte(vm.mmu.fault(0, Access::Read).spte));
}

}  // namespace
}  // namespace kvmemu::mmu::testing
