// vCPU ioctls: reset state, register round trips, SREGS validation, CPUID2 and MSR protocols.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/ioctls.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::System;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr std::uint64_t A = FakeUserIo::kBase;

struct VcpuFixture : ::testing::Test {
    System system{Config{}, [](pid_t) { return 0; }};
    std::shared_ptr<kvmemu::kvm::Vm> vm = *system.create_vm(kOwner, 0);
    std::shared_ptr<kvmemu::kvm::Vcpu> vcpu = *system.create_vcpu(*vm, kOwner, 0);
    FakeUserIo io;
    long call(std::uint32_t cmd, std::uint64_t arg = A, Caller c = kOwner) {
        return vm->vcpu_ioctl(*vcpu, c, cmd, arg, io);
    }
};

TEST_F(VcpuFixture, ResetStateIsTheArchitecturalOne) {
    ASSERT_EQ(call(u::GET_REGS), 0);
    const auto regs = io.get<u::kvm_regs>(A);
    EXPECT_EQ(regs.rip, 0xfff0U);
    EXPECT_EQ(regs.rflags, 0x2U);
    ASSERT_EQ(call(u::GET_SREGS), 0);
    const auto sregs = io.get<u::kvm_sregs>(A);
    EXPECT_EQ(sregs.cs.selector, 0xf000);
    EXPECT_EQ(sregs.cs.base, 0xffff0000U);
    EXPECT_EQ(sregs.cr0, 0x60000010U);
    EXPECT_EQ(sregs.apic_base, 0xfee00900U);  // as the oracle reports without an irqchip
    EXPECT_EQ(sregs.tr.type, 11);
    EXPECT_EQ(sregs.ldt.type, 2);
    ASSERT_EQ(call(u::GET_FPU), 0);
    EXPECT_EQ(io.get<u::kvm_fpu>(A).fcw, 0x37f);
}

TEST_F(VcpuFixture, RegsRoundTrip) {
    u::kvm_regs r{};
    r.rax = 0x1234;
    r.rip = 0x1000;
    r.rflags = 0x202;
    io.put(A, r);
    ASSERT_EQ(call(u::SET_REGS), 0);
    io.put(A, u::kvm_regs{});
    ASSERT_EQ(call(u::GET_REGS), 0);
    EXPECT_EQ(io.get<u::kvm_regs>(A).rax, 0x1234U);
    EXPECT_EQ(io.get<u::kvm_regs>(A).rip, 0x1000U);
    EXPECT_EQ(call(u::GET_REGS, 3), -EFAULT);
}

TEST_F(VcpuFixture, SregsValidation) {
    ASSERT_EQ(call(u::GET_SREGS), 0);
    auto s = io.get<u::kvm_sregs>(A);
    s.efer = (1 << 8) | (1 << 10);  // LME|LMA
    s.cr0 = 0x80000011;             // PG|ET|PE
    s.cr4 = 0;                      // but no PAE
    io.put(A, s);
    EXPECT_EQ(call(u::SET_SREGS), -EINVAL);
    s.cr4 = 1 << 5;
    s.cs.l = 1;
    io.put(A, s);
    EXPECT_EQ(call(u::SET_SREGS), 0);
    s.efer = 0;
    io.put(A, s);
    EXPECT_EQ(call(u::SET_SREGS), -EINVAL);  // 64-bit CS without long mode
}

TEST_F(VcpuFixture, Cpuid2Protocol) {
    io.put(A, u::kvm_cpuid2{2, 0});
    io.put(A + 8, u::kvm_cpuid_entry2{0, 0, 0, 1, 2, 3, 4, {}});
    io.put(A + 48, u::kvm_cpuid_entry2{1, 0, 0, 0x806f8, 0, 0, 0, {}});
    ASSERT_EQ(call(u::SET_CPUID2), 0);
    io.put(A, u::kvm_cpuid2{1, 0});
    EXPECT_EQ(call(u::GET_CPUID2), -E2BIG);
    EXPECT_EQ(io.get<u::kvm_cpuid2>(A).nent, 1U);
    io.put(A, u::kvm_cpuid2{10, 0});
    ASSERT_EQ(call(u::GET_CPUID2), 0);
    EXPECT_EQ(io.get<u::kvm_cpuid2>(A).nent, 2U);
    EXPECT_EQ(io.get<u::kvm_cpuid_entry2>(A + 48).eax, 0x806f8U);
    io.put(A, u::kvm_cpuid2{u::MAX_CPUID_ENTRIES + 1, 0});
    EXPECT_EQ(call(u::SET_CPUID2), -E2BIG);
}

