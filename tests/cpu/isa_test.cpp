// Instruction families with known results: integer ALU/flags, string ops, SSE/SSE2, x87 control,
// system instructions (CPUID, MSRs, RDTSC, descriptor tables, PUSHF/POPF, IRETQ, SYSCALL/SYSRET).
#include <gtest/gtest.h>

#include "tests/cpu/guest.hpp"

namespace kvmemu::cpu::test {
namespace {

RunResult run_hlt(Guest& g, const std::string& code) {
    g.load(code + "\nhlt");
    RunResult r = g.run();
    EXPECT_EQ(r.reason, ExitReason::Hlt) << "mark=" << g.mark() << " rip=" << std::hex << g.st.rip << "\n" << code;
    return r;
}

TEST(Integer, ArithmeticAndFlags) {
    Guest g;
    run_hlt(g, "mov eax, 0xffffffff\nadd eax, 1\nsetc bl\nsetz bh\nmov ecx, 0x7fffffff\ninc ecx\nseto dl\n"
               "mov rsi, 10\nimul rsi, rsi, -3\nmov r8, 7\nneg r8\nsbb r9, r9");
    EXPECT_EQ(g.st.gpr[RAX], 0u);
    EXPECT_EQ(g.st.gpr[RBX] & 0xffff, 0x0101u);
    EXPECT_EQ(g.st.gpr[RDX] & 0xff, 1u);
    EXPECT_EQ(static_cast<int64_t>(g.st.gpr[RSI]), -30);
    EXPECT_EQ(static_cast<int64_t>(g.st.gpr[R8]), -7);
    EXPECT_EQ(g.st.gpr[R9], ~0ULL);  // NEG of nonzero sets CF
}

TEST(Integer, MulDivShifts) {
    Guest g;
    run_hlt(g, "mov rax, 0x123456789\nmov rcx, 0x1000\nmul rcx\nmov r8, rax\nmov r9, rdx\n"
               "mov rax, -100\ncqo\nmov rcx, 7\nidiv rcx\nmov r10, rax\nmov r11, rdx\n"
               "mov r12, 0x8000000000000001\nror r12, 1\nmov r13d, 1\nshl r13, 40\n"
               "mov r14, 0xf0\nshld r14, r13, 8\nmov r15, 0x1\nbsr r15, r14");
    EXPECT_EQ(g.st.gpr[R8], 0x123456789000u);
    EXPECT_EQ(g.st.gpr[R9], 0u);
    EXPECT_EQ(static_cast<int64_t>(g.st.gpr[R10]), -14);
    EXPECT_EQ(static_cast<int64_t>(g.st.gpr[R11]), -2);
    EXPECT_EQ(g.st.gpr[R12], 0xc000000000000000u);
    EXPECT_EQ(g.st.gpr[R13], 1ULL << 40);
    EXPECT_EQ(g.st.gpr[R14], 0xf000u);
    EXPECT_EQ(g.st.gpr[R15], 15u);
}

TEST(Integer, StackAndCalls) {
    Guest g;
    run_hlt(g, "mov rax, 5\ncall 2f\njmp 3f\n2: push rbp\nmov rbp, rsp\nadd rax, 10\nleave\nret\n"
               "3: push 0x1234\npop rbx\nenter 16, 0\nleave");
    EXPECT_EQ(g.st.gpr[RAX], 15u);
    EXPECT_EQ(g.st.gpr[RBX], 0x1234u);
    EXPECT_EQ(g.st.gpr[RSP], kStackTop);
}

TEST(Strings, RepMovsStosScasCmps) {
    Guest g;
    for (int k = 0; k < 100; ++k) g.bus.put<uint8_t>(kData + k, static_cast<uint8_t>(k + 1));
    run_hlt(g, "cld\nmov esi, 0x20000\nmov edi, 0x30000\nmov ecx, 100\nrep movsb\n"
               "mov edi, 0x31000\nmov eax, 0x41\nmov ecx, 5000\nrep stosb\n"
               "mov edi, 0x20000\nmov al, 50\nmov ecx, 100\nrepne scasb\nmov r8, rcx\n"
               "mov esi, 0x20000\nmov edi, 0x30000\nmov ecx, 100\nrepe cmpsb\nmov r9, rcx\n"
               "std\nmov esi, 0x20007\nlodsb\ncld");
    EXPECT_EQ(g.bus.get<uint8_t>(0x30000 + 99), 100);
    EXPECT_EQ(g.bus.get<uint8_t>(0x31000 + 4999), 0x41);
    EXPECT_EQ(g.bus.get<uint8_t>(0x31000 + 5000), 0);
    EXPECT_EQ(g.st.gpr[R8], 50u);
    EXPECT_EQ(g.st.gpr[R9], 0u);
    EXPECT_EQ(g.st.gpr[RAX] & 0xff, 8u);
    EXPECT_EQ(g.st.gpr[RSI], 0x20006u);
}

TEST(Sse, MovesLogicArithmetic) {
    Guest g;
    for (int k = 0; k < 32; ++k) g.bus.put<uint8_t>(kData + k, static_cast<uint8_t>(k));
    run_hlt(g, "movdqa xmm0, [0x20000]\nmovdqu xmm1, [0x20001]\npxor xmm2, xmm2\npaddb xmm2, xmm0\n"
               "paddd xmm2, xmm1\npcmpeqb xmm3, xmm3\npmovmskb eax, xmm3\nmovq rbx, xmm0\n"
               "mov rcx, 0x1122334455667788\nmovq xmm4, rcx\npshufd xmm5, xmm4, 0x1b\n"
               "movdqa xmm6, xmm0\npsrldq xmm6, 4\npslld xmm6, 1\npunpcklbw xmm7, xmm0\n"
               "movups [0x20100], xmm2\nmovd edx, xmm6\npand xmm0, xmm3\npsubq xmm0, xmm0");
    EXPECT_EQ(g.st.gpr[RAX], 0xffffu);
    EXPECT_EQ(g.st.gpr[RBX], 0x0706050403020100u);
    EXPECT_EQ(g.st.gpr[RDX], 0x0e0c0a08u);
    uint32_t x5[4];
    std::memcpy(x5, g.st.fx.xmm[5].data(), 16);
    EXPECT_EQ(x5[0], 0u);
    EXPECT_EQ(x5[2], 0x11223344u);
    EXPECT_EQ(x5[3], 0x55667788u);
    // xmm2 = bytes k + dwords of (k+1..): check first dword: 0x03020100 + 0x04030201
    EXPECT_EQ(g.bus.get<uint32_t>(0x20100), 0x03020100u + 0x04030201u);
    EXPECT_EQ(g.st.fx.xmm[7][1], 0u);
    EXPECT_EQ(g.st.fx.xmm[7][3], 1u);
    for (auto b : g.st.fx.xmm[0]) EXPECT_EQ(b, 0);
}

TEST(Sse, MisalignedMovdqaFaults) {
    Guest g;
    g.load("movdqa xmm0, [0x20008]");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 13u);
}

TEST(Sse, FxsaveFxrstorMxcsrFninit) {
    Guest g;
    run_hlt(g, "mov eax, 0x1fa0\nmov [0x20000], eax\nldmxcsr [0x20000]\nstmxcsr [0x20004]\n"
               "mov rax, 0x55\nmovq xmm9, rax\nfninit\nfxsave [0x21000]\npxor xmm9, xmm9\n"
               "fxrstor [0x21000]\nmovq rbx, xmm9");
    EXPECT_EQ(g.bus.get<uint32_t>(0x20004), 0x1fa0u);
    EXPECT_EQ(g.bus.get<uint16_t>(0x21000), 0x37fu);    // FCW
    EXPECT_EQ(g.bus.get<uint32_t>(0x21000 + 24), 0x1fa0u);  // MXCSR
    EXPECT_EQ(g.bus.get<uint64_t>(0x21000 + 160 + 9 * 16), 0x55u);
    EXPECT_EQ(g.st.gpr[RBX], 0x55u);
}

TEST(Sse, UdWithoutOsfxsr) {
    Guest g;
    g.st.cr4 &= ~(1ULL << 9);
    g.load("pxor xmm0, xmm0");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 6u);
}

