// KVM_RUN through the software vCPU with the VMM's memory in this process: exits and their
// completion as kvm_run lays them out, and instruction fetches reaching the VM's MMU (NX splits).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::HostMappingLevel;
using kvmemu::kvm::System;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr std::uint64_t A = FakeUserIo::kBase;
constexpr std::uint64_t kMem = 8ULL << 20;
constexpr std::uint64_t kCode = 0x200000;  // region B: code
constexpr std::uint64_t kMmio = 0x70000000;  // no memslot; < 2 GiB: disp32 is sign-extended

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

struct RunFixture : ::testing::Test {
    System system{Config{kvmemu::kvm::CapNumbering::Both, HostMappingLevel::k2M},
                  [](pid_t) { return 0; }};
    FakeUserIo io;
    std::unique_ptr<std::uint8_t, FreeDeleter> mem;
    std::shared_ptr<kvmemu::kvm::Vm> vm;
    std::shared_ptr<kvmemu::kvm::Vcpu> vcpu;

    void boot(bool disable_nx, const std::vector<std::uint8_t>& code, bool irqchip = false) {
        void* p = nullptr;
        ASSERT_EQ(::posix_memalign(&p, 2 << 20, kMem), 0);
        mem.reset(static_cast<std::uint8_t*>(p));
        std::memset(mem.get(), 0, kMem);
        vm = *system.create_vm(kOwner, 0);
        if (irqchip) {
            ASSERT_EQ(vm->ioctl(kOwner, u::CREATE_IRQCHIP, 0, io), 0);
        }
        if (disable_nx) {
            u::kvm_enable_cap cap{};
            cap.cap = u::CAP_VM_DISABLE_NX_HUGE_PAGES;
            io.put(A, cap);
            ASSERT_EQ(vm->ioctl(kOwner, u::ENABLE_CAP, A, io), 0);
        }
        io.put(A, u::kvm_userspace_memory_region{0, 0, 0, kMem,
                                                 reinterpret_cast<std::uintptr_t>(mem.get())});
        ASSERT_EQ(vm->ioctl(kOwner, u::SET_USER_MEMORY_REGION, A, io), 0);
        // Identity paging with 1 GiB pages: PML4 at 0x1000, PDPT at 0x2000.
        auto* pml4 = reinterpret_cast<std::uint64_t*>(mem.get() + 0x1000);
        auto* pdpt = reinterpret_cast<std::uint64_t*>(mem.get() + 0x2000);
        pml4[0] = 0x2000 | 3;
        for (std::uint64_t i = 0; i < 4; ++i) pdpt[i] = (i << 30) | 0x83;
        std::memcpy(mem.get() + kCode, code.data(), code.size());

        vcpu = *system.create_vcpu(*vm, kOwner, 0);
        ASSERT_EQ(call(u::GET_SREGS), 0);
        auto s = io.get<u::kvm_sregs>(A);
        s.cr0 = 0x80000011;
        s.cr4 = 0x20;
        s.efer = 0x500;
        s.cr3 = 0x1000;
        s.cs = {0, 0xffffffff, 8, 0xb, 1, 0, 0, 1, 1, 1, 0, 0, 0};
        for (auto* seg : {&s.ds, &s.es, &s.ss, &s.fs, &s.gs})
            *seg = {0, 0xffffffff, 16, 0x3, 1, 0, 1, 1, 0, 1, 0, 0, 0};
        io.put(A, s);
        ASSERT_EQ(call(u::SET_SREGS), 0);
        u::kvm_regs r{};
        r.rip = kCode;
        r.rsp = 0x100000;
        r.rflags = 2;
        io.put(A, r);
        ASSERT_EQ(call(u::SET_REGS), 0);
    }
    long call(std::uint32_t cmd, std::uint64_t arg = A) {
        return vm->vcpu_ioctl(*vcpu, kOwner, cmd, arg, io);
    }
    u::kvm_run& run() { return *vcpu->run_page(); }
    std::uint8_t* pio() { return reinterpret_cast<std::uint8_t*>(&run()) + run().io.data_offset; }
    u::kvm_regs regs() {
        EXPECT_EQ(call(u::GET_REGS), 0);
        return io.get<u::kvm_regs>(A);
    }
};

