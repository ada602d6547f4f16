// Fault handling: outcome kinds, level selection (host level, slot bounds and alignment, dirty
// logging) and permissions, each traced to KVM's x86 MMU.
#include <gtest/gtest.h>

#include "tests/mmu/mmu_test_util.hpp"

namespace kvmemu::mmu::testing {
namespace {

TEST(Fault, NoSlotIsReportedForMmio) {
    // No memslot: KVM installs an MMIO SPTE and exits with KVM_EXIT_MMIO; we report NoSlot.
    TestVm vm;
    EXPECT_EQ(vm.mmu.fault(0x1000, Access::Read).outcome, FaultOutcome::NoSlot);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    EXPECT_EQ(vm.mmu.fault(k2MiB, Access::Write).outcome, FaultOutcome::NoSlot);
    EXPECT_EQ(vm.mmu.fault(std::uint64_t{1} << 52, Access::Read).outcome, FaultOutcome::NoSlot);
    EXPECT_EQ(vm.mmu.stats().pages_4k + vm.mmu.stats().pages_2m, 0u);
}

TEST(Fault, WriteToReadonlySlotIsEmulatedNotMapped) {
    // KVM_MEM_READONLY: a write gets KVM_PFN_ERR_RO_FAULT -> RET_PF_EMULATE -> MMIO exit.
    TestVm vm;
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase, kMemReadonly)));
    const FaultResult w = vm.mmu.fault(0x1234, Access::Write);
    EXPECT_EQ(w.outcome, FaultOutcome::ReadOnlyWrite);
    EXPECT_EQ(w.hva, kHvaBase + 0x1234);
    EXPECT_FALSE(vm.mmu.lookup(0x1234));
    // Reads and fetches map, without W.
    const FaultResult r = vm.mmu.fault(0x1234, Access::Read);
    ASSERT_TRUE(r.mapped());
    EXPECT_FALSE(is_writable_pte(r.spte));
    EXPECT_EQ(vm.mmu.fault(0x1234, Access::Write).outcome, FaultOutcome::ReadOnlyWrite);
    const FaultResult x = vm.mmu.fault(0x5000, Access::Exec);
    ASSERT_TRUE(x.mapped());
    EXPECT_TRUE(is_executable_pte(x.spte));
    EXPECT_FALSE(is_writable_pte(x.spte));
}

TEST(Fault, ReadFaultMapsWritableInWritableSlot) {
    // KVM faults the pfn in writable when it can (map_writable) even for reads, and make_spte()
    // then sets W, so the first write does not fault again.
    TestVm vm(Level::k4K);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    const FaultResult r = vm.mmu.fault(0x3000, Access::Read);
    ASSERT_TRUE(r.mapped());
    EXPECT_TRUE(is_writable_pte(r.spte));
    EXPECT_EQ(r.level, Level::k4K);
    EXPECT_EQ(r.hva, kHvaBase + 0x3000);
    EXPECT_EQ(spte_to_pfn(r.spte), (kHvaBase >> 12) + 3);  // pfn = hva >> 12
}

TEST(Fault, LevelFollowsHostMapping) {
    // kvm_mmu_max_mapping_level(): min(host_pfn_mapping_level(), slot limits).
    for (Level host : {Level::k4K, Level::k2M, Level::k1G}) {
        TestVm vm(host, false);
        ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 2 * k1GiB, kHvaBase)));
        const FaultResult r = vm.mmu.fault(k1GiB + 5 * k2MiB + 0x42, Access::Read);
        ASSERT_TRUE(r.mapped());
        EXPECT_EQ(r.level, host);
        EXPECT_EQ(vm.mmu.stats().pages(to_int(host)), 1u);
        EXPECT_EQ(vm.mmu.lookup(k1GiB + 5 * k2MiB)->level, host);
    }
}