TEST(System, CpuidMsrTsc) {
    Guest g;
    run_hlt(g, "xor eax, eax\ncpuid\nmov r8d, ebx\nmov eax, 0x40000000\ncpuid\nmov r9d, eax\n"
               "mov ecx, 0xc0000082\nmov eax, 0x1000\nxor edx, edx\nwrmsr\nrdmsr\nmov r10, rax\n"
               "rdtsc\nshl rdx, 32\nor rax, rdx\nmov r11, rax\nrdtsc\nshl rdx, 32\nor rax, rdx\nsub rax, r11\n"
               "mov r12, rax");
    EXPECT_EQ(g.st.gpr[R8], 0x756e6547u);
    EXPECT_EQ(g.st.gpr[R9], 0u);  // above max basic leaf: answers as leaf 0xd, absent here -> zeros
    EXPECT_EQ(g.st.gpr[R10], 0x1000u);
    EXPECT_EQ(g.st.msrs.lstar, 0x1000u);
    EXPECT_LT(static_cast<int64_t>(g.st.gpr[R12]), 1'000'000'000);
    EXPECT_GE(static_cast<int64_t>(g.st.gpr[R12]), 0);
}

TEST(System, GuestTscAdjustWritesMoveTheTsc) {
    // Guest WRMSR IA32_TSC_ADJUST moves the TSC by the change (the offset, exactly); a guest
    // WRMSR TSC moves IA32_TSC_ADJUST by the same step as the TSC offset.
    Guest g;
    const uint64_t offset0 = g.st.tsc_offset;
    run_hlt(g, "mov ecx, 0x3b\nxor eax, eax\nmov edx, 1\nwrmsr\nrdmsr\nmov r8, rdx");
    EXPECT_EQ(g.st.gpr[R8], 1u);
    EXPECT_EQ(g.st.msrs.tsc_adjust, 1ULL << 32);
    EXPECT_EQ(g.st.tsc_offset - offset0, 1ULL << 32);
    Guest h;
    const uint64_t offset1 = h.st.tsc_offset;
    run_hlt(h, "mov ecx, 0x10\nxor eax, eax\nmov edx, 4\nwrmsr");
    EXPECT_EQ(h.st.msrs.tsc_adjust, h.st.tsc_offset - offset1);
    EXPECT_NE(h.st.msrs.tsc_adjust, 0u);
}

TEST(System, UnknownMsrIsGp) {
    Guest g;
    g.load("mov ecx, 0x12345\nrdmsr");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.mark(), 13u);
}

