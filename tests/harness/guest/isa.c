/* Guest: general-purpose instructions one by one (../isa_tests.c; the host knows the answers
 * from running the same code natively), then a few CPL 0 instructions with fixed answers. */
#include "guest.h"

typedef void (*isa_report_fn)(const char *name, uint64_t value);
typedef int (*isa_skip_fn)(const char *name);
void isa_run(isa_report_fn report, int no_abm, isa_skip_fn skip);

/* The host says whether a test is on its --skip list. */
static int host_skips(const char *name) {
    static volatile struct ucall uc;
    uc.cmd = UC_SKIPQ;
    uc.str = (uint64_t)(uintptr_t)name;
    uc.args[0] = 0;
    outl(PORT_UCALL, (uint32_t)(uintptr_t)&uc);
    return uc.args[0] != 0;
}

static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint64_t fs_word = 0x1111222233334444ULL, gs_word = 0x5555666677778888ULL;

int main(void) {
    isa_run(report, (inl(PORT_CONFIG) & CONFIG_NO_ABM) != 0, host_skips);

    report("sys.efer", rdmsr(0xc0000080));
    wrmsr(0xc0000100, (uint64_t)(uintptr_t)&fs_word); /* FS_BASE */
    uint64_t v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    report("sys.fs_read", v);
    wrmsr(0xc0000101, 0);                              /* GS_BASE */
    wrmsr(0xc0000102, (uint64_t)(uintptr_t)&gs_word); /* KERNEL_GS_BASE */
    __asm__ volatile("swapgs" ::: "memory");
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    report("sys.swapgs_gs_read", v);
    report("sys.kernel_gs_base_after", rdmsr(0xc0000102));
    __asm__ volatile("swapgs" ::: "memory");
    wrmsr(0xc0000100, 0);

    uint64_t f1, f2;
    __asm__ volatile("sti\n\tpushfq\n\tpop %0\n\tcli\n\tpushfq\n\tpop %1" : "=r"(f1), "=r"(f2));
    report("sys.sti_if", f1 & 0x200);
    report("sys.cli_if", f2 & 0x200);

    /* reload the GDT and CS as an OS does after boot */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    report("sys.sgdt_base", gdtr.base);
    report("sys.sgdt_limit", gdtr.limit);
    __asm__ volatile("lgdt %0" ::"m"(gdtr));
    if (!host_skips("sys.lret")) {
        uint64_t cs, rsp_delta;
        __asm__ volatile("mov %%rsp, %%rdx\n\tpushq $8\n\tlea 1f(%%rip), %%rax\n\tpush %%rax\n\tlretq\n1:\tmov %%cs, %0\n\t"
                         "mov %%rsp, %1\n\tsub %%rdx, %1"
                         : "=r"(cs), "=r"(rsp_delta) : : "rax", "rdx", "memory");
        report("sys.lret.cs", cs);
        report("sys.lret.rsp_delta", rsp_delta); /* lretq pops 16 bytes: back where it started */
    }
    if (!host_skips("sys.iretq")) { /* an interrupt frame built by hand: SS, RSP, RFLAGS|CF, CS, RIP */
        uint64_t fl, delta;
        __asm__ volatile("mov %%rsp, %%rdx\n\tpushq $0x10\n\tpush %%rdx\n\tpushfq\n\torq $1, (%%rsp)\n\t"
                         "pushq $8\n\tlea 1f(%%rip), %%rax\n\tpush %%rax\n\tclc\n\tiretq\n"
                         "1:\tpushfq\n\tpop %0\n\tmov %%rsp, %1\n\tsub %%rdx, %1"
                         : "=r"(fl), "=r"(delta) : : "rax", "rdx", "cc", "memory");
        report("sys.iretq.cf", fl & 1);
        report("sys.iretq.rsp_delta", delta);
    }
    if (!host_skips("sys.ljmp")) { /* far jump through an m16:32 pointer (AMD has no m16:64) */
        static struct __attribute__((packed)) {
            uint32_t off;
            uint16_t sel;
        } ptr;
        uint64_t reached;
        __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%eax, (%1)\n\tmovw $8, 4(%1)\n\txor %0, %0\n\t"
                         "ljmpl *(%1)\n\tud2\n1:\tmov $1, %0"
                         : "=&r"(reached) : "r"(&ptr) : "rax", "memory");
        report("sys.ljmp.reached", reached);
    }
    if (!host_skips("sys.cpuid")) { /* what the guest sees is the table the host set (checked there) */
        static const uint32_t leaves[] = {0, 0x80000000U};
        for (unsigned i = 0; i < 2; i++) {
            uint32_t a, b, c, d;
            __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaves[i]), "c"(0));
            ucall(UC_CPUID, 0, 0, 0, leaves[i], (uint64_t)a << 32 | b, (uint64_t)c << 32 | d, 0);
        }
    }
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    report("sys.tr", tr);

    uint64_t t1 = __builtin_ia32_rdtsc(), t2 = __builtin_ia32_rdtsc();
    report("sys.rdtsc_monotonic", t2 >= t1);
    return 0;
}