TEST_F(VcpuFixture, MsrsStopAtTheFirstUnknownIndex) {
    io.put(A, u::kvm_msrs{3, 0});
    io.put(A + 8, u::kvm_msr_entry{0xc0000082, 0, 0xffffffff81000000});  // LSTAR
    io.put(A + 24, u::kvm_msr_entry{0x12345678, 0, 1});                  // unknown
    io.put(A + 40, u::kvm_msr_entry{0xc0000081, 0, 5});                  // STAR
    EXPECT_EQ(call(u::SET_MSRS), 1);
    io.put(A + 8, u::kvm_msr_entry{0xc0000082, 0, 0});
    io.put(A, u::kvm_msrs{1, 0});
    EXPECT_EQ(call(u::GET_MSRS), 1);
    EXPECT_EQ(io.get<u::kvm_msr_entry>(A + 8).data, 0xffffffff81000000U);
    io.put(A, u::kvm_msrs{256, 0});
    EXPECT_EQ(call(u::GET_MSRS), -E2BIG);
}

TEST_F(VcpuFixture, TscStartsAtZeroAndTscAdjustIsHostWritable) {
    constexpr std::uint32_t kTsc = 0x10, kTscAdjust = 0x3b;
    const auto get = [&](std::uint32_t index) {
        io.put(A, u::kvm_msrs{1, 0});
        io.put(A + 8, u::kvm_msr_entry{index, 0, 0});
        EXPECT_EQ(call(u::GET_MSRS), 1);
        return io.get<u::kvm_msr_entry>(A + 8).data;
    };
    const auto set = [&](std::uint32_t index, std::uint64_t v) {
        io.put(A, u::kvm_msrs{1, 0});
        io.put(A + 8, u::kvm_msr_entry{index, 0, v});
        EXPECT_EQ(call(u::SET_MSRS), 1);
    };
    // Counted from the vCPU's creation (a host-time TSC would show the machine's uptime).
    EXPECT_LT(get(kTsc), 1ULL << 36);
    EXPECT_EQ(get(kTscAdjust), 0U);
    // Host writes: TSC_ADJUST only sets the MSR; TSC moves the TSC, not TSC_ADJUST.
    set(kTscAdjust, 1ULL << 40);
    EXPECT_EQ(get(kTscAdjust), 1ULL << 40);
    EXPECT_LT(get(kTsc), 1ULL << 36);
    set(kTsc, 1ULL << 50);
    EXPECT_GE(get(kTsc), 1ULL << 50);
    EXPECT_EQ(get(kTscAdjust), 1ULL << 40);
}

TEST_F(VcpuFixture, MpStateOnlyRunnableWithoutIrqchip) {
    io.put(A, u::kvm_mp_state{u::MP_STATE_HALTED});
    EXPECT_EQ(call(u::SET_MP_STATE), -EINVAL);
    io.put(A, u::kvm_mp_state{u::MP_STATE_RUNNABLE});
    EXPECT_EQ(call(u::SET_MP_STATE), 0);
    ASSERT_EQ(call(u::GET_MP_STATE), 0);
    EXPECT_EQ(io.get<u::kvm_mp_state>(A).mp_state, u::MP_STATE_RUNNABLE);
}

TEST_F(VcpuFixture, EnableCapCopiesFirstAndModelsNone) {
    EXPECT_EQ(call(u::VCPU_ENABLE_CAP, 1), -EFAULT);
    io.put(A, u::kvm_enable_cap{});
    EXPECT_EQ(call(u::VCPU_ENABLE_CAP), -EINVAL);
}