TEST(System, DescriptorTablesAndFlags) {
    Guest g;
    run_hlt(g, "sgdt [0x20000]\nsidt [0x20010]\npushfq\npop rax\nor rax, 0x400\npush rax\npopfq\n"
               "pushfq\npop rbx\ncld\ncli\npushfq\npop rcx");
    EXPECT_EQ(g.bus.get<uint16_t>(0x20000), 0x27u);
    EXPECT_EQ(g.bus.get<uint64_t>(0x20002), kGdt);
    EXPECT_EQ(g.bus.get<uint64_t>(0x20012), kIdt);
    EXPECT_NE(g.st.gpr[RBX] & 0x400, 0u);
    EXPECT_EQ(g.st.gpr[RCX] & 0x600, 0u);
}

TEST(System, IretqReturnsFromHandler) {
    Guest g;
    // Handler for vector 0x30: bump rbx and iretq.
    const std::vector<uint8_t> h = assemble("add rbx, 1\niretq", 0x9800);
    std::memcpy(g.bus.host(0x9800), h.data(), h.size());
    const uint64_t lo = (0x9800 & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40);
    g.bus.put<uint64_t>(kIdt + 0x30 * 16, lo);
    run_hlt(g, "xor ebx, ebx\nint 0x30\nint 0x30\nmov rcx, rsp");
    EXPECT_EQ(g.st.gpr[RBX], 2u);
    EXPECT_EQ(g.st.gpr[RCX], kStackTop);
}

TEST(System, SyscallSysretToUserAndUserPageFault) {
    Guest g;
    g.st.msrs.star = (0x10ULL << 48) | (0x08ULL << 32);
    g.st.msrs.lstar = 0x9c00;
    g.st.msrs.sfmask = 0x200;
    // User code page (U bit) at 0x11000, user stack at 0x12000; kernel entry at 0x9c00 halts.
    g.pte(0x11000) |= 4;
    g.pte(0x12000) |= 4;
    g.bus.put<uint64_t>(kPml4, g.bus.get<uint64_t>(kPml4) | 4);
    g.bus.put<uint64_t>(kPdpt, g.bus.get<uint64_t>(kPdpt) | 4);
    g.bus.put<uint64_t>(kPd, g.bus.get<uint64_t>(kPd) | 4);
    const std::vector<uint8_t> k = assemble("mov r15, rcx\nhlt", 0x9c00);
    std::memcpy(g.bus.host(0x9c00), k.data(), k.size());
    const std::vector<uint8_t> u = assemble("mov rsp, 0x13000\nmov eax, 1\nsyscall", 0x11000);
    std::memcpy(g.bus.host(0x11000), u.data(), u.size());
    g.load("mov rcx, 0x11000\nmov r11, 0x202\nsysretq");
    ASSERT_EQ(g.run().reason, ExitReason::Hlt);
    EXPECT_EQ(g.st.gpr[R15], 0x11000u + u.size());
    EXPECT_EQ(g.st.seg[CS].dpl, 0u);

    // From user mode, touching a supervisor page faults with U set.
    Guest h;
    h.st.msrs.star = (0x10ULL << 48) | (0x08ULL << 32);
    h.pte(0x11000) |= 4;
    h.bus.put<uint64_t>(kPml4, h.bus.get<uint64_t>(kPml4) | 4);
    h.bus.put<uint64_t>(kPdpt, h.bus.get<uint64_t>(kPdpt) | 4);
    h.bus.put<uint64_t>(kPd, h.bus.get<uint64_t>(kPd) | 4);
    const std::vector<uint8_t> u2 = assemble("mov eax, [0x20000]", 0x11000);
    std::memcpy(h.bus.host(0x11000), u2.data(), u2.size());
    h.load("mov rcx, 0x11000\nmov r11, 0x202\nsysretq");
    ASSERT_EQ(h.run().reason, ExitReason::Hlt);
    EXPECT_EQ(h.mark(), 14u);
    EXPECT_EQ(h.bus.get<uint64_t>(h.st.gpr[RSP]), 5u);  // P | U
    EXPECT_EQ(h.st.gpr[RSP], kStackTop - 48);           // switched to RSP0
}

