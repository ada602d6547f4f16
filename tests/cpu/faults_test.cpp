// Exceptions delivered through the guest IDT (#UD, #PF with error code and CR2, #DE, #BP, int n,
// #GP), paging side effects (A/D bits, NX, WP), TLB flush on CR3 writes, self-modifying code.
#include <gtest/gtest.h>

#include "tests/cpu/guest.hpp"

namespace kvmemu::cpu::test {
namespace {

// Frame pushed by a fault without error code: RIP, CS, RFLAGS, RSP, SS.
struct Frame {
    uint64_t rip, cs, rflags, rsp, ss;
};
Frame frame_at(Guest& g, uint64_t sp) {
    return {g.bus.get<uint64_t>(sp), g.bus.get<uint64_t>(sp + 8), g.bus.get<uint64_t>(sp + 16),
            g.bus.get<uint64_t>(sp + 24), g.bus.get<uint64_t>(sp + 32)};
}

TEST(Faults, UdIsDeliveredAndReported) {
    Guest g;
    std::string seen;
    g.engine.set_unsupported_hook([&](uint64_t, std::span<const uint8_t>, const char* what) { seen = what; });
    g.load("nop\nud2");
    const RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 6u);
    const Frame f = frame_at(g, g.st.gpr[RSP]);
    EXPECT_EQ(f.rip, kCode + 1);
    EXPECT_EQ(f.cs, 8u);
    EXPECT_EQ(f.rsp, kStackTop);
    EXPECT_TRUE(seen.empty());  // ud2 is implemented: #UD by definition, no hook call
}

TEST(Faults, UnsupportedInstructionCallsHookThenUd) {
    Guest g;
    std::string seen;
    uint64_t at = 0;
    g.engine.set_unsupported_hook([&](uint64_t rip, std::span<const uint8_t>, const char* what) {
        seen = what;
        at = rip;
    });
    g.load("nop\nvzeroupper");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 6u);
    EXPECT_EQ(at, kCode + 1);
    EXPECT_EQ(seen, "vzeroupper");
}

TEST(Faults, PageFaultNotPresentRead) {
    Guest g;
    g.load("mov rax, 0x40000123\nmov rbx, [rax]");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 14u);
    EXPECT_EQ(g.st.cr2, 0x40000123u);
    const uint64_t sp = g.st.gpr[RSP];
    EXPECT_EQ(g.bus.get<uint64_t>(sp), 0u);  // error code: not present, read, supervisor
    EXPECT_EQ(g.bus.get<uint64_t>(sp + 8), kCode + 7);
}

TEST(Faults, PageFaultWriteToReadOnlyWithWp) {
    Guest g;
    g.pte(kData) &= ~2ULL;
    g.load("mov dword ptr [0x20008], 1");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 14u);
    EXPECT_EQ(g.st.cr2, kData + 8);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), 3u);  // P | W
}

TEST(Faults, WriteToReadOnlyAllowedWithoutWp) {
    Guest g;
    g.pte(kData) &= ~2ULL;
    g.st.cr0 &= ~(1ULL << 16);
    g.load("mov dword ptr [0x20008], 1\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.bus.get<uint32_t>(kData + 8), 1u);
}

TEST(Faults, NxFetchFault) {
    Guest g;
    g.pte(kData) |= 1ULL << 63;
    g.bus.put<uint8_t>(kData, 0x90);
    g.load("mov eax, 0x20000\njmp rax");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 14u);
    EXPECT_EQ(g.st.cr2, kData);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), 0x11u);  // P | I/D
}

TEST(Faults, ReservedBitFault) {
    Guest g;
    g.pte(kData) |= 1ULL << 50;  // above MAXPHYADDR 48 from CPUID 0x80000008
    g.load("mov eax, [0x20000]");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 14u);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), 0x9u);  // P | RSVD
}

TEST(Faults, DivideError) {
    Guest g;
    g.load("xor ecx, ecx\nmov eax, 5\ncdq\nidiv ecx");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 0u);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), kCode + 8);
}

TEST(Faults, DivideOverflow) {
    Guest g;
    g.load("mov rax, 0x8000000000000000\ncqo\nmov rcx, -1\nidiv rcx");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 0u);
}

TEST(Faults, Int3AndIntN) {
    Guest g;
    g.load("int3");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 3u);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), kCode + 1);  // trap: RIP after int3
    Guest h;
    h.load("int 0x80");
    ASSERT_EQ(h.run().reason, ExitReason::Hlt);
    EXPECT_EQ(h.mark(), 0x80u);
    EXPECT_EQ(h.bus.get<uint64_t>(h.st.gpr[RSP]), kCode + 2);
}

TEST(Faults, GpOnNonCanonical) {
    Guest g;
    g.load("mov rax, 0x0000800000000000\nmov rax, [rax]");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 13u);
    EXPECT_EQ(g.bus.get<uint64_t>(g.st.gpr[RSP]), 0u);
}

