// Guest programs written in C, compiled at test time with gcc -O2 (freestanding) into the guest,
// and run natively from the same source: every result reported over port I/O must match.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "tests/cpu/guest.hpp"
#include "tests/cpu/guest_c/progs.h"

namespace kvmemu::cpu::test {
namespace {

std::vector<uint8_t> build_guest(const std::string& flags) {
    char dir[] = "/tmp/kvmemu-cpu-cc-XXXXXX";
    if (mkdtemp(dir) == nullptr) return {};
    const std::string d = dir;
    std::ofstream(d + "/g.ld") << "SECTIONS { . = 0x10000; .text : { *(.text.entry) *(.text*) }"
                                  " .rodata : { *(.rodata*) } .data : { *(.data*) }"
                                  " .bss : { *(.bss*) *(COMMON) }"
                                  " /DISCARD/ : { *(.eh_frame*) *(.note*) *(.comment) } }\n";
    const std::string src = KVMEMU_CPU_TEST_SRCDIR "/guest_c/";
    const std::string cmd = "cd " + d + " && gcc " + flags +
                            " -ffreestanding -fno-pic -fno-pie -mno-red-zone -fno-stack-protector"
                            " -fcf-protection=none -fno-asynchronous-unwind-tables -DKVMEMU_GUEST -c " +
                            src + "progs.c " + src + "entry.c 2> err.txt && ld -T g.ld --oformat=binary -o g.bin"
                            " entry.o progs.o $(gcc -print-libgcc-file-name) 2>> err.txt";
    const int rc = std::system(cmd.c_str());
    std::ifstream bin(d + "/g.bin", std::ios::binary);
    std::vector<uint8_t> out((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    std::system(("rm -rf " + d).c_str());
    if (rc != 0) out.clear();
    return out;
}

void run_programs(const std::string& flags) {
    const std::vector<uint8_t> image = build_guest(flags);
    ASSERT_FALSE(image.empty()) << "gcc/ld failed";
    ASSERT_LT(image.size(), 0x60000u);
    Guest g;
    std::memcpy(g.bus.host(kCode), image.data(), image.size());
    g.st.rip = kCode;
    g.st.gpr[RSP] = kStackTop - 8;  // as after a call
    std::string unsupported;
    g.engine.set_unsupported_hook([&](uint64_t, std::span<const uint8_t>, const char* w) { unsupported = w; });
    std::vector<uint64_t> got;
    uint32_t low = 0;
    bool have_low = false;
    for (;;) {
        const RunResult r = g.run(2'000'000'000);
        if (r.reason != ExitReason::Io) {
            ASSERT_EQ(r.reason, ExitReason::Hlt) << "unsupported=" << unsupported << " mark=" << g.mark();
            break;
        }
        ASSERT_EQ(r.io.port, 0x100);
        uint32_t v;
        std::memcpy(&v, r.io.data.data(), 4);
        if (!have_low) {
            low = v;
            have_low = true;
        } else {
            got.push_back(low | (static_cast<uint64_t>(v) << 32));
            have_low = false;
        }
    }
    EXPECT_EQ(g.mark(), 0xffffffffu) << "an exception was delivered at RIP " << std::hex
                                     << g.bus.get<uint64_t>(g.st.gpr[RSP] + (g.mark() == 13 || g.mark() == 14 ? 8 : 0))
                                     << " unsupported=" << unsupported;
    const uint64_t want[] = {prog_strings(), prog_crc(), prog_sort(), prog_arith(), prog_control(),
                             prog_vector()};
    ASSERT_EQ(got.size(), std::size(want));
    for (size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], want[k]) << "program " << k;
}

TEST(GuestC, GccO2ProgramsMatchNative) { run_programs("-O2"); }
TEST(GuestC, GccO3ProgramsMatchNative) { run_programs("-O3"); }
TEST(GuestC, GccOsProgramsMatchNative) { run_programs("-Os"); }

}  // namespace
}  // namespace kvmemu::cpu::test