TEST_F(RunFixture, PortIoExitsCompleteAndHlt) {
    boot(false, {0xb0, 0x42,    // mov al, 0x42
                 0xe6, 0x10,    // out 0x10, al
                 0xe4, 0x11,    // in al, 0x11
                 0x04, 0x01,    // add al, 1
                 0xe6, 0x12,    // out 0x12, al
                 0xf4});        // hlt
    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_IO);
    EXPECT_EQ(run().io.direction, u::EXIT_IO_OUT);
    EXPECT_EQ(run().io.port, 0x10);
    EXPECT_EQ(run().io.size, 1);
    EXPECT_EQ(run().io.count, 1U);
    EXPECT_EQ(run().io.data_offset, 4096U);
    EXPECT_EQ(pio()[0], 0x42);
    EXPECT_EQ(regs().rip, kCode + 4);  // after the OUT

    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_IO);
    EXPECT_EQ(run().io.direction, u::EXIT_IO_IN);
    EXPECT_EQ(run().io.port, 0x11);
    pio()[0] = 0x99;  // the VMM answers the IN

    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_IO);
    EXPECT_EQ(run().io.port, 0x12);
    EXPECT_EQ(pio()[0], 0x9a);  // 0x99 + 1: the IN completed with the VMM's byte

    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
    EXPECT_EQ(regs().rip, kCode + 11);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::io_exits), 3U);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::halt_exits), 1U);
}

TEST_F(RunFixture, MmioWriteAndReadWithCompletion) {
    boot(false, {0xc7, 0x04, 0x25, 0x00, 0x00, 0x00, 0x70, 0x34, 0x12, 0x00, 0x00,  // mov dword [0x70000000], 0x1234
                 0x8b, 0x1c, 0x25, 0x08, 0x00, 0x00, 0x70,                          // mov ebx, [0x70000008]
                 0xf4});
    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_MMIO);
    EXPECT_EQ(run().mmio.phys_addr, kMmio);
    EXPECT_EQ(run().mmio.len, 4U);
    EXPECT_EQ(run().mmio.is_write, 1);
    std::uint32_t v = 0;
    std::memcpy(&v, run().mmio.data, 4);
    EXPECT_EQ(v, 0x1234U);

    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_MMIO);
    EXPECT_EQ(run().mmio.phys_addr, kMmio + 8);
    EXPECT_EQ(run().mmio.is_write, 0);
    const std::uint32_t answer = 0xfeedbeef;
    std::memcpy(run().mmio.data, &answer, 4);
    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
    EXPECT_EQ(regs().rbx, 0xfeedbeefU);
}

TEST_F(RunFixture, GuestWritesReachTheVmmMemory) {
    boot(false, {0xc7, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00, 0x78, 0x56, 0x34, 0x12,  // mov dword [0x300000], 0x12345678
                 0xf4});
    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
    std::uint32_t v = 0;
    std::memcpy(&v, mem.get() + 0x300000, 4);
    EXPECT_EQ(v, 0x12345678U);
}

TEST_F(RunFixture, ImmediateExitReturnsEintrAndLeavesExitReason) {
    // The oracle: -EINTR, and exit_reason keeps its value (0 on a fresh vCPU; KVM_EXIT_IO after
    // an I/O exit, whose IN is completed first: KVM selftests' vcpu_run_complete_io()).
    boot(false, {0xe4, 0x11,   // in al, 0x11
                 0xf4});       // hlt
    run().immediate_exit = 1;
    EXPECT_EQ(call(u::RUN, 0), -EINTR);
    EXPECT_EQ(run().exit_reason, 0U);
    run().immediate_exit = 0;
    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_IO);
    pio()[0] = 0x5a;
    run().immediate_exit = 1;
    EXPECT_EQ(call(u::RUN, 0), -EINTR);
    EXPECT_EQ(run().exit_reason, u::EXIT_IO);
    EXPECT_EQ(regs().rip, kCode + 2);  // the IN completed
    EXPECT_EQ(regs().rax & 0xff, 0x5aU);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::signal_exits), 0U);
    run().immediate_exit = 0;
    EXPECT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
}