TEST_F(VcpuFixture, OtherProcessAndUnknownRequests) {
    EXPECT_EQ(call(u::GET_REGS, A, Caller{7, 6}), -EIO);
    EXPECT_EQ(call(u::CREATE_VCPU, 0), -EINVAL);
}

TEST_F(VcpuFixture, RunAreaIsSharedThroughTheMemfd) {
    void* p = ::mmap(nullptr, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->run_fd(), 0);
    ASSERT_NE(p, MAP_FAILED);
    vcpu->run_page()->exit_reason = u::EXIT_HLT;
    EXPECT_EQ(static_cast<u::kvm_run*>(p)->exit_reason, u::EXIT_HLT);
    ::munmap(p, 12288);
}

TEST_F(VcpuFixture, EventsCarryTheQueuedInterruptAndRefuseWhatIsNotModelled) {
    io.put(A, u::kvm_interrupt{0x30});
    ASSERT_EQ(call(u::INTERRUPT), 0);
    ASSERT_EQ(call(u::GET_VCPU_EVENTS), 0);
    auto ev = io.get<u::kvm_vcpu_events>(A);
    EXPECT_EQ(ev.interrupt.injected, 1);  // as kvm_queue_interrupt() leaves it
    EXPECT_EQ(ev.interrupt.nr, 0x30);
    EXPECT_EQ(ev.flags, 0xdU);
    // Restoring the same events keeps the interrupt; clearing them drops it.
    io.put(A, ev);
    ASSERT_EQ(call(u::SET_VCPU_EVENTS), 0);
    ev = {};
    io.put(A, ev);
    ASSERT_EQ(call(u::SET_VCPU_EVENTS), 0);
    ASSERT_EQ(call(u::GET_VCPU_EVENTS), 0);
    EXPECT_EQ(io.get<u::kvm_vcpu_events>(A).interrupt.injected, 0);
    // An injected exception or NMI cannot be delivered by the engine: refused, state unchanged.
    ev = {};
    ev.exception.injected = 1;
    ev.exception.nr = 13;
    ev.interrupt.shadow = 1;
    ev.flags = u::VCPUEVENT_VALID_SHADOW;
    io.put(A, ev);
    EXPECT_EQ(call(u::SET_VCPU_EVENTS), -EINVAL);
    ev = {};
    ev.nmi.pending = 1;
    ev.flags = u::VCPUEVENT_VALID_NMI_PENDING;
    io.put(A, ev);
    EXPECT_EQ(call(u::SET_VCPU_EVENTS), -EINVAL);
    ASSERT_EQ(call(u::GET_VCPU_EVENTS), 0);
    EXPECT_EQ(io.get<u::kvm_vcpu_events>(A).interrupt.shadow, 0);
    // The SIPI vector is kept only with an in-kernel APIC.
    ev = {};
    ev.sipi_vector = 0x12;
    ev.flags = u::VCPUEVENT_VALID_SIPI_VECTOR;
    io.put(A, ev);
    ASSERT_EQ(call(u::SET_VCPU_EVENTS), 0);
    ASSERT_EQ(call(u::GET_VCPU_EVENTS), 0);
    EXPECT_EQ(io.get<u::kvm_vcpu_events>(A).sipi_vector, 0U);
}