TEST(Faults, IstStackUsed) {
    Guest g;
    uint64_t lo = g.bus.get<uint64_t>(kIdt + 6 * 16);
    lo |= 1ULL << 32;  // IST1
    g.bus.put<uint64_t>(kIdt + 6 * 16, lo);
    g.load("ud2");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RSP], kIstTop - 40);
}

TEST(Faults, DoubleFaultWhenStackUnusable) {
    Guest g;
    uint64_t lo = g.bus.get<uint64_t>(kIdt + 8 * 16);
    lo |= 1ULL << 32;  // #DF on IST1
    g.bus.put<uint64_t>(kIdt + 8 * 16, lo);
    g.load("mov rsp, 0x40001000\nud2");  // RSP not mapped: #UD delivery faults -> #DF
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 8u);
}

TEST(Paging, AccessedAndDirtyBits) {
    Guest g;
    g.load("mov eax, [0x21000]\nmov dword ptr [0x22000], 1\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_NE(g.pte(0x21000) & 0x20, 0u);
    EXPECT_EQ(g.pte(0x21000) & 0x40, 0u);
    EXPECT_NE(g.pte(0x22000) & 0x20, 0u);
    EXPECT_NE(g.pte(0x22000) & 0x40, 0u);
    EXPECT_NE(g.bus.get<uint64_t>(kPml4) & 0x20, 0u);
    EXPECT_NE(g.pte(kCode) & 0x20, 0u);  // fetch sets A
}

TEST(Paging, Cr3WriteFlushesTlb) {
    Guest g;
    // Second hierarchy at 0x30000..: same as the first, but VA 0x21000 -> PA 0x23000.
    for (uint64_t off = 0; off < 0x4000; off += 8) {
        g.bus.put<uint64_t>(0x30000 + off, g.bus.get<uint64_t>(kPml4 + off));
    }
    g.bus.put<uint64_t>(0x30000, 0x31000 | 3);
    g.bus.put<uint64_t>(0x31000, 0x32000 | 3);
    g.bus.put<uint64_t>(0x32000, 0x33000 | 3);
    g.bus.put<uint64_t>(0x32000 + 8, (2ULL << 20) | 0x83);
    g.bus.put<uint64_t>(0x33000 + 0x21 * 8, 0x23000 | 3);
    g.bus.put<uint64_t>(0x21000, 111);
    g.bus.put<uint64_t>(0x23000, 222);
    g.load("mov rax, [0x21000]\nmov rcx, 0x30000\nmov cr3, rcx\nmov rbx, [0x21000]\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 111u);
    EXPECT_EQ(g.st.gpr[RBX], 222u);
}

TEST(Paging, InvlpgFlushesStaleTranslation) {
    Guest g;
    g.bus.put<uint64_t>(0x21000, 111);
    g.bus.put<uint64_t>(0x23000, 222);
    // Remap 0x21000 -> 0x23000 by writing the PTE from the guest, then invlpg.
    g.load("mov rax, [0x21000]\nmov qword ptr [0x4000 + 0x21*8], 0x23003\nmov rbx, [0x21000]\n"
           "invlpg [0x21000]\nmov rcx, [0x21000]\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 111u);
    EXPECT_EQ(g.st.gpr[RBX], 111u);  // stale TLB entry still used (as hardware may)
    EXPECT_EQ(g.st.gpr[RCX], 222u);
}

TEST(Code, SelfModifyingCodeIsSeen) {
    Guest g;
    // Loop twice over a "mov eax, imm" whose immediate the loop rewrites.
    g.load("xor ebx, ebx\n"
           "2: mov eax, 1\n"
           "add ebx, eax\n"
           "mov dword ptr [2b + 1], 100\n"
           "cmp ebx, 50\n"
           "jb 2b\n"
           "hlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RBX], 101u);
}

TEST(Code, CodeChangedBetweenRunsIsSeen) {
    Guest g;
    g.load("mov eax, 1\nout 0x10, al\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Io);
    g.run();
    g.load("mov eax, 2\nout 0x10, al\nhlt");
    const RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Io);
    EXPECT_EQ(r.io.data[0], 2);
}

TEST(Code, InstructionCrossingPageBoundary) {
    Guest g;
    g.load("mov rax, 0x1122334455667788\nhlt", 0x10ffc);
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 0x1122334455667788u);
}

}  // namespace
}  // namespace kvmemu::cpu::test

namespace kvmemu::cpu::test {
namespace {

TEST(Paging, ManyTlbFlushesWrapGeneration) {
    Guest g;
    g.bus.put<uint64_t>(0x21000, 7);
    g.load("mov ecx, 3000\nmov rdx, cr3\nxor eax, eax\n"
           "1: mov cr3, rdx\nadd rax, [0x21000]\ndec ecx\njnz 1b\nhlt");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[RAX], 21000u);
}

}  // namespace
}  // namespace kvmemu::cpu::test
