// The VM's MMU as a user observes it: PRE_FAULT_MEMORY's range protocol, the oracle's worked
// example read through the VM's stats fd, module parameters, and per-VM NX independence.
#include <gtest/gtest.h>
#include <unistd.h>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::HostMappingLevel;
using kvmemu::kvm::System;
using kvmemu::mmu::Access;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr std::uint64_t A = FakeUserIo::kBase;
constexpr std::uint64_t M2 = 2ULL << 20;

struct VmFixture : ::testing::Test {
    System system{Config{kvmemu::kvm::CapNumbering::Both, HostMappingLevel::k2M},
                  [](pid_t) { return 0; }};
    FakeUserIo io;

    std::shared_ptr<kvmemu::kvm::Vm> make_vm() {
        auto vm = *system.create_vm(kOwner, 0);
        // 3 aligned 2 MiB regions A B C at gpa 0 backed by 2M-aligned client memory.
        io.put(A, u::kvm_userspace_memory_region{0, 0, 0, 3 * M2, 0x7f0000000000});
        EXPECT_EQ(vm->ioctl(kOwner, u::SET_USER_MEMORY_REGION, A, io), 0);
        return vm;
    }
    long pre_fault(kvmemu::kvm::Vm& vm, kvmemu::kvm::Vcpu& vcpu, std::uint64_t gpa,
                   std::uint64_t size, std::uint64_t flags = 0) {
        u::kvm_pre_fault_memory r{};
        r.gpa = gpa;
        r.size = size;
        r.flags = flags;
        io.put(A + 0x100, r);
        return vm.vcpu_ioctl(vcpu, kOwner, u::PRE_FAULT_MEMORY, A + 0x100, io);
    }
    static std::pair<std::uint64_t, std::uint64_t> seen(const kvmemu::kvm::Vm& vm) {
        const auto s = vm.stats();
        return {s.pages_2m, s.nx_lpage_splits};
    }
    // The same two numbers as a user reads them: from a stats fd, by offset of the descriptor.
    static std::pair<std::uint64_t, std::uint64_t> read_stats_fd(kvmemu::kvm::Vm& vm) {
        auto fd = vm.open_stats(kOwner);
        std::uint64_t p2m = 0, splits = 0;
        EXPECT_EQ(::pread(fd->get(), &p2m, 8, 1096 + 80), 8);
        EXPECT_EQ(::pread(fd->get(), &splits, 8, 1096 + 96), 8);
        return {p2m, splits};
    }
};

TEST_F(VmFixture, PreFaultMapsHugeAndWritesBackTheLeftover) {
    auto vm = make_vm();
    auto vcpu = *system.create_vcpu(*vm, kOwner, 0);
    EXPECT_EQ(pre_fault(*vm, *vcpu, 0, 3 * M2), 0);
    EXPECT_EQ(vm->stats().pages_2m, 3U);
    const auto back = io.get<u::kvm_pre_fault_memory>(A + 0x100);
    EXPECT_EQ(back.size, 0U);
    EXPECT_EQ(back.gpa, 3 * M2);
    // Beyond the slot: nothing mapped -> ENOENT, range written back unchanged.
    EXPECT_EQ(pre_fault(*vm, *vcpu, 3 * M2, 0x1000), -ENOENT);
    // Part inside, part outside: success, leftover reported.
    EXPECT_EQ(pre_fault(*vm, *vcpu, 2 * M2, 2 * M2), 0);
    EXPECT_EQ(io.get<u::kvm_pre_fault_memory>(A + 0x100).gpa, 3 * M2);
    EXPECT_EQ(io.get<u::kvm_pre_fault_memory>(A + 0x100).size, M2);
    EXPECT_EQ(pre_fault(*vm, *vcpu, 0x800, 0x1000), -EINVAL);
    EXPECT_EQ(pre_fault(*vm, *vcpu, 0, 0x1000, 1), -EINVAL);
    EXPECT_EQ(pre_fault(*vm, *vcpu, 0, 0), -EINVAL);
}

// The oracle's example: nx_huge_pages on, regions A B C; (pages_2m, nx_lpage_splits) per step.
TEST_F(VmFixture, OracleWorkedExampleWithTheMitigation) {
    ASSERT_EQ(system.write_param("nx_huge_pages", "force"), 0);
    auto vm = make_vm();
    auto vcpu = *system.create_vcpu(*vm, kOwner, 0);
    const std::uint64_t a = 0, b = M2, c = 2 * M2;
    EXPECT_EQ(pre_fault(*vm, *vcpu, a, 0x1000), 0);
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(1UL, 0UL));
    EXPECT_EQ(pre_fault(*vm, *vcpu, b, 0x1000), 0);
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(2UL, 0UL));
    EXPECT_TRUE(vm->fault(a + 0x3000, Access::Exec).mapped());
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(1UL, 1UL));
    EXPECT_TRUE(vm->fault(c + 0x1000, Access::Exec).mapped());
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(1UL, 2UL));
    EXPECT_EQ(pre_fault(*vm, *vcpu, a, 0x1000), 0);
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(1UL, 2UL));
    // Recovery: ratio 1 recovers ceil(2/1) = 2 regions in one pass.
    EXPECT_EQ(vm->recover_nx_splits(1), 2U);
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(1UL, 0UL));
    EXPECT_EQ(pre_fault(*vm, *vcpu, c, 0x1000), 0);
    EXPECT_EQ(read_stats_fd(*vm), std::make_pair(2UL, 0UL));
}

