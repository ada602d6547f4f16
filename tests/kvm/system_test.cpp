// System-fd and VM-fd ioctls other than ENABLE_CAP: API version, extensions, CPUID and MSR list
// protocols, VM/vCPU creation limits, memslot validation (errnos of kvm_main.c).
#include <gtest/gtest.h>

#include "cpu/engine.hpp"
#include "kvm/cpu_model.hpp"
#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"
#include "uapi/kvm_run.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::System;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr std::uint64_t A = FakeUserIo::kBase;

System make_system() {
    return System(Config{}, [](pid_t) { return 0; });
}

TEST(System, ScalarRequests) {
    auto s = make_system();
    FakeUserIo io;
    EXPECT_EQ(s.ioctl(kOwner, u::GET_API_VERSION, 0, io), 12);
    EXPECT_EQ(s.ioctl(kOwner, u::GET_VCPU_MMAP_SIZE, 0, io), 12288);
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_NR_MEMSLOTS, io), 32764);
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_MAX_VCPUS, io), 1024);
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_BINARY_STATS_FD, io), 1);
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_PRE_FAULT_MEMORY, io), 1);
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_IRQCHIP, io), 0);  // not modelled
    EXPECT_EQ(s.ioctl(kOwner, u::ENABLE_CAP, A, io), -EINVAL);  // system fd: EINVAL, no copy
    EXPECT_EQ(io.reads, 0);
    EXPECT_EQ(s.ioctl(kOwner, u::RUN, 0, io), -EINVAL);         // unknown on the system fd
    EXPECT_EQ(s.ioctl(kOwner, u::CREATE_VM, 0, io), -EOPNOTSUPP);  // needs the launcher
}

TEST(System, SupportedCpuidE2bigLeavesNentAlone) {
    auto s = make_system();
    FakeUserIo io;
    io.put(A, u::kvm_cpuid2{1, 0});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_SUPPORTED_CPUID, A, io), -E2BIG);
    EXPECT_EQ(io.get<u::kvm_cpuid2>(A).nent, 1U);
    io.put(A, u::kvm_cpuid2{0, 0});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_SUPPORTED_CPUID, A, io), -E2BIG);
    io.put(A, u::kvm_cpuid2{100, 0});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_SUPPORTED_CPUID, A, io), 0);
    const auto n = io.get<u::kvm_cpuid2>(A).nent;
    EXPECT_EQ(n, kvmemu::kvm::supported_cpuid().size());
    const auto leaf0 = io.get<u::kvm_cpuid_entry2>(A + 8);
    EXPECT_EQ(leaf0.function, 0U);
    EXPECT_GE(leaf0.eax, 1U);
    EXPECT_EQ(s.ioctl(kOwner, u::GET_SUPPORTED_CPUID, 8, io), -EFAULT);
}

TEST(System, MsrIndexListWritesCountBeforeE2big) {
    auto s = make_system();
    FakeUserIo io;
    io.put(A, u::kvm_msr_list{1});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_MSR_INDEX_LIST, A, io), -E2BIG);
    const auto count = io.get<u::kvm_msr_list>(A).nmsrs;
    EXPECT_EQ(count, kvmemu::cpu::Engine::msr_list().size());
    EXPECT_EQ(s.ioctl(kOwner, u::GET_MSR_INDEX_LIST, A, io), 0);
    EXPECT_EQ(io.get<std::uint32_t>(A + 4), 0x10U);  // IA32_TSC first
}