TEST(Cpuid, LookupRules) {
    CpuidTable t({{0, 0, 0, 7, 1, 2, 3},
                  {4, 0, 1, 10, 0, 0, 0},
                  {4, 1, 1, 11, 0, 0, 0},
                  {7, 0, 0, 70, 0, 0, 0},
                  {0x80000000, 0, 0, 0x80000001, 0, 0, 0}});
    EXPECT_EQ(t.lookup(4, 1).eax, 11u);
    EXPECT_EQ(t.lookup(4, 5).eax, 0u);      // significant index, no match
    EXPECT_EQ(t.lookup(7, 9).eax, 70u);     // index not significant
    EXPECT_EQ(t.lookup(0x20, 0).eax, 70u);  // above max basic leaf -> highest basic leaf (7)
    EXPECT_EQ(t.lookup(0x80000005, 0).eax, 70u);
    EXPECT_EQ(t.lookup(5, 0).eax, 0u);      // in range but absent
}

TEST(Cpuid, HypervisorLeavesAreTheirOwnClass) {
    // KVM's 0x40000000 signature leaf, whose number is above the basic maximum: found exactly;
    // 0x40000001 is within that class's range (absent: zeros); 0x40000005 is above it.
    CpuidTable t({{0, 0, 0, 7, 1, 2, 3},
                  {7, 0, 0, 70, 0, 0, 0},
                  {0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d},
                  {0x80000000, 0, 0, 0x80000001, 0, 0, 0}});
    EXPECT_EQ(t.lookup(0x40000000, 0).ebx, 0x4b4d564bu);
    EXPECT_EQ(t.lookup(0x40000001, 0).eax, 0u);
    EXPECT_EQ(t.lookup(0x40000005, 0).eax, 70u);
    EXPECT_EQ(t.lookup(0x40000100, 0).eax, 70u);  // a class with no entry at all
}

TEST(Cpuid, AmdVendorHasNoOutOfRangeFallback) {
    // "AuthenticAMD": EBX "Auth", EDX "enti", ECX "cAMD".
    CpuidTable t({{0, 0, 0, 7, 0x68747541, 0x444d4163, 0x69746e65},
                  {7, 0, 0, 70, 0, 0, 0}});
    EXPECT_EQ(t.lookup(0x20, 0).eax, 0u);
    EXPECT_EQ(t.lookup(7, 0).eax, 70u);
}

}  // namespace
}  // namespace kvmemu::cpu::test

