// Engine exits: HLT, port I/O (in/out with completion, rep outs/ins), MMIO read/write with
// completion, SHUTDOWN on triple fault, kicks and immediate_exit, internal errors.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/cpu/guest.hpp"

namespace kvmemu::cpu::test {
namespace {

TEST(Exits, HltLeavesRipAfterInstruction) {
    Guest g;
    g.load("mov eax, 42\nhlt\nnop");
    const RunResult r = g.run();
    EXPECT_EQ(r.reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 42u);
    EXPECT_EQ(g.st.rip, kCode + 6);
    EXPECT_EQ(r.instructions, 2u);
}

TEST(Exits, OutCompletesBeforeExit) {
    Guest g;
    g.load("mov eax, 0x12345678\nmov dx, 0x3f8\nout dx, eax\nout 0x80, al\nhlt");
    RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_EQ(r.io.port, 0x3f8);
    EXPECT_EQ(r.io.size, 4);
    EXPECT_FALSE(r.io.is_in);
    EXPECT_EQ(r.io.count, 1u);
    EXPECT_EQ(r.io.data[0], 0x78);
    EXPECT_EQ(r.io.data[3], 0x12);
    const uint64_t rip = g.st.rip;
    r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_EQ(r.io.port, 0x80);
    EXPECT_EQ(r.io.size, 1);
    EXPECT_EQ(g.st.rip, rip + 2);
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
}

TEST(Exits, InCompletesOnNextRun) {
    Guest g;
    g.load("mov rax, -1\nin ax, 0x60\nmov ebx, eax\nhlt");
    RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_TRUE(r.io.is_in);
    EXPECT_EQ(r.io.port, 0x60);
    EXPECT_EQ(r.io.size, 2);
    g.engine.completion_data()[0] = 0xcd;
    g.engine.completion_data()[1] = 0xab;
    RunControl ctl;
    ctl.immediate_exit = true;  // completion happens even when exiting at once
    r = g.engine.run(g.st, g.bus, ctl);
    EXPECT_EQ(r.reason, ExitReason::Intr);
    EXPECT_EQ(g.st.gpr[RAX], 0xffffffffffffabcdULL);
    EXPECT_EQ(g.st.rip, kCode + 7 + 3);
    r = g.run();
    EXPECT_EQ(r.reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RBX], 0xffffabcdULL);
}

TEST(Exits, RepOutsbExitsPerElement) {
    Guest g;
    g.bus.put<uint32_t>(kData, 0x00434241);  // "ABC"
    g.load("mov esi, 0x20000\nmov ecx, 3\nmov dx, 0xe9\nrep outsb\nhlt");
    std::string got;
    for (int k = 0; k < 3; ++k) {
        const RunResult r = g.run();
        ASSERT_EQ(r.reason, ExitReason::Io);
        EXPECT_EQ(r.io.port, 0xe9);
        got.push_back(static_cast<char>(r.io.data[0]));
    }
    EXPECT_EQ(got, "ABC");
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RCX], 0u);
    EXPECT_EQ(g.st.gpr[RSI], kData + 3);
}

TEST(Exits, RepInswIsBatchedAsKvmDoes) {
    Guest g;
    g.load("mov edi, 0x20000\nmov ecx, 2\nmov dx, 0x1f0\nrep insw\nhlt");
    const RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_TRUE(r.io.is_in);
    EXPECT_EQ(r.io.size, 2);
    EXPECT_EQ(r.io.count, 2u);  // both elements in one exit
    const uint8_t reply[4] = {0x10, 0x20, 0x11, 0x20};
    std::memcpy(g.engine.completion_data().data(), reply, 4);
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.bus.get<uint32_t>(kData), 0x20112010u);
    EXPECT_EQ(g.st.gpr[RDI], kData + 4);
    EXPECT_EQ(g.st.gpr[RCX], 0u);
}

TEST(Exits, RepInsbBatchStopsAtThePageBoundaryAndAt1024Bytes) {
    Guest g;
    // 0x20ff0: 16 bytes to the page end; then 1024-byte batches; 3000 elements in all.
    g.load("mov edi, 0x20ff0\nmov ecx, 3000\nmov dx, 0x80\nrep insb\nhlt");
    std::vector<uint32_t> counts;
    RunResult r = g.run();
    while (r.reason == ExitReason::Io) {
        counts.push_back(r.io.count);
        std::memset(g.engine.completion_data().data(), 0xaa, r.io.count);
        r = g.run();
    }
    EXPECT_EQ(r.reason, ExitReason::Hlt);
    EXPECT_EQ(counts, (std::vector<uint32_t>{16, 1024, 1024, 936}));
    EXPECT_EQ(g.st.gpr[RDI], 0x20ff0u + 3000);
    EXPECT_EQ(g.bus.get<uint8_t>(0x20ff0 + 2999), 0xaa);
}

