// KVM_CREATE_IRQCHIP and what it changes for vCPUs (in-kernel local APIC state, MP states,
// KVM_INTERRUPT), plus the VM ioctls KVM selftests rely on (KVM_SET_NR_MMU_PAGES,
// KVM_CAP_MAX_VCPU_ID) and SREGS' CR4 / APIC-base checks. Expected values were read off the
// oracle (real KVM, Linux 6.18) with a small probe.
#include <gtest/gtest.h>

#include <cstring>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::System;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr std::uint64_t A = FakeUserIo::kBase;

struct IrqchipFixture : ::testing::Test {
    System system{Config{}, [](pid_t) { return 0; }};
    std::shared_ptr<kvmemu::kvm::Vm> vm = *system.create_vm(kOwner, 0);
    FakeUserIo io;
    long vm_call(std::uint32_t cmd, std::uint64_t arg = A) { return vm->ioctl(kOwner, cmd, arg, io); }
    long call(kvmemu::kvm::Vcpu& v, std::uint32_t cmd, std::uint64_t arg = A) {
        return vm->vcpu_ioctl(v, kOwner, cmd, arg, io);
    }
    std::uint32_t lapic_reg(kvmemu::kvm::Vcpu& v, std::uint32_t off) {
        EXPECT_EQ(call(v, u::GET_LAPIC), 0);
        const auto l = io.get<u::kvm_lapic_state>(A);
        std::uint32_t r = 0;
        std::memcpy(&r, l.regs + off, 4);
        return r;
    }
    std::uint32_t mp_state(kvmemu::kvm::Vcpu& v) {
        EXPECT_EQ(call(v, u::GET_MP_STATE), 0);
        return io.get<u::kvm_mp_state>(A).mp_state;
    }
    long enable_max_vcpu_id(std::uint64_t n) {
        u::kvm_enable_cap cap{};
        cap.cap = u::CAP_MAX_VCPU_ID;
        cap.args[0] = n;
        io.put(A, cap);
        return vm_call(u::ENABLE_CAP);
    }
};

TEST_F(IrqchipFixture, CreateOnceAndOnlyBeforeVcpus) {
    EXPECT_EQ(vm_call(u::CREATE_IRQCHIP, 0), 0);
    EXPECT_EQ(vm_call(u::CREATE_IRQCHIP, 0), -EEXIST);
    auto other = *system.create_vm(kOwner, 0);
    ASSERT_TRUE(system.create_vcpu(*other, kOwner, 0));
    EXPECT_EQ(other->ioctl(kOwner, u::CREATE_IRQCHIP, 0, io), -EINVAL);
}

TEST_F(IrqchipFixture, NoLapicWithoutIrqchip) {
    auto v = *system.create_vcpu(*vm, kOwner, 0);
    EXPECT_EQ(call(*v, u::GET_LAPIC), -EINVAL);
    EXPECT_EQ(call(*v, u::SET_LAPIC), -EINVAL);
    // Without an irqchip userspace injects interrupts.
    io.put(A, u::kvm_interrupt{32});
    EXPECT_EQ(call(*v, u::INTERRUPT), 0);
}

TEST_F(IrqchipFixture, LapicResetStateOfBspAndAp) {
    ASSERT_EQ(vm_call(u::CREATE_IRQCHIP, 0), 0);
    auto bsp = *system.create_vcpu(*vm, kOwner, 0);
    auto ap = *system.create_vcpu(*vm, kOwner, 5);
    EXPECT_EQ(lapic_reg(*bsp, 0x20), 0U);
    EXPECT_EQ(lapic_reg(*ap, 0x20), 5U << 24);
    for (auto* v : {bsp.get(), ap.get()}) {
        EXPECT_EQ(lapic_reg(*v, 0x30), 0x50014U);
        EXPECT_EQ(lapic_reg(*v, 0xe0), 0xffffffffU);
        EXPECT_EQ(lapic_reg(*v, 0xf0), 0xffU);
        for (std::uint32_t lvt : {0x320U, 0x330U, 0x340U, 0x360U, 0x370U})
            EXPECT_EQ(lapic_reg(*v, lvt), 0x10000U) << std::hex << lvt;
    }
    EXPECT_EQ(lapic_reg(*bsp, 0x350), 0x700U);  // LINT0: ExtINT on the BSP
    EXPECT_EQ(lapic_reg(*ap, 0x350), 0x10000U);
    EXPECT_EQ(mp_state(*bsp), u::MP_STATE_RUNNABLE);
    EXPECT_EQ(mp_state(*ap), u::MP_STATE_UNINITIALIZED);
    // The PIC is in the kernel: KVM_INTERRUPT cannot inject.
    io.put(A, u::kvm_interrupt{32});
    EXPECT_EQ(call(*bsp, u::INTERRUPT), -ENXIO);
    io.put(A, u::kvm_interrupt{256});
    EXPECT_EQ(call(*bsp, u::INTERRUPT), -EINVAL);
}