TEST_F(RunFixture, HltWithAnInKernelApicBlocksUntilASignal) {
    // Real KVM with KVM_CREATE_IRQCHIP: HLT does not exit to userspace; the vCPU halts and
    // KVM_RUN sleeps until an interrupt (none is modelled) or a signal: -EINTR, KVM_EXIT_INTR.
    boot(false, {0xfa, 0xf4}, true);  // cli; hlt
    // The "signal" can only be sent once KVM_RUN is under way, and may land before the HLT
    // (then KVM_RUN returns -EINTR early, as for a real signal): run again until it halted.
    std::uint64_t signals = 0;
    for (int tries = 0; tries < 1000; ++tries) {
        long r = 1;
        std::thread runner([&] { r = call(u::RUN, 0); });
        while (!vcpu->kick_if_running(kOwner.tid)) std::this_thread::yield();
        runner.join();
        ++signals;
        EXPECT_EQ(r, -EINTR);
        EXPECT_EQ(run().exit_reason, u::EXIT_INTR);
        if (regs().rip == kCode + 2) break;
    }
    EXPECT_EQ(regs().rip, kCode + 2);
    ASSERT_EQ(call(u::GET_MP_STATE), 0);
    EXPECT_EQ(io.get<u::kvm_mp_state>(A).mp_state, u::MP_STATE_HALTED);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::halt_exits), 1U);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::signal_exits), signals);
    // Still halted: with immediate_exit the next KVM_RUN returns at once, without an exit.
    run().immediate_exit = 1;
    EXPECT_EQ(call(u::RUN, 0), -EINTR);
    EXPECT_EQ(vcpu->stat(kvmemu::kvm::vcpu_stat::signal_exits), signals);
    EXPECT_EQ(regs().rip, kCode + 2);
}

TEST_F(RunFixture, ApWaitingForSipiDoesNotRun) {
    boot(false, {0xf4}, true);
    auto ap = *system.create_vcpu(*vm, kOwner, 1);
    ASSERT_EQ(vm->vcpu_ioctl(*ap, kOwner, u::GET_MP_STATE, A, io), 0);
    EXPECT_EQ(io.get<u::kvm_mp_state>(A).mp_state, u::MP_STATE_UNINITIALIZED);
    ap->run_page()->immediate_exit = 1;
    EXPECT_EQ(vm->vcpu_ioctl(*ap, kOwner, u::RUN, 0, io), -EINTR);
    EXPECT_EQ(ap->run_page()->exit_reason, 0U);  // immediate_exit: no exit
}

TEST_F(RunFixture, InstructionFetchSplitsAHugePageUnderTheMitigation) {
    ASSERT_EQ(system.write_param("nx_huge_pages", "force"), 0);
    boot(false, {0xf4});
    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
    // The fetch at 0x200000 mapped a 4K executable page; region B is an NX split. The page
    // tables (read in region A) are mapped 2M.
    EXPECT_EQ(vm->stats().nx_lpage_splits, 1U);
    const auto leaf = vm->lookup(kCode);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->level, kvmemu::mmu::Level::k4K);
    const auto tables = vm->lookup(0x1000);
    ASSERT_TRUE(tables);
    EXPECT_EQ(tables->level, kvmemu::mmu::Level::k2M);
}

TEST_F(RunFixture, InstructionFetchKeepsTheHugePageWithTheCapability) {
    ASSERT_EQ(system.write_param("nx_huge_pages", "force"), 0);
    boot(true, {0xf4});
    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().exit_reason, u::EXIT_HLT);
    EXPECT_EQ(vm->stats().nx_lpage_splits, 0U);
    const auto leaf = vm->lookup(kCode);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->level, kvmemu::mmu::Level::k2M);
    EXPECT_NE(leaf->spte & 0x4, 0U);  // executable huge leaf
}