TEST(System, FeatureMsrsOnTheSystemFd) {
    auto s = make_system();
    FakeUserIo io;
    EXPECT_EQ(s.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_GET_MSR_FEATURES, io), 1);
    io.put(A, u::kvm_msr_list{0});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_MSR_FEATURE_INDEX_LIST, A, io), -E2BIG);
    ASSERT_EQ(io.get<u::kvm_msr_list>(A).nmsrs, 4U);  // the count, written before E2BIG
    ASSERT_EQ(s.ioctl(kOwner, u::GET_MSR_FEATURE_INDEX_LIST, A, io), 0);
    EXPECT_EQ(io.get<std::uint32_t>(A + 4), 0x8bU);    // IA32_UCODE_REV, as real KVM lists them
    EXPECT_EQ(io.get<std::uint32_t>(A + 8), 0x10aU);   // IA32_ARCH_CAPABILITIES
    EXPECT_EQ(io.get<std::uint32_t>(A + 12), 0x345U);  // IA32_PERF_CAPABILITIES
    EXPECT_EQ(io.get<std::uint32_t>(A + 16), 0xceU);   // MSR_PLATFORM_INFO
    // Every listed MSR reads; the batch stops at the first one that is not a feature MSR.
    io.put(A, u::kvm_msrs{3, 0});
    io.put(A + 8, u::kvm_msr_entry{0x10a, 0, 0});
    io.put(A + 24, u::kvm_msr_entry{0x10, 0, 7});  // IA32_TSC: a vCPU MSR only
    io.put(A + 40, u::kvm_msr_entry{0x8b, 0, 0});
    ASSERT_EQ(s.ioctl(kOwner, u::GET_MSRS, A, io), 1);
    EXPECT_NE(io.get<u::kvm_msr_entry>(A + 8).data & (1U << 6), 0U);  // PSCHANGE_MC_NO
    EXPECT_EQ(io.get<u::kvm_msr_entry>(A + 24).data, 7U);            // untouched
    io.put(A, u::kvm_msrs{256, 0});
    EXPECT_EQ(s.ioctl(kOwner, u::GET_MSRS, A, io), -E2BIG);
    EXPECT_EQ(s.ioctl(kOwner, u::SET_MSRS, A, io), -EINVAL);  // not a system ioctl
}

TEST(System, CreateVmTypesAndVcpuLimits) {
    auto s = make_system();
    EXPECT_EQ(s.create_vm(kOwner, 1).error(), EINVAL);
    auto vm = *s.create_vm(kOwner, 0);
    EXPECT_TRUE(s.create_vcpu(*vm, kOwner, 0));
    EXPECT_EQ(s.create_vcpu(*vm, kOwner, 0).error(), EEXIST);
    EXPECT_EQ(s.create_vcpu(*vm, kOwner, u::MAX_VCPU_IDS).error(), EINVAL);
    EXPECT_EQ(s.create_vcpu(*vm, kOwner, ~0ULL).error(), EINVAL);
    EXPECT_TRUE(s.create_vcpu(*vm, kOwner, u::MAX_VCPU_IDS - 1));
    EXPECT_EQ(s.create_vcpu(*vm, Caller{9, 8}, 5).error(), EIO);
    EXPECT_EQ(vm->vcpu_count(), 2U);
}

TEST(System, VcpuIsFoundByItsMemfdIdentity) {
    auto s = make_system();
    auto vm = *s.create_vm(kOwner, 0);
    auto vcpu = *s.create_vcpu(*vm, kOwner, 3);
    struct stat st {};
    ASSERT_EQ(::fstat(vcpu->run_fd(), &st), 0);
    EXPECT_EQ(st.st_size, 12288);
    auto ref = s.find_vcpu(st.st_dev, st.st_ino);
    EXPECT_EQ(ref.vcpu.get(), vcpu.get());
    EXPECT_EQ(ref.vm.get(), vm.get());
    s.destroy_vm(vm->id());
    EXPECT_FALSE(s.find_vcpu(st.st_dev, st.st_ino).vcpu);
    EXPECT_EQ(s.find_vm(vm->id()), nullptr);
}

TEST(System, DestroyVmsOfAProcess) {
    auto s = make_system();
    auto a = *s.create_vm(kOwner, 0);
    auto b = *s.create_vm(Caller{301, 300}, 0);
    s.destroy_vms_of(kOwner.tgid);
    EXPECT_EQ(s.find_vm(a->id()), nullptr);
    EXPECT_NE(s.find_vm(b->id()), nullptr);
}

struct Region {
    std::uint32_t slot, flags;
    std::uint64_t gpa, size, uaddr;
};

long set_region(kvmemu::kvm::Vm& vm, FakeUserIo& io, Region r) {
    io.put(A, u::kvm_userspace_memory_region{r.slot, r.flags, r.gpa, r.size, r.uaddr});
    return vm.ioctl(kOwner, u::SET_USER_MEMORY_REGION, A, io);
}