TEST_F(IrqchipFixture, SetLapicKeepsVersionRecomputesPprAndSetsCr8) {
    ASSERT_EQ(vm_call(u::CREATE_IRQCHIP, 0), 0);
    auto v = *system.create_vcpu(*vm, kOwner, 5);
    ASSERT_EQ(call(*v, u::GET_LAPIC), 0);
    auto l = io.get<u::kvm_lapic_state>(A);
    const auto put = [&l](std::uint32_t off, std::uint32_t val) { std::memcpy(l.regs + off, &val, 4); };
    put(0x20, 7U << 24);
    put(0x80, 0x20);    // TPR
    put(0x30, 0x1234);  // the version is KVM's
    put(0x100, 0xff);   // in service: vectors 0-7
    io.put(A, l);
    ASSERT_EQ(call(*v, u::SET_LAPIC), 0);
    EXPECT_EQ(lapic_reg(*v, 0x20), 7U << 24);
    EXPECT_EQ(lapic_reg(*v, 0x30), 0x50014U);
    EXPECT_EQ(lapic_reg(*v, 0x80), 0x20U);
    EXPECT_EQ(lapic_reg(*v, 0xa0), 0x20U);  // PPR
    EXPECT_EQ(lapic_reg(*v, 0x100), 0xffU);
    ASSERT_EQ(call(*v, u::GET_SREGS), 0);
    auto s = io.get<u::kvm_sregs>(A);
    EXPECT_EQ(s.cr8, 2U);
    // And CR8 set through SREGS shows as the TPR.
    s.cr8 = 5;
    io.put(A, s);
    ASSERT_EQ(call(*v, u::SET_SREGS), 0);
    EXPECT_EQ(lapic_reg(*v, 0x80), 0x50U);
    EXPECT_EQ(lapic_reg(*v, 0xa0), 0x50U);
}

TEST_F(IrqchipFixture, MpStatesWithAnInKernelApic) {
    ASSERT_EQ(vm_call(u::CREATE_IRQCHIP, 0), 0);
    auto v = *system.create_vcpu(*vm, kOwner, 1);
    for (std::uint32_t s : {0U, 1U, 2U, 3U, 9U}) {
        io.put(A, u::kvm_mp_state{s});
        EXPECT_EQ(call(*v, u::SET_MP_STATE), 0) << s;
        EXPECT_EQ(mp_state(*v), s);
    }
    for (std::uint32_t s : {5U, 6U, 7U, 8U, 10U, 11U}) {
        io.put(A, u::kvm_mp_state{s});
        EXPECT_EQ(call(*v, u::SET_MP_STATE), -EINVAL) << s;
    }
    // SIPI_RECEIVED: the SIPI is delivered (vector 0): runnable at CS 0, RIP 0.
    io.put(A, u::kvm_mp_state{u::MP_STATE_SIPI_RECEIVED});
    EXPECT_EQ(call(*v, u::SET_MP_STATE), 0);
    EXPECT_EQ(mp_state(*v), u::MP_STATE_RUNNABLE);
    ASSERT_EQ(call(*v, u::GET_REGS), 0);
    EXPECT_EQ(io.get<u::kvm_regs>(A).rip, 0U);
    ASSERT_EQ(call(*v, u::GET_SREGS), 0);
    EXPECT_EQ(io.get<u::kvm_sregs>(A).cs.selector, 0);
}

