/* Guest: exception delivery through the guest's own IDT. Each probe runs one faulting
 * instruction between two labels; the handler records vector, error code, the RIP the CPU
 * pushed, CR2, CS and SS, and resumes at the label after the instruction. The host knows the
 * expected value of every report. */
#include "guest.h"

static volatile uint64_t probe_start, probe_resume;
static volatile uint64_t seen_vector, seen_error, seen_rip, seen_cr2, seen_cs, seen_ss, seen_count;

static void record(struct ex_frame *f) {
    seen_vector = f->vector;
    seen_error = f->error;
    seen_rip = f->rip;
    seen_cr2 = read_cr2();
    seen_cs = f->cs;
    seen_ss = f->ss;
    seen_count++;
    f->rip = probe_resume;
}

/* PROBE(pre, insn, addr): run `pre` (setup, not probed), record the addresses around `insn`,
 * then execute it with RSI = addr. */
#define PROBE(pre, insn, addr)                                                                \
    __asm__ volatile(pre "\n\tlea 0f(%%rip), %%r11\n\tmov %%r11, %[start]\n\t"               \
                     "lea 1f(%%rip), %%r11\n\tmov %%r11, %[resume]\n\t"                       \
                     "0: " insn "\n1:\n"                                                      \
                     : [start] "=m"(probe_start), [resume] "=m"(probe_resume)                 \
                     : "S"((uint64_t)(addr))                                                  \
                     : "rax", "rcx", "rdx", "r11", "cc", "memory")

static void clear(void) {
    seen_vector = seen_error = seen_rip = seen_cr2 = seen_cs = seen_ss = 0xdead;
}

static void check(const char *tag, int fault_like) {
    static char name[64];
    static const char *fields[] = {"vector", "error", "rip", "cr2", "cs", "ss"};
    uint64_t values[6];
    values[0] = seen_vector;
    values[1] = seen_error;
    /* faults push the faulting instruction, traps (int3, int n) the next one */
    values[2] = seen_rip == (fault_like ? probe_start : probe_resume);
    values[3] = seen_cr2;
    values[4] = seen_cs;
    values[5] = seen_ss;
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(tag);
        memcpy(name, tag, n);
        name[n] = '.';
        memcpy(name + n + 1, fields[i], strlen(fields[i]) + 1);
        if (i == 3 && seen_vector != 14) continue; /* CR2 only means something for #PF */
        report(name, values[i]);
    }
}

/* Paging done by the guest itself: a 4 KiB page table it builds under PDPT[1] (VA 1 GiB), then
 * changes with invlpg and a CR3 reload, reads back the accessed/dirty bits the CPU sets, and
 * faults on a read-only page (CR0.WP) and on a no-execute page (EFER.NXE). */
static uint64_t pg_pd[512] __attribute__((aligned(4096)));
static uint64_t pg_pt[512] __attribute__((aligned(4096)));
static uint8_t pg_x[4096] __attribute__((aligned(4096)));
static uint8_t pg_y[4096] __attribute__((aligned(4096)));
#define PG_VA 0x40000000ULL