TEST(VmMemory, ValidationErrnos) {
    auto s = make_system();
    auto vm = *s.create_vm(kOwner, 0);
    FakeUserIo io;
    const std::uint64_t ua = 0x7f0000000000;
    EXPECT_EQ(set_region(*vm, io, {0, 0, 0, 0x100000, ua}), 0);
    EXPECT_EQ(set_region(*vm, io, {1, 0, 0x1001, 0x1000, ua}), -EINVAL);         // unaligned gpa
    EXPECT_EQ(set_region(*vm, io, {1, 0, 0x200000, 0x1001, ua}), -EINVAL);       // unaligned size
    EXPECT_EQ(set_region(*vm, io, {1, 0, 0x200000, 0x1000, ua + 1}), -EINVAL);   // unaligned uaddr
    EXPECT_EQ(set_region(*vm, io, {1, 0x8, 0x200000, 0x1000, ua}), -EINVAL);     // unknown flag
    EXPECT_EQ(set_region(*vm, io, {1, 4, 0x200000, 0x1000, ua}), -EINVAL);       // GUEST_MEMFD in v1
    EXPECT_EQ(set_region(*vm, io, {32764, 0, 0x200000, 0x1000, ua}), -EINVAL);   // slot limit
    EXPECT_EQ(set_region(*vm, io, {0x10001, 0, 0x200000, 0x1000, ua}), -EINVAL); // address space 1
    EXPECT_EQ(set_region(*vm, io, {1, 0, 0x80000, 0x100000, ua}), -EEXIST);      // overlap
    EXPECT_EQ(set_region(*vm, io, {1, 0, ~0ULL - 0xfff, 0x2000, ua}), -EINVAL);  // gpa wraps
    EXPECT_EQ(set_region(*vm, io, {1, 0, 0x200000, 0x1000, 0xffff800000000000}), -EINVAL);
    EXPECT_EQ(set_region(*vm, io, {2, 0, 0x0, 0, ua}), -EINVAL);                 // delete absent
    EXPECT_EQ(set_region(*vm, io, {0, 0, 0, 0x200000, ua}), -EINVAL);            // resize
    EXPECT_EQ(set_region(*vm, io, {0, 2, 0, 0x100000, ua}), -EINVAL);            // toggle READONLY
    EXPECT_EQ(set_region(*vm, io, {0, 1, 0, 0x100000, ua}), 0);                  // dirty logging
    EXPECT_EQ(set_region(*vm, io, {0, 1, 0x400000, 0x100000, ua}), 0);          // move
    ASSERT_EQ(vm->memslots().size(), 1U);
    EXPECT_EQ(vm->memslots()[0].base_gfn, 0x400U);
    EXPECT_EQ(set_region(*vm, io, {0, 0, 0, 0, 0}), 0);                          // delete
    EXPECT_TRUE(vm->memslots().empty());
    EXPECT_EQ(vm->ioctl(kOwner, u::SET_USER_MEMORY_REGION, 0, io), -EFAULT);
}

TEST(VmMemory, Region2AcceptsTheSameAndRefusesGuestMemfd) {
    auto s = make_system();
    auto vm = *s.create_vm(kOwner, 0);
    FakeUserIo io;
    u::kvm_userspace_memory_region2 r{};
    r.slot = 3;
    r.guest_phys_addr = 0x100000;
    r.memory_size = 0x10000;
    r.userspace_addr = 0x7f0000000000;
    io.put(A, r);
    EXPECT_EQ(vm->ioctl(kOwner, u::SET_USER_MEMORY_REGION2, A, io), 0);
    r.slot = 4;
    r.guest_phys_addr = 0x200000;
    r.flags = u::MEM_GUEST_MEMFD;
    io.put(A, r);
    EXPECT_EQ(vm->ioctl(kOwner, u::SET_USER_MEMORY_REGION2, A, io), -EINVAL);
}

TEST(VmIoctl, UnknownAndWrongScopeRequests) {
    auto s = make_system();
    auto vm = *s.create_vm(kOwner, 0);
    FakeUserIo io;
    EXPECT_EQ(vm->ioctl(kOwner, u::GET_REGS, A, io), -ENOTTY);
    EXPECT_EQ(vm->ioctl(kOwner, u::GET_API_VERSION, 0, io), -ENOTTY);
    EXPECT_EQ(vm->ioctl(Caller{5, 4}, u::CHECK_EXTENSION, 220, io), -EIO);
    EXPECT_EQ(vm->ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_USER_MEMORY, io), 1);
}

}  // namespace
