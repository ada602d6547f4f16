// Test guest: guest memory behind a PhysBus, long-mode page tables / GDT / IDT / TSS built by the
// test, an assembler helper (system `as`), and a run helper for the CPU engine tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/mapping.hpp"
#include "cpu/engine.hpp"

namespace kvmemu::cpu::test {

// Guest-physical layout used by every test.
inline constexpr uint64_t kMemSize = 4ULL << 20;  // RAM: [0, 4 MiB)
inline constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
inline constexpr uint64_t kGdt = 0x5000, kIdt = 0x6000, kTss = 0x7000;
inline constexpr uint64_t kMark = 0x8000;      // exception stubs store the vector here
inline constexpr uint64_t kStubs = 0x9000;     // 16 bytes per vector
inline constexpr uint64_t kCode = 0x10000;
inline constexpr uint64_t kData = 0x20000;
inline constexpr uint64_t kStackTop = 0x80000;
inline constexpr uint64_t kIstTop = 0x90000;
inline constexpr uint64_t kMmio = 0xfee00000;  // no memory here: MMIO (mapped by PD entry 1023? no:
                                               // by a dedicated PDPT entry, see map_mmio())

// Assembles Intel-syntax 64-bit code with the system assembler; origin is where it will run.
std::vector<uint8_t> assemble(const std::string& intel_asm, uint64_t origin = kCode);

class TestBus : public PhysBus {
public:
    TestBus();
    PhysPage page(uint64_t gpa, Access access) override;
    uint8_t* host(uint64_t gpa) { return static_cast<uint8_t*>(mem_.data()) + gpa; }
    template <class T>
    T get(uint64_t gpa) {
        T v;
        std::memcpy(&v, host(gpa), sizeof(T));
        return v;
    }
    template <class T>
    void put(uint64_t gpa, T v) {
        std::memcpy(host(gpa), &v, sizeof(T));
    }
    uint64_t calls = 0;
    uint64_t readonly_page = ~0ULL;  // writes to this gpa page get no memory (ROM)

private:
    Mapping mem_;
};

// A vCPU in 64-bit long mode at CPL 0 with identity paging of RAM (4 KiB pages below 2 MiB,
// a 2 MiB page for [2, 4) MiB) and MMIO at kMmio.
struct Guest {
    Guest();
    TestBus bus;
    Engine engine;
    CpuState st;
    // Loads code at kCode (or `at`) and sets RIP there.
    void load(const std::string& intel_asm, uint64_t at = kCode);
    RunResult run(uint64_t max_instructions = 10'000'000);
    // PTE of the 4 KiB page holding va (< 2 MiB).
    uint64_t& pte(uint64_t va) { return *reinterpret_cast<uint64_t*>(bus.host(kPt + (va >> 12) * 8)); }
    uint32_t mark() { return bus.get<uint32_t>(kMark); }
};

}  // namespace kvmemu::cpu::test