static inline uint64_t rd_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void wr_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline uint64_t rd_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void wr_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static void paging(void) {
    volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)GUEST_PDPT;
    volatile uint64_t *pt = pg_pt;
    volatile uint8_t *va = (volatile uint8_t *)(uintptr_t)PG_VA;
    pg_x[0] = 0x11;
    pg_x[1] = 0xc3; /* ret */
    pg_y[0] = 0x22;
    pg_pd[0] = (uint64_t)(uintptr_t)pg_pt | 0x3;
    pt[0] = (uint64_t)(uintptr_t)pg_x | 0x3;          /* VA+0: X, writable */
    pt[1] = (uint64_t)(uintptr_t)pg_y | 0x1;          /* VA+4K: Y, read-only */
    pt[2] = (uint64_t)(uintptr_t)pg_x | 0x3;          /* VA+8K: X again, executable */
    pdpt[1] = (uint64_t)(uintptr_t)pg_pd | 0x3;
    wr_cr3(rd_cr3()); /* PDPT[1] was not present: flush anyway, as an OS would */

    report("paging.read_x", va[0]);
    report("paging.pte_accessed", pt[0] & 0x60);       /* A set, D clear */
    va[2] = 0x33;
    report("paging.write_x", pg_x[2]);
    report("paging.pte_dirty", pt[0] & 0x60);          /* A and D */
    pt[0] = (uint64_t)(uintptr_t)pg_y | 0x3;
    invlpg(PG_VA);
    report("paging.invlpg_read_y", va[0]);
    pt[0] = (uint64_t)(uintptr_t)pg_x | 0x3;
    wr_cr3(rd_cr3());
    report("paging.cr3_reload_read_x", va[0]);

    /* CPL 0 writes to a read-only page: allowed while CR0.WP is clear, #PF(P|W) once it is set */
    va[4096 + 5] = 0x44;
    report("paging.ro_write_nowp", pg_y[5]);
    wr_cr0(rd_cr0() | 0x10000);
    clear();
    PROBE("", "movb $0x55, (%%rsi)", PG_VA + 4096 + 6);
    check("pf_ro_write_wp", 1);
    report("paging.ro_unchanged", pg_y[6]);
    wr_cr0(rd_cr0() & ~0x10000ULL);

    /* EFER.NXE: a fetch from an NX page faults with P|I/D; a non-present fetch reports I/D */
    wrmsr(0xc0000080, rdmsr(0xc0000080) | 0x800);
    ((void (*)(void))(uintptr_t)(PG_VA + 8192 + 1))(); /* executable: runs the ret */
    report("paging.exec_ok", 1);
    pt[2] |= 1ULL << 63;
    invlpg(PG_VA + 8192);
    clear();
    PROBE("", "jmp *%%rsi", PG_VA + 8192 + 1);
    seen_rip = seen_rip == PG_VA + 8192 + 1 ? probe_start : 0;
    check("pf_nx_fetch", 1);
    clear();
    PROBE("", "jmp *%%rsi", PG_VA + 3 * 4096);
    seen_rip = seen_rip == PG_VA + 3 * 4096 ? probe_start : 0;
    check("pf_fetch_nxe", 1);
    wrmsr(0xc0000080, rdmsr(0xc0000080) & ~0x800ULL);
    pdpt[1] = 0;
    wr_cr3(rd_cr3());
}

int main(void) {
    for (unsigned v = 0; v < 32; v++) set_handler(v, record);
    set_handler(64, record);

    clear();
    PROBE("xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx", "div %%rcx", 0);
    check("de", 1);

    clear();
    PROBE("", "ud2", 0);
    check("ud", 1);

    if (!(inl(PORT_CONFIG) & CONFIG_NO_SOFT_INT)) {
        clear();
        PROBE("", "int3", 0);
        check("bp", 0);

        clear();
        PROBE("", "int $64", 0);
        check("int64", 0);
    }

    clear();
    PROBE("", "mov (%%rsi), %%rax", 0x40001234ULL);
    check("pf_read", 1);

    clear();
    PROBE("", "movl $7, (%%rsi)", 0x7fff5678ULL);
    check("pf_write", 1);

    clear();
    PROBE("", "jmp *%%rsi", 0x40000000ULL);
    seen_rip = seen_rip == 0x40000000ULL ? probe_start : 0; /* fetch fault: RIP is the target */
    check("pf_fetch", 1);

    clear();
    PROBE("", "mov (%%rsi), %%rax", 0x8000000000000000ULL);
    check("gp_noncanonical", 1);

    clear();
    /* #DE from IDIV overflow: INT64_MIN / -1 */
    PROBE("mov %%rsi, %%rax\n\tmov $-1, %%rcx\n\tcqo", "idiv %%rcx", 0x8000000000000000ULL);
    check("de_idiv_overflow", 1);

    paging();
    report("exceptions.count", seen_count);

    /* Execution continues normally with state intact after all of that. */
    volatile uint64_t acc = 0;
    for (uint64_t i = 1; i <= 1000; i++) acc += i * i;
    report("after.sum_squares", acc);
    return 0;
}