TEST_F(RunFixture, CpuidIsFrozenOnceTheGuestRan) {
    boot(false, {0xf4});  // hlt
    const auto set = [&](std::uint32_t eax1) {
        io.put(A, u::kvm_cpuid2{2, 0});
        io.put(A + 8, u::kvm_cpuid_entry2{0, 0, 0, 1, 2, 3, 4, {}});
        io.put(A + 48, u::kvm_cpuid_entry2{1, 0, 0, eax1, 0, 0, 0, {}});
        return call(u::SET_CPUID2);
    };
    ASSERT_EQ(set(0x806f8), 0);
    // An immediate exit does not enter the guest: the table may still change.
    run().immediate_exit = 1;
    EXPECT_EQ(call(u::RUN, 0), -EINTR);
    run().immediate_exit = 0;
    ASSERT_EQ(set(0x806f7), 0);
    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_HLT);
    EXPECT_EQ(set(0x806f7), 0);        // the same table again: accepted
    EXPECT_EQ(set(0x806f8), -EINVAL);  // a changed entry
    io.put(A, u::kvm_cpuid2{1, 0});
    EXPECT_EQ(call(u::SET_CPUID2), -EINVAL);  // fewer entries
    io.put(A, u::kvm_cpuid2{10, 0});
    ASSERT_EQ(call(u::GET_CPUID2), 0);
    EXPECT_EQ(io.get<u::kvm_cpuid_entry2>(A + 48).eax, 0x806f7U);  // unchanged
}

TEST_F(RunFixture, SyncRegsGoThroughTheRunPage) {
    boot(false, {0x48, 0xff, 0xc3,   // inc rbx
                 0xe6, 0x10,         // out 0x10, al
                 0xeb, 0xf9});       // jmp back to the inc
    run().kvm_valid_regs = 0x80000000;  // unknown set
    EXPECT_EQ(call(u::RUN, 0), -EINVAL);
    run().kvm_valid_regs = 0;
    run().kvm_dirty_regs = 0x80000000 | u::SYNC_X86_REGS;
    EXPECT_EQ(call(u::RUN, 0), -EINVAL);
    // Dirty registers are loaded before the run (and their bit cleared); valid ones stored after.
    run().kvm_dirty_regs = u::SYNC_X86_REGS;
    run().kvm_valid_regs = u::SYNC_X86_VALID_FIELDS;
    run().s.regs.regs = regs();
    run().s.regs.regs.rbx = 0xbad1dea;
    ASSERT_EQ(call(u::RUN, 0), 0);
    ASSERT_EQ(run().exit_reason, u::EXIT_IO);
    EXPECT_EQ(run().kvm_dirty_regs, 0U);
    EXPECT_EQ(run().s.regs.regs.rbx, 0xbad1deaU + 1);
    EXPECT_EQ(regs().rbx, 0xbad1deaU + 1);
    ASSERT_EQ(call(u::GET_SREGS), 0);
    const auto sregs = io.get<u::kvm_sregs>(A);
    EXPECT_EQ(std::memcmp(&run().s.regs.sregs, &sregs, sizeof sregs), 0);
    EXPECT_EQ(run().s.regs.events.flags, 0xdU);
    // Neither valid nor dirty: the page keeps what the VMM wrote, the vCPU keeps its own.
    run().kvm_valid_regs = 0;
    run().s.regs.regs.rbx = 0xaaaa;
    ASSERT_EQ(call(u::RUN, 0), 0);
    EXPECT_EQ(run().s.regs.regs.rbx, 0xaaaaU);
    EXPECT_EQ(regs().rbx, 0xbad1deaU + 2);
    // Invalid dirty SREGS: EINVAL, and the bit stays set.
    run().s.regs.sregs.efer = 0x400;  // LMA without LME and paging
    run().kvm_dirty_regs = u::SYNC_X86_SREGS;
    EXPECT_EQ(call(u::RUN, 0), -EINVAL);
    EXPECT_EQ(run().kvm_dirty_regs, u::SYNC_X86_SREGS);
}

}  // namespace