TEST(Exits, RepInsStoresNoMoreThanTheRcxTheVmmLeft) {
    // KVM selftests' userspace_io_test lowers RCX from 2 to 1 at the exit: one element is stored.
    Guest g;
    g.load("mov edi, 0x20000\nmov ecx, 2\nmov dx, 0x80\nrep insb\nhlt");
    RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_EQ(r.io.count, 2u);
    g.st.gpr[RCX] = 1;
    std::memset(g.engine.completion_data().data(), 0xaa, 2);
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RCX], 0u);
    EXPECT_EQ(g.st.gpr[RDI], 0x20001u);
    EXPECT_EQ(g.bus.get<uint8_t>(0x20001), 0u);
}

TEST(Exits, MmioWriteThenReadWithCompletion) {
    Guest g;
    g.load("mov rbx, 0xfee00000\nmov dword ptr [rbx + 0x80], 0xdeadbeef\nmov eax, [rbx + 0x20]\n"
           "add eax, 1\nhlt");
    RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Mmio);
    EXPECT_TRUE(r.mmio.is_write);
    EXPECT_EQ(r.mmio.gpa, 0xfee00080u);
    EXPECT_EQ(r.mmio.len, 4);
    uint32_t v;
    std::memcpy(&v, r.mmio.data.data(), 4);
    EXPECT_EQ(v, 0xdeadbeefu);
    r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Mmio);
    EXPECT_FALSE(r.mmio.is_write);
    EXPECT_EQ(r.mmio.gpa, 0xfee00020u);
    EXPECT_EQ(r.mmio.len, 4);
    const uint32_t reply = 41;
    std::memcpy(g.engine.completion_data().data(), &reply, 4);
    r = g.run();
    EXPECT_EQ(r.reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 42u);
}

TEST(Exits, ReadOnlyMemoryWriteIsMmio) {
    Guest g;
    g.bus.readonly_page = kData;
    g.load("mov byte ptr [0x20010], 7\nhlt");
    const RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Mmio);
    EXPECT_TRUE(r.mmio.is_write);
    EXPECT_EQ(r.mmio.gpa, kData + 0x10);
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
}

TEST(Exits, TripleFaultIsShutdown) {
    Guest g;
    g.st.idt.limit = 0;  // every delivery fails: #UD -> #GP -> #DF -> triple fault
    g.load("ud2");
    EXPECT_EQ(g.run().reason, ExitReason::Shutdown);
}

TEST(Exits, KickAndImmediateExit) {
    Guest g;
    g.load("1: jmp 1b");
    std::atomic<bool> kick{true};
    RunControl ctl;
    ctl.kick = &kick;
    EXPECT_EQ(g.engine.run(g.st, g.bus, ctl).reason, ExitReason::Intr);
    RunControl imm;
    imm.immediate_exit = true;
    EXPECT_EQ(g.engine.run(g.st, g.bus, imm).reason, ExitReason::Intr);
    const RunResult r = g.run(1000);
    EXPECT_EQ(r.reason, ExitReason::Intr);
    EXPECT_GE(r.instructions, 1000u);
}

TEST(Exits, FetchFromNoMemoryIsInternalError) {
    Guest g;
    g.load("mov rax, 0xfee00000\njmp rax");
    const RunResult r = g.run();
    EXPECT_EQ(r.reason, ExitReason::InternalError);
    EXPECT_FALSE(r.error.empty());
}

TEST(Exits, InterruptInjectedWhenIfSet) {
    Guest g;
    g.load("sti\nnop\n1: jmp 1b");
    g.st.pending_irq = 0x40;
    const RunResult r = g.run(100);
    EXPECT_EQ(r.reason, ExitReason::Hlt);  // the stub for 0x40 halts
    EXPECT_EQ(g.mark(), 0x40u);
    EXPECT_EQ(g.st.pending_irq, -1);
}

}  // namespace
}  // namespace kvmemu::cpu::test
