// CpuState <-> kvm_regs / kvm_sregs / kvm_fpu / kvm_cpuid_entry2 conversions of the vCPU ioctls.
#include <gtest/gtest.h>

#include "kvm/vcpu_state.hpp"

namespace kvmemu::kvm {
namespace {

using namespace cpu;

TEST(VcpuState, RegsOrderAndRoundTrip) {
    CpuState s;
    for (unsigned k = 0; k < 16; ++k) s.gpr[k] = 100 + k;
    s.rip = 0x1234;
    s.rflags = 0x246;
    const auto r = to_kvm_regs(s);
    EXPECT_EQ(r.rax, 100u);
    EXPECT_EQ(r.rbx, 103u);
    EXPECT_EQ(r.rcx, 101u);
    EXPECT_EQ(r.rsp, 104u);
    EXPECT_EQ(r.r15, 115u);
    CpuState t;
    from_kvm_regs(r, t);
    EXPECT_EQ(t.gpr, s.gpr);
    EXPECT_EQ(t.rip, s.rip);
    EXPECT_EQ(t.rflags, s.rflags);
}

TEST(VcpuState, SregsAndPendingInterrupt) {
    CpuState s;
    s.seg[CS].l = 1;
    s.seg[CS].selector = 8;
    s.tr.base = 0x7000;
    s.cr3 = 0x1000;
    s.efer = 0xd01;
    s.pending_irq = 0x41;
    const auto r = to_kvm_sregs(s);
    EXPECT_EQ(r.cs.l, 1);
    EXPECT_EQ(r.cs.selector, 8);
    EXPECT_EQ(r.interrupt_bitmap[1], 2u);
    CpuState t;
    from_kvm_sregs(r, t);
    EXPECT_EQ(t.seg[CS].l, 1);
    EXPECT_EQ(t.tr.base, 0x7000u);
    EXPECT_EQ(t.cr3, 0x1000u);
    EXPECT_EQ(t.efer, 0xd01u);
    EXPECT_EQ(t.pending_irq, 0x41);
}

TEST(VcpuState, FpuAndCpuid) {
    CpuState s;
    s.fx.xmm[3][5] = 0x77;
    s.fx.mxcsr = 0x1fa0;
    const auto f = to_kvm_fpu(s);
    EXPECT_EQ(f.xmm[3][5], 0x77);
    EXPECT_EQ(f.fcw, 0x37f);
    CpuState t;
    from_kvm_fpu(f, t);
    EXPECT_EQ(t.fx.xmm[3][5], 0x77);
    EXPECT_EQ(t.fx.mxcsr, 0x1fa0u);
    uapi::kvm_cpuid_entry2 e{};
    e.function = 7;
    e.flags = 1;
    e.ebx = 9;
    const auto v = to_cpuid_table(std::span<const uapi::kvm_cpuid_entry2>(&e, 1));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].function, 7u);
    EXPECT_EQ(v[0].ebx, 9u);
    EXPECT_EQ(v[0].flags, 1u);
}

}  // namespace
}  // namespace kvmemu::kvm