TEST_F(IrqchipFixture, ApicBaseBspFlagOnlyOnVcpuZero) {
    auto bsp = *system.create_vcpu(*vm, kOwner, 0);
    auto ap = *system.create_vcpu(*vm, kOwner, 1);
    ASSERT_EQ(call(*bsp, u::GET_SREGS), 0);
    EXPECT_EQ(io.get<u::kvm_sregs>(A).apic_base, 0xfee00900U);
    ASSERT_EQ(call(*ap, u::GET_SREGS), 0);
    EXPECT_EQ(io.get<u::kvm_sregs>(A).apic_base, 0xfee00800U);
}

TEST_F(IrqchipFixture, SregsRejectReservedApicBaseAndUnsupportedCr4) {
    auto v = *system.create_vcpu(*vm, kOwner, 0);
    ASSERT_EQ(call(*v, u::GET_SREGS), 0);
    const auto orig = io.get<u::kvm_sregs>(A);
    const auto try_base = [&](std::uint64_t base) {
        auto s = orig;
        s.apic_base = base;
        io.put(A, s);
        return call(*v, u::SET_SREGS);
    };
    EXPECT_EQ(try_base(0xfee00c00), -EINVAL);  // x2APIC: not in the (empty) guest CPUID
    EXPECT_EQ(try_base(1U << 10), -EINVAL);    // x2APIC without xAPIC enable
    EXPECT_EQ(try_base(0xfee00801), -EINVAL);  // reserved bit 0
    EXPECT_EQ(try_base((1ULL << 52) | 0x800), -EINVAL);  // above MAXPHYADDR
    EXPECT_EQ(try_base(0xfee00000), 0);        // disabled: fine
    EXPECT_EQ(try_base(1U << 11), 0);
    // CR4 bits the CPU model lacks (SMXE never, UMIP/PKE/LA57 not modelled) are refused and
    // leave the registers as they were; the baseline bits are accepted.
    for (std::uint64_t bit : {1ULL << 14, 1ULL << 11, 1ULL << 22, 1ULL << 12, 1ULL << 23}) {
        auto s = orig;
        s.cr4 |= bit;
        io.put(A, s);
        EXPECT_EQ(call(*v, u::SET_SREGS), -EINVAL) << std::hex << bit;
    }
    auto s = orig;
    s.cr4 = 0x7ff;  // VME..OSXMMEXCPT
    io.put(A, s);
    EXPECT_EQ(call(*v, u::SET_SREGS), 0);
    ASSERT_EQ(call(*v, u::GET_SREGS), 0);
    EXPECT_EQ(io.get<u::kvm_sregs>(A).cr4, 0x7ffU);
}

TEST_F(IrqchipFixture, SetNrMmuPagesNeedsTheMinimum) {
    EXPECT_EQ(vm_call(u::SET_NR_MMU_PAGES, 0), -EINVAL);
    EXPECT_EQ(vm_call(u::SET_NR_MMU_PAGES, 10), -EINVAL);
    EXPECT_EQ(vm_call(u::SET_NR_MMU_PAGES, 64), 0);
    EXPECT_EQ(system.ioctl(kOwner, u::CHECK_EXTENSION, u::CAP_MMU_SHADOW_CACHE_CONTROL, io), 1);
}

TEST_F(IrqchipFixture, MaxVcpuIdIsSetOnceAndLimitsIds) {
    EXPECT_EQ(enable_max_vcpu_id(u::MAX_VCPU_IDS + 1), -EINVAL);
    EXPECT_EQ(enable_max_vcpu_id(8), 0);
    EXPECT_EQ(enable_max_vcpu_id(8), 0);  // the same value again
    EXPECT_EQ(enable_max_vcpu_id(9), -EINVAL);
    EXPECT_EQ(enable_max_vcpu_id(0), -EINVAL);
    EXPECT_EQ(system.create_vcpu(*vm, kOwner, 8).error(), EINVAL);
    EXPECT_TRUE(system.create_vcpu(*vm, kOwner, 7));
}

TEST_F(IrqchipFixture, MaxVcpuIdIsFixedByTheFirstVcpu) {
    ASSERT_TRUE(system.create_vcpu(*vm, kOwner, 3));
    EXPECT_EQ(enable_max_vcpu_id(8), -EINVAL);
    EXPECT_EQ(enable_max_vcpu_id(u::MAX_VCPU_IDS), 0);
}

}  // namespace
