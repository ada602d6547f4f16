// cpu_bench: guest instructions per second of the interpreter on an integer loop and on a
// memory-heavy loop, each next to the same loop run natively on the host in the same process.
#include <sys/mman.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/cpu/guest.hpp"

namespace {

// Thread CPU time: the machine may be shared, wall time would count other processes' slices.
struct CpuClock {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<CpuClock>;
    static time_point now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return time_point(duration(static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec));
    }
};

using kvmemu::cpu::test::Guest;
using namespace kvmemu::cpu;

// Loop bodies shared by the native and the guest run. rcx = iterations; rsi/rdi = buffers.
const char* const kIntLoop =
    "1:\n"
    "add eax, ecx\n"
    "xor eax, 0x55\n"
    "lea edx, [rax + rax*2]\n"
    "add rbx, rdx\n"
    "ror rbx, 3\n"
    "sub rbx, rcx\n"
    "dec rcx\n"
    "jnz 1b\n";
constexpr int kIntPerIter = 8;

const char* const kMemLoop =
    "1:\n"
    "mov r8, rcx\n"
    "and r8, 4095\n"
    "mov rdx, [rsi + r8*8]\n"
    "add rdx, rax\n"
    "mov [rdi + r8*8], rdx\n"
    "add rax, [rdi + r8*8 + 8]\n"
    "movzx r9d, byte ptr [rsi + r8]\n"
    "add rax, r9\n"
    "dec rcx\n"
    "jnz 1b\n";
constexpr int kMemPerIter = 10;

double native_int(uint64_t iters) {
    const auto t0 = CpuClock::now();
    uint64_t a = 0, b = 0, c = iters, d = 0;
    asm volatile(
        "1:\n\t"
        "add %%ecx, %%eax\n\t"
        "xor $0x55, %%eax\n\t"
        "lea (%%rax,%%rax,2), %%edx\n\t"
        "add %%rdx, %%rbx\n\t"
        "ror $3, %%rbx\n\t"
        "sub %%rcx, %%rbx\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        : "+a"(a), "+b"(b), "+c"(c), "+d"(d)::"cc");
    return std::chrono::duration<double>(CpuClock::now() - t0).count();
}

double native_mem(uint64_t iters, uint64_t* src, uint64_t* dst) {
    const auto t0 = CpuClock::now();
    uint64_t a = 0, c = iters;
    asm volatile(
        "1:\n\t"
        "mov %%rcx, %%r8\n\t"
        "and $4095, %%r8\n\t"
        "mov (%%rsi,%%r8,8), %%rdx\n\t"
        "add %%rax, %%rdx\n\t"
        "mov %%rdx, (%%rdi,%%r8,8)\n\t"
        "add 8(%%rdi,%%r8,8), %%rax\n\t"
        "movzbl (%%rsi,%%r8), %%r9d\n\t"
        "add %%r9, %%rax\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        : "+a"(a), "+c"(c)
        : "S"(src), "D"(dst)
        : "rdx", "r8", "r9", "cc", "memory");
    return std::chrono::duration<double>(CpuClock::now() - t0).count();
}

double guest_run(const char* body, uint64_t iters, uint64_t& retired) {
    Guest g;
    g.load(std::string(body) + "hlt\n");
    g.st.gpr[RCX] = iters;
    g.st.gpr[RSI] = 0x100000;  // 1 MiB: 8 pages of source
    g.st.gpr[RDI] = 0x110000;
    const auto t0 = CpuClock::now();
    RunControl ctl;
    const RunResult r = g.engine.run(g.st, g.bus, ctl);
    const double s = std::chrono::duration<double>(CpuClock::now() - t0).count();
    retired = r.instructions;
    if (r.reason != ExitReason::Hlt) std::fprintf(stderr, "unexpected exit %d\n", static_cast<int>(r.reason));
    return s;
}

// Cost of one run() round trip: a guest that does OUT in a loop, one exit per instruction pair.
void io_exits(uint64_t exits) {
    Guest g;
    g.load("1: out 0x80, al\ninc eax\njmp 1b\n");
    RunControl ctl;
    const auto t0 = CpuClock::now();
    for (uint64_t k = 0; k < exits; ++k) {
        const RunResult r = g.engine.run(g.st, g.bus, ctl);
        if (r.reason != ExitReason::Io) std::fprintf(stderr, "unexpected exit %d\n", static_cast<int>(r.reason));
    }
    const double s = std::chrono::duration<double>(CpuClock::now() - t0).count();
    std::printf("%-12s %8.0f ns per run() returning an IO exit (%.2f M exits/s)\n", "io-exit", s * 1e9 / exits,
                exits / s / 1e6);
}

void report(const char* name, double guest_s, uint64_t retired, double native_s, uint64_t native_insns) {
    const double g = static_cast<double>(retired) / guest_s;
    const double n = static_cast<double>(native_insns) / native_s;
    std::printf("%-12s guest %8.1f M instr/s   native %8.1f M instr/s   native/guest %6.1fx\n", name, g / 1e6,
                n / 1e6, n / g);
}

}  // namespace

int main(int argc, char** argv) {
    const uint64_t iters = argc > 1 ? std::stoull(argv[1]) : 20'000'000;
    uint64_t retired = 0;
    static uint64_t src[4096 + 8], dst[4096 + 8];
    std::memset(src, 1, sizeof src);
    const double ni = native_int(iters * 10);
    const double gi = guest_run(kIntLoop, iters, retired);
    report("integer", gi, retired, ni, iters * 10 * kIntPerIter);
    const double nm = native_mem(iters * 10, src, dst);
    const double gm = guest_run(kMemLoop, iters, retired);
    report("memory", gm, retired, nm, iters * 10 * kMemPerIter);
    io_exits(200'000);
    return 0;
}
