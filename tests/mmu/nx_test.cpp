// The NX huge-page mitigation per VM: no executable huge leaf while active, exec faults map 4K
// and split, splits tracked once per region, the capability and the host policy.
#include <gtest/gtest.h>

#include "tests/mmu/mmu_test_util.hpp"

namespace kvmemu::mmu::testing {
namespace {

TEST(Nx, ActiveOnlyWithPolicyAndWithoutCapability) {
    // is_nx_huge_page_enabled(kvm) = nx_huge_pages && !kvm->arch.disable_nx_huge_pages.
    TestVm on(Level::k2M, true);
    TestVm off(Level::k2M, false);
    EXPECT_TRUE(on.mmu.nx_mitigation_active());
    EXPECT_FALSE(off.mmu.nx_mitigation_active());
    on.mmu.disable_nx_huge_pages();
    EXPECT_FALSE(on.mmu.nx_mitigation_active());
    EXPECT_TRUE(on.mmu.nx_huge_pages());
}

TEST(Nx, HugeLeavesAreNotExecutableWhileActive) {
    // make_spte(): huge leaves lose ACC_EXEC; read/write faults still map huge.
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    const FaultResult r = vm.mmu.fault(0x1000, Access::Read);
    EXPECT_EQ(r.level, Level::k2M);
    EXPECT_FALSE(is_executable_pte(r.spte));
    const FaultResult w = vm.mmu.fault(k2MiB, Access::Write);
    EXPECT_EQ(w.level, Level::k2M);
    EXPECT_FALSE(is_executable_pte(w.spte));
    EXPECT_TRUE(is_writable_pte(w.spte));
}

TEST(Nx, ExecFaultSplitsExistingHugeLeaf) {
    // kvm_tdp_mmu_map(): huge_page_disallowed -> goal 4K; the huge leaf is split
    // (tdp_mmu_split_huge_page), its 512 children keep its permissions and are executable, and
    // the new table is tracked (track_possible_nx_huge_page: nx_lpage_splits + 1).
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    const FaultResult r = vm.mmu.fault(0x1000, Access::Read);
    const FaultResult x = vm.mmu.fault(0x3000, Access::Exec);
    ASSERT_TRUE(x.mapped());
    EXPECT_EQ(x.level, Level::k4K);
    EXPECT_TRUE(is_executable_pte(x.spte));
    EXPECT_EQ(vm.mmu.stats().pages_2m, 0u);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 512u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
    for (std::uint64_t gpa : {std::uint64_t{0}, std::uint64_t{0x1ff000}}) {
        const auto leaf = vm.mmu.lookup(gpa);
        ASSERT_TRUE(leaf);
        EXPECT_EQ(leaf->level, Level::k4K);
        EXPECT_TRUE(is_executable_pte(leaf->spte));
        EXPECT_EQ(is_writable_pte(leaf->spte), is_writable_pte(r.spte));
        EXPECT_EQ(spte_to_pfn(leaf->spte), (kHvaBase + gpa) >> 12);
    }
    // Counted once per region: more fetches and reads in it change nothing.
    vm.mmu.fault(0x7000, Access::Exec);
    vm.mmu.fault(0x9000, Access::Read);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 512u);
    ASSERT_EQ(vm.mmu.nx_splits().size(), 1u);
    EXPECT_EQ(vm.mmu.nx_splits()[0].base_gfn, 0u);
    EXPECT_EQ(vm.mmu.nx_splits()[0].huge_level, Level::k2M);
}

TEST(Nx, ExecFaultInUnmappedRegionMaps4KAndTracks) {
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    const FaultResult x = vm.mmu.fault(k2MiB + 0x5000, Access::Exec);
    EXPECT_EQ(x.level, Level::k4K);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 1u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
    // A later read in the region stays 4K (disallowed_hugepage_adjust()).
    EXPECT_EQ(vm.mmu.fault(k2MiB + 0x9000, Access::Read).level, Level::k4K);
    EXPECT_EQ(vm.mmu.stats().pages_2m, 0u);
}

TEST(Nx, NotTrackedWhenNoHugePageWasPossible) {
    // Tracked only if fault->req_level >= the level: a 4K-backed region is no NX split.
    TestVm vm(Level::k4K, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    EXPECT_EQ(vm.mmu.fault(0x5000, Access::Exec).level, Level::k4K);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    // Nor in a slot too small or misaligned for a huge page.
    TestVm small(Level::k2M, true);
    ASSERT_TRUE(small.mmu.create_memslot(make_slot(0, 0, k2MiB / 2, kHvaBase)));
    small.mmu.fault(0x1000, Access::Exec);
    EXPECT_EQ(small.mmu.stats().nx_lpage_splits, 0u);
}

TEST(Nx, OneGigRegionSplitsTwice) {
    // With a 1G-capable region, the exec fault links a PD under the 1G SPTE and a PT under the
    // 2M SPTE; both could have been huge (req_level 1G >= 3 and >= 2): two splits tracked.
    TestVm vm(Level::k1G, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k1GiB, kHvaBase)));
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Read).level, Level::k1G);
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Exec).level, Level::k4K);
    EXPECT_EQ(vm.mmu.stats().pages_1g, 0u);
    EXPECT_EQ(vm.mmu.stats().pages_2m, 511u);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 512u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 2u);
    // The other 2M children stay non-executable huge leaves.
    const auto leaf = vm.mmu.lookup(k2MiB);
    EXPECT_EQ(leaf->level, Level::k2M);
    EXPECT_FALSE(is_executable_pte(leaf->spte));
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Nx, InactiveMapsExecutableHugeLeaves) {
    // Without the mitigation exec faults map huge and huge leaves are executable.
    TestVm vm(Level::k2M, false);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    const FaultResult r = vm.mmu.fault(0x1000, Access::Read);
    EXPECT_TRUE(is_executable_pte(r.spte));
    const FaultResult x = vm.mmu.fault(k2MiB, Access::Exec);
    EXPECT_EQ(x.level, Level::k2M);
    EXPECT_TRUE(is_executable_pte(x.spte));
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
}