TEST(Fault, HugeLeafMustLieInsideTheSlot) {
    // lpage_info disallow_lpage: the slot's ragged head and tail cannot be mapped huge.
    TestVm vm(Level::k2M);
    // Slot [1 MiB, 5 MiB): 2M region [2,4) MiB fits, [0,2) and [4,6) do not.
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, k2MiB / 2, 2 * k2MiB, kHvaBase + k2MiB / 2)));
    EXPECT_EQ(vm.mmu.fault(k2MiB / 2, Access::Read).level, Level::k4K);
    EXPECT_EQ(vm.mmu.fault(k2MiB + 0x1000, Access::Read).level, Level::k2M);
    EXPECT_EQ(vm.mmu.fault(2 * k2MiB + 0x1000, Access::Read).level, Level::k4K);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Fault, GfnAndHvaMustBeCongruent) {
    // kvm_alloc_memslot_metadata(): if (base_gfn ^ userspace_addr >> PAGE_SHIFT) is not aligned
    // to a huge size, no huge page of that size in the slot.
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 4 * k2MiB, kHvaBase + 0x1000)));
    EXPECT_EQ(vm.mmu.fault(k2MiB, Access::Read).level, Level::k4K);
    TestVm big(Level::k1G, false);
    // 2M-congruent but not 1G-congruent: 2M at most.
    ASSERT_TRUE(big.mmu.create_memslot(make_slot(0, 0, 2 * k1GiB, kHvaBase + k2MiB)));
    EXPECT_EQ(big.mmu.fault(0x1000, Access::Read).level, Level::k2M);
}

TEST(Fault, DirtyLoggingMaps4KOnly) {
    // kvm_mmu_hugepage_adjust(): kvm_slot_dirty_track_enabled() -> 4K.
    TestVm vm(Level::k1G);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k1GiB, kHvaBase, kMemLogDirtyPages)));
    for (Access a : {Access::Read, Access::Write, Access::Exec}) {
        EXPECT_EQ(vm.mmu.fault(0x10000 * (1 + static_cast<int>(a)), a).level, Level::k4K);
    }
    // No NX split is accounted: req_level is 4K in a dirty-logged slot.
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);
}

TEST(Fault, EnablingDirtyLoggingSplitsAndWriteProtects) {
    // kvm_mmu_slot_apply_flags(): eager split of huge pages to 4K, then write-protect (no PML on
    // AMD); a write then restores W on the 4K SPTE.
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, 2 * k2MiB, kHvaBase)));
    ASSERT_EQ(vm.mmu.fault(0, Access::Read).level, Level::k2M);
    ASSERT_TRUE(vm.mmu.set_memslot_flags(0, kMemLogDirtyPages));
    EXPECT_EQ(vm.mmu.stats().pages_2m, 0u);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 512u);
    EXPECT_EQ(vm.mmu.stats().nx_lpage_splits, 0u);  // not an NX split
    const auto leaf = vm.mmu.lookup(0x5000);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->level, Level::k4K);
    EXPECT_FALSE(is_writable_pte(leaf->spte));
    EXPECT_TRUE(is_executable_pte(leaf->spte));  // split to 4K under the mitigation: X
    const FaultResult w = vm.mmu.fault(0x5000, Access::Write);
    EXPECT_TRUE(is_writable_pte(w.spte));
    EXPECT_EQ(w.level, Level::k4K);
    EXPECT_EQ(vm.mmu.stats().pages_4k, 512u);
    // Disabling dirty logging lets the next fault map huge again.
    ASSERT_TRUE(vm.mmu.set_memslot_flags(0, 0));
    EXPECT_EQ(vm.mmu.fault(0x5000, Access::Read).level, Level::k2M);
    EXPECT_TRUE(vm.mmu.audit().ok()) << vm.mmu.audit().error;
}

TEST(Fault, GpaToHvaAndLookup) {
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, k1GiB, k2MiB, kHvaBase)));
    EXPECT_EQ(vm.mmu.gpa_to_hva(k1GiB + 0x777), kHvaBase + 0x777);
    EXPECT_EQ(vm.mmu.gpa_to_hva(0), std::nullopt);
    EXPECT_FALSE(vm.mmu.lookup(k1GiB + 0x777));  // not faulted yet
    vm.mmu.fault(k1GiB, Access::Write);
    const auto leaf = vm.mmu.lookup(k1GiB + 0x1777);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->hva, kHvaBase + 0x1777);
    EXPECT_EQ(leaf->gfn, k1GiB >> 12);
    EXPECT_EQ(leaf->level, Level::k2M);
}

TEST(Fault, RepeatedFaultIsSpurious) {
    TestVm vm(Level::k2M);
    ASSERT_TRUE(vm.mmu.create_memslot(make_slot(0, 0, k2MiB, kHvaBase)));
    const FaultResult a = vm.mmu.fault(0x1000, Access::Read);
    const FaultResult b = vm.mmu.fault(0x2000, Access::Write);
    EXPECT_EQ(a.spte, b.spte);
    EXPECT_EQ(vm.mmu.stats().pages_2m, 1u);
    EXPECT_EQ(vm.mmu.page_table_count(), 3u);  // PML4, PDPT, PD
}

}  // namespace
}  // namespace kvmemu::mmu::testing
