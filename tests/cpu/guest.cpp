// Test guest implementation: memory, page tables, descriptor tables, exception stubs, assembler.
#include "tests/cpu/guest.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace kvmemu::cpu::test {

std::vector<uint8_t> assemble(const std::string& intel_asm, uint64_t origin) {
    char dir[] = "/tmp/kvmemu-cpu-asm-XXXXXX";
    if (mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    const std::string d = dir;
    {
        std::ofstream s(d + "/a.s");
        s << ".intel_syntax noprefix\n.text\n.org 0\n" << intel_asm << "\n";
    }
    char org[64];
    std::snprintf(org, sizeof org, "0x%llx", static_cast<unsigned long long>(origin));
    const std::string cmd = "cd " + d + " && as --64 -o a.o a.s 2> err.txt && ld -Ttext=" + org +
                            " -e 0 --oformat=binary -o a.bin a.o 2>> err.txt";
    const int rc = std::system(cmd.c_str());
    std::ifstream bin(d + "/a.bin", std::ios::binary);
    std::vector<uint8_t> out((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    std::ifstream err(d + "/err.txt");
    const std::string msg((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    std::system(("rm -rf " + d).c_str());
    if (rc != 0) throw std::runtime_error("as failed: " + msg + "\n" + intel_asm);
    return out;
}

TestBus::TestBus()
    : mem_(Mapping::map(kMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)) {
    if (!mem_.valid()) throw std::runtime_error("mmap");
}

PhysPage TestBus::page(uint64_t gpa, Access access) {
    ++calls;
    if (gpa >= kMemSize) return {};
    if (access == Access::Write && (gpa & ~0xfffULL) == readonly_page) return {};
    return {host(gpa & ~0xfffULL)};
}

Guest::Guest() {
    // Paging: PML4[0] -> PDPT; PDPT[0] -> PD; PDPT[3] -> PD for MMIO; PD[0] -> PT; PD[1] = 2 MiB.
    constexpr uint64_t P = 1, W = 2, PS = 0x80;
    bus.put<uint64_t>(kPml4, kPdpt | P | W);
    bus.put<uint64_t>(kPdpt, kPd | P | W);
    bus.put<uint64_t>(kPd, kPt | P | W);
    bus.put<uint64_t>(kPd + 8, (2ULL << 20) | P | W | PS);
    for (uint64_t i = 0; i < 512; ++i) bus.put<uint64_t>(kPt + i * 8, (i << 12) | P | W);
    bus.put<uint64_t>(kPt, 0);  // page 0 not present (null pointer)
    // MMIO: VA 0xfee00000 (PDPT[3], PD 0x3000+... use a second PD at 0xa000) -> GPA 0xfee00000.
    bus.put<uint64_t>(kPdpt + 3 * 8, 0xa000 | P | W);
    bus.put<uint64_t>(0xa000 + 503 * 8, 0xfee00000ULL | P | W | PS);  // 0xfee00000 = 3G + 503*2M

    // GDT: null, code64 (0x08), data (0x10), TSS (0x18, 16 bytes).
    bus.put<uint64_t>(kGdt + 0x08, 0x00af9b000000ffffULL);
    bus.put<uint64_t>(kGdt + 0x10, 0x00cf93000000ffffULL);
    const uint64_t tss_lo = 0x67 | ((kTss & 0xffffff) << 16) | (0x89ULL << 40) | ((kTss >> 24) << 56);
    bus.put<uint64_t>(kGdt + 0x18, tss_lo);
    bus.put<uint64_t>(kGdt + 0x20, kTss >> 32);
    bus.put<uint64_t>(kTss + 4, kStackTop);         // RSP0
    bus.put<uint64_t>(kTss + 0x24, kIstTop);        // IST1
    // IDT: 32 interrupt gates to stubs "mov dword ptr [kMark], vec; hlt".
    for (uint32_t v = 0; v < 256; ++v) {
        const uint64_t stub = kStubs + v * 16;
        uint8_t* s = bus.host(stub);
        const uint8_t code[12] = {0xc7, 0x04, 0x25, 0x00, 0x80, 0x00, 0x00,
                                  static_cast<uint8_t>(v), 0, 0, 0, 0xf4};
        std::memcpy(s, code, sizeof code);
        const uint64_t lo = (stub & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) | ((stub >> 16 & 0xffff) << 48);
        bus.put<uint64_t>(kIdt + v * 16, lo);
        bus.put<uint64_t>(kIdt + v * 16 + 8, stub >> 32);
    }
    bus.put<uint32_t>(kMark, 0xffffffff);

    st.cr0 = 0x80050033;  // PG WP NE ET MP PE
    st.cr4 = 0x620;       // PAE OSFXSR OSXMMEXCPT
    st.cr3 = kPml4;
    st.efer = 0xd01;      // SCE LME LMA NXE
    st.gdt = {kGdt, 0x27};
    st.idt = {kIdt, 256 * 16 - 1};
    Segment cs{};
    cs.selector = 0x08; cs.limit = 0xffffffff; cs.type = 0xb; cs.present = 1; cs.s = 1; cs.l = 1; cs.g = 1;
    Segment ds{};
    ds.selector = 0x10; ds.limit = 0xffffffff; ds.type = 3; ds.present = 1; ds.s = 1; ds.db = 1; ds.g = 1;
    st.seg = {ds, cs, ds, ds, ds, ds};
    st.tr.selector = 0x18; st.tr.base = kTss; st.tr.limit = 0x67; st.tr.type = 0xb; st.tr.s = 0;
    st.gpr[RSP] = kStackTop;
    st.rflags = 2;
    st.rip = kCode;

    std::vector<CpuidEntry> cpuid = {
        {0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69},
        {1, 0, 0, 0x000306a9, 0, (1u << 23) | (1u << 0) | (1u << 9) | (1u << 19), (1u << 25) | (1u << 26) | (1u << 24)},
        {7, 0, 1, 0, (1u << 3) | (1u << 8), 0, 0},
        {0x80000000, 0, 0, 0x80000008, 0, 0, 0},
        {0x80000001, 0, 0, 0, 0, 1u << 5, (1u << 20) | (1u << 29) | (1u << 11)},
        {0x80000008, 0, 0, 0x3030, 0, 0, 0},
    };
    engine.set_cpuid(cpuid);
}

void Guest::load(const std::string& intel_asm, uint64_t at) {
    const std::vector<uint8_t> code = assemble(intel_asm, at);
    std::memcpy(bus.host(at), code.data(), code.size());
    st.rip = at;
}

RunResult Guest::run(uint64_t max_instructions) {
    RunControl ctl;
    ctl.max_instructions = max_instructions;
    return engine.run(st, bus, ctl);
}

}  // namespace kvmemu::cpu::test