namespace kvmemu::cpu::test {
namespace {

TEST(Atomic, LockedRmwResultsAndFlags) {
    Guest g;
    g.bus.put<uint64_t>(kData, 5);
    g.bus.put<uint32_t>(kData + 8, 0xffffffff);
    g.bus.put<uint64_t>(kData + 16, 100);
    run_hlt(g, "lock add qword ptr [0x20000], 10\nlock inc dword ptr [0x20008]\nsetz bl\nsetc bh\n"
               "mov rax, 100\nmov rcx, 7\nlock cmpxchg [0x20010], rcx\nsetz dl\n"
               "mov rax, 1\nlock cmpxchg [0x20010], rcx\nsetz dh\nmov r8, rax\n"
               "mov r9, 3\nlock xadd [0x20000], r9\nmov r10, 0x55\nxchg [0x20018], r10\n"
               "lock bts dword ptr [0x20020], 4\nsetc r11b\nlock bts dword ptr [0x20020], 4\nsetc r12b\n"
               "mov qword ptr [0x20028], 0\nlock dec qword ptr [0x20028]\nsets r13b");
    EXPECT_EQ(g.bus.get<uint64_t>(kData), 18u);
    EXPECT_EQ(g.bus.get<uint32_t>(kData + 8), 0u);
    EXPECT_EQ(g.st.gpr[RBX] & 0xff, 1u);          // ZF from inc
    EXPECT_EQ(g.bus.get<uint64_t>(kData + 16), 7u);
    EXPECT_EQ(g.st.gpr[RDX] & 0xffff, 0x0001u);   // first cmpxchg succeeded, second failed
    EXPECT_EQ(g.st.gpr[R8], 7u);
    EXPECT_EQ(g.st.gpr[R9], 15u);
    EXPECT_EQ(g.st.gpr[R10], 0u);
    EXPECT_EQ(g.bus.get<uint64_t>(kData + 0x18), 0x55u);
    EXPECT_EQ(g.bus.get<uint32_t>(kData + 0x20), 0x10u);
    EXPECT_EQ(g.st.gpr[R11] & 0xff, 0u);
    EXPECT_EQ(g.st.gpr[R12] & 0xff, 1u);
    EXPECT_EQ(g.st.gpr[R13] & 0xff, 1u);
    EXPECT_EQ(g.bus.get<uint64_t>(kData + 0x28), ~0ULL);
}

TEST(Atomic, LockedRmwOnMmioFallsBack) {
    Guest g;
    g.load("mov rbx, 0xfee00000\nlock add dword ptr [rbx + 4], 2\nhlt");
    RunResult r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Mmio);
    EXPECT_FALSE(r.mmio.is_write);
    const uint32_t v = 40;
    std::memcpy(g.engine.completion_data().data(), &v, 4);
    r = g.run();
    ASSERT_EQ(r.reason, ExitReason::Mmio);
    EXPECT_TRUE(r.mmio.is_write);
    uint32_t w;
    std::memcpy(&w, r.mmio.data.data(), 4);
    EXPECT_EQ(w, 42u);
    EXPECT_EQ(g.run().reason, ExitReason::Hlt);
}

}  // namespace
}  // namespace kvmemu::cpu::test

namespace kvmemu::cpu::test {
namespace {

TEST(Flow, FarReturnPopsCsAndRip) {
    Guest g;
    run_hlt(g, "mov r8, rsp\npush 8\nlea rax, [rip + 1f]\npush rax\nrex64 retf\n1: mov r9, rsp\nmov r10w, cs");
    EXPECT_EQ(g.st.gpr[R9], g.st.gpr[R8]);
    EXPECT_EQ(g.st.gpr[R10] & 0xffff, 8u);
    EXPECT_EQ(g.st.seg[CS].l, 1u);
}

TEST(Flow, FarJumpAndCallThroughMemory) {
    Guest g;
    run_hlt(g, "lea rax, [rip + 1f]\nmov [0x20000], rax\nmov word ptr [0x20008], 8\n"
               "rex64 jmp fword ptr [0x20000]\nud2\n"
               "1: lea rax, [rip + 2f]\nmov [0x20010], rax\nmov word ptr [0x20018], 8\n"
               "rex64 call fword ptr [0x20010]\njmp 3f\n2: mov rbx, [rsp + 8]\nrex64 retf\n3: mov rcx, rsp");
    EXPECT_EQ(g.st.gpr[RBX], 8u);
    EXPECT_EQ(g.st.gpr[RCX], kStackTop);
}

TEST(Integer, Xlat) {
    Guest g;
    g.bus.put<uint8_t>(kData + 0x42, 0x99);
    run_hlt(g, "mov ebx, 0x20000\nmov eax, 0x1242\nxlatb");
    EXPECT_EQ(g.st.gpr[RAX], 0x1299u);
}

}  // namespace
}  // namespace kvmemu::cpu::test

namespace kvmemu::cpu::test {
namespace {

TEST(Flow, FarJumpThroughM16_32) {
    Guest g;
    run_hlt(g, "lea rax, [rip + 1f]\nmov [0x20000], eax\nmov word ptr [0x20004], 8\n"
               "jmp fword ptr [0x20000]\nud2\n1: mov ebx, 1");
    EXPECT_EQ(g.st.gpr[RBX], 1u);
}

}  // namespace
}  // namespace kvmemu::cpu::test