TEST_F(VcpuFixture, XsaveHoldsFpAndSseWithTheKernelsHeaderChecks) {
    ASSERT_EQ(call(u::GET_XSAVE), 0);
    auto x = io.get<u::kvm_xsave>(A);
    const auto* b = reinterpret_cast<const unsigned char*>(x.region);
    const auto u16_at = [](const unsigned char* p, std::size_t o) { std::uint16_t v; std::memcpy(&v, p + o, 2); return v; };
    const auto u32_at = [](const unsigned char* p, std::size_t o) { std::uint32_t v; std::memcpy(&v, p + o, 4); return v; };
    // Reset state is the init state of both components (oracle: XSTATE_BV 0).
    EXPECT_EQ(u16_at(b, 0), 0x37f);
    EXPECT_EQ(u32_at(b, 24), 0x1f80U);
    EXPECT_EQ(u32_at(b, 28), 0xffffU);
    EXPECT_EQ(b[512], 0);
    const auto set = [&](auto&& change) {
        u::kvm_xsave y = x;
        change(reinterpret_cast<unsigned char*>(y.region));
        io.put(A, y);
        return call(u::SET_XSAVE);
    };
    EXPECT_EQ(set([](unsigned char*) {}), 0);
    EXPECT_EQ(set([](unsigned char* c) { c[512] = 4; }), -EINVAL);   // AVX: not offered
    EXPECT_EQ(set([](unsigned char* c) { c[527] = 0x80; }), -EINVAL);  // compacted format
    EXPECT_EQ(set([](unsigned char* c) { c[530] = 1; }), -EINVAL);     // header reserved
    EXPECT_EQ(set([](unsigned char* c) { c[512] = 3; c[26] = 1; }), -EINVAL);  // MXCSR bit 16
    EXPECT_EQ(set([](unsigned char* c) { c[512] = 0; c[26] = 1; }), 0);  // not loaded: no check
    // FP only: x87 from the buffer, SSE back to init.
    ASSERT_EQ(set([](unsigned char* c) { c[512] = 1; c[0] = 0x7f; c[1] = 0x02; c[160] = 0x55; }), 0);
    ASSERT_EQ(call(u::GET_FPU), 0);
    EXPECT_EQ(io.get<u::kvm_fpu>(A).fcw, 0x27f);
    EXPECT_EQ(io.get<u::kvm_fpu>(A).xmm[0][0], 0);
    ASSERT_EQ(call(u::GET_XSAVE), 0);
    EXPECT_EQ(reinterpret_cast<const unsigned char*>(io.get<u::kvm_xsave>(A).region)[512], 1);
    // SSE only: XMM from the buffer, x87 back to init.
    ASSERT_EQ(set([](unsigned char* c) { c[512] = 2; c[0] = 0x7f; c[1] = 0; c[160] = 0x66; }), 0);
    ASSERT_EQ(call(u::GET_FPU), 0);
    EXPECT_EQ(io.get<u::kvm_fpu>(A).fcw, 0x37f);
    EXPECT_EQ(io.get<u::kvm_fpu>(A).xmm[0][0], 0x66);
    ASSERT_EQ(call(u::GET_XSAVE), 0);
    EXPECT_EQ(reinterpret_cast<const unsigned char*>(io.get<u::kvm_xsave>(A).region)[512], 2);
}

TEST_F(VcpuFixture, XcrsAsOnAHostWithoutXsave) {
    u::kvm_xcrs junk{};
    junk.nr_xcrs = 5;
    junk.xcrs[0].value = 7;
    io.put(A, junk);
    ASSERT_EQ(call(u::GET_XCRS), 0);
    EXPECT_EQ(io.get<u::kvm_xcrs>(A).nr_xcrs, 0U);
    EXPECT_EQ(io.get<u::kvm_xcrs>(A).xcrs[0].value, 0U);  // the whole struct is written, zeroed
    EXPECT_EQ(call(u::SET_XCRS), -EINVAL);
    EXPECT_EQ(call(u::SET_XCRS, 1), -EFAULT);
}

TEST_F(VcpuFixture, VmTscRateIsTheOneNewVcpusGetAndFdCreatorsNeedTheSupervisor) {
    const long vm_khz = vm->ioctl(kOwner, u::GET_TSC_KHZ, 0, io);
    EXPECT_GT(vm_khz, 0);
    EXPECT_EQ(call(u::GET_TSC_KHZ, 0), vm_khz);
    // Over the VM's own dispatch (CUSE), requests returning an fd cannot be served.
    EXPECT_EQ(vm->ioctl(kOwner, u::CREATE_VCPU, 1, io), -EOPNOTSUPP);
    EXPECT_EQ(vm->ioctl(kOwner, u::GET_STATS_FD, 0, io), -EOPNOTSUPP);
}

}  // namespace