TEST(Nx, CapabilityIsPerVm) {
    // KVM_CAP_VM_DISABLE_NX_HUGE_PAGES changes kvm->arch of that VM only.
    FixedHostLevel host(Level::k2M);
    Mmu a(host, true);
    Mmu b(host, true);
    for (Mmu* m : {&a, &b}) ASSERT_TRUE(m->create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    b.fault(0x1000, Access::Read);
    const auto before = b.lookup(0x1000)->spte;
    a.disable_nx_huge_pages();
    EXPECT_EQ(b.lookup(0x1000)->spte, before);
    EXPECT_EQ(a.fault(0x1000, Access::Exec).level, Level::k2M);
    EXPECT_EQ(b.fault(0x1000, Access::Exec).level, Level::k4K);
    EXPECT_EQ(a.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(b.stats().nx_lpage_splits, 1u);
}

TEST(Nx, PolicyChangeZapsEverything) {
    // set_nx_huge_pages(): a changed value zaps every VM (kvm_mmu_zap_all_fast), including VMs
    // that used the capability; an unchanged value zaps nothing.
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    vm.mmu.fault(0x1000, Access::Exec);
    vm.mmu.fault(k2MiB, Access::Read);
    EXPECT_FALSE(vm.mmu.set_nx_huge_pages(true));
    EXPECT_EQ(vm.mmu.stats().pages_2m, 1u);
    EXPECT_TRUE(vm.mmu.set_nx_huge_pages(false));
    EXPECT_EQ(vm.mmu.stats().pages_2m + vm.mmu.stats().pages_4k + vm.mmu.stats().nx_lpage_splits,
              0u);
    EXPECT_EQ(vm.mmu.page_table_count(), 1u);
    // Now inactive: exec maps huge.
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Exec).level, Level::k2M);
}

TEST(Nx, ReadAfterCapabilityCollapsesSplitTable) {
    // Without the mitigation disallowed_hugepage_adjust() is skipped: a read fault at 2M
    // replaces the split table by a huge leaf (handle_removed_pt frees it and its tracking).
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase)));
    vm.mmu.fault(0x1000, Access::Exec);
    vm.mmu.disable_nx_huge_pages();
    const auto flushes = vm.mmu.stats().remote_tlb_flush;
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Read).level, Level::k2M);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 0u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(vm.mmu.stats().remote_tlb_flush, flushes + 1);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Nx, ReadInSplitGigRegionStaysAt2M) {
    // disallowed_hugepage_adjust(): the PD that replaced the 1G leaf is nx_huge_page_disallowed,
    // so a read elsewhere in the 1G region maps 2M at most, never 1G again until recovery.
    TestVm vm(Level::k1G, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k1GiB, kHvaBase)));
    vm.mmu.fault(0x1000, Access::Exec);
    vm.mmu.zap_gfn_range(512 * 7, 512 * 8);  // drop the 2M leaf at 14 MiB
    EXPECT_EQ(vm.mmu.fault(7 * k2MiB, Access::Read).level, Level::k2M);
    EXPECT_EQ(vm.mmu.stats().pages_1g, 0u);
    // Recovery zaps the oldest split first (the PD, with the PT below): 1G again next time.
    EXPECT_EQ(vm.mmu.recover_nx_splits(2), 1u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
    EXPECT_EQ(vm.mmu.fault(7 * k2MiB, Access::Read).level, Level::k1G);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Nx, ExecOnReadonlySlotStillSplits) {
    TestVm vm(Level::k2M, true);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase, kMemReadonly)));
    EXPECT_FALSE(is_executable_pte(vm.mmu.fault(0, Access::Read).spte));
    const FaultResult x = vm.mmu.fault(0x2000, Access::Exec);
    EXPECT_EQ(x.level, Level::k4K);
    EXPECT_TRUE(is_executable_pte(x.spte));
    EXPECT_FALSE(is_writable_pte(x.spte));
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 1u);
}

}  // namespace
}  // namespace kvmemu::mmu::testing