TEST_F(VmFixture, OracleWorkedExampleWithTheCapability) {
    ASSERT_EQ(system.write_param("nx_huge_pages", "force"), 0);
    auto vm = make_vm();
    u::kvm_enable_cap cap{};
    cap.cap = u::CAP_VM_DISABLE_NX_HUGE_PAGES;
    io.put(A + 0x200, cap);
    ASSERT_EQ(vm->ioctl(kOwner, u::ENABLE_CAP, A + 0x200, io), 0);
    EXPECT_FALSE(vm->nx_mitigation_active());
    auto vcpu = *system.create_vcpu(*vm, kOwner, 0);
    const std::uint64_t a = 0, b = M2, c = 2 * M2;
    EXPECT_EQ(pre_fault(*vm, *vcpu, a, 0x1000), 0);
    EXPECT_EQ(seen(*vm), std::make_pair(1UL, 0UL));
    EXPECT_EQ(pre_fault(*vm, *vcpu, b, 0x1000), 0);
    EXPECT_EQ(seen(*vm), std::make_pair(2UL, 0UL));
    EXPECT_TRUE(vm->fault(a + 0x3000, Access::Exec).mapped());
    EXPECT_EQ(seen(*vm), std::make_pair(2UL, 0UL));
    EXPECT_TRUE(vm->fault(c + 0x1000, Access::Exec).mapped());
    EXPECT_EQ(seen(*vm), std::make_pair(3UL, 0UL));
    EXPECT_EQ(pre_fault(*vm, *vcpu, a, 0x1000), 0);
    EXPECT_EQ(seen(*vm), std::make_pair(3UL, 0UL));
    EXPECT_EQ(vm->recover_nx_splits(1), 0U);
    EXPECT_EQ(seen(*vm), std::make_pair(3UL, 0UL));
    // The huge leaf of C is executable: the capability's whole point.
    const auto leaf = vm->lookup(c);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->level, kvmemu::mmu::Level::k2M);
    EXPECT_NE(leaf->spte & 0x4, 0U);  // EPT X bit
}

TEST_F(VmFixture, CapabilityOnOneVmLeavesAnotherMitigated) {
    ASSERT_EQ(system.write_param("nx_huge_pages", "on"), 0);
    auto opted_out = make_vm();
    auto other = make_vm();
    u::kvm_enable_cap cap{};
    cap.cap = u::CAP_VM_DISABLE_NX_HUGE_PAGES;
    io.put(A + 0x200, cap);
    ASSERT_EQ(opted_out->ioctl(kOwner, u::ENABLE_CAP, A + 0x200, io), 0);
    EXPECT_TRUE(opted_out->fault(0, Access::Exec).mapped());
    EXPECT_TRUE(other->fault(0, Access::Exec).mapped());
    EXPECT_EQ(opted_out->stats().pages_2m, 1U);
    EXPECT_EQ(other->stats().pages_2m, 0U);
    EXPECT_EQ(other->stats().pages_4k, 1U);
    EXPECT_EQ(other->stats().nx_lpage_splits, 1U);
}

TEST_F(VmFixture, ModuleParametersAndRuntimeChangeZaps) {
    EXPECT_EQ(*system.read_param("nx_huge_pages"), "N\n");
    EXPECT_EQ(system.write_param("nx_huge_pages", "bogus"), EINVAL);
    auto vm = make_vm();
    auto vcpu = *system.create_vcpu(*vm, kOwner, 0);
    ASSERT_EQ(pre_fault(*vm, *vcpu, 0, M2), 0);
    EXPECT_EQ(vm->stats().pages_2m, 1U);
    int woken = 0;
    system.set_on_recovery_change([&] { ++woken; });
    ASSERT_EQ(system.write_param("nx_huge_pages", "Y"), 0);  // a change: every VM is zapped
    EXPECT_EQ(*system.read_param("nx_huge_pages"), "Y\n");
    EXPECT_EQ(vm->stats().pages_2m, 0U);
    EXPECT_TRUE(vm->nx_mitigation_active());
    EXPECT_EQ(system.write_param("nx_huge_pages", "never"), EBUSY);  // a VM exists
    EXPECT_EQ(system.write_param("nx_huge_pages_recovery_ratio", "7"), 0);
    EXPECT_EQ(system.recovery_ratio(), 7U);
    EXPECT_EQ(system.write_param("nx_huge_pages_recovery_period_ms", "x"), EINVAL);
    EXPECT_GE(woken, 1);
    system.destroy_vm(vm->id());
    EXPECT_EQ(system.write_param("nx_huge_pages", "never"), 0);
    EXPECT_EQ(*system.read_param("nx_huge_pages"), "never\n");
    EXPECT_EQ(system.write_param("nx_huge_pages", "on"), EPERM);
    EXPECT_EQ(system.write_param("nx_huge_pages_recovery_ratio", "1"), EPERM);
    EXPECT_EQ(system.write_param("no_such_param", "1"), ENOENT);
}

}  // namespace
