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

    report("exceptions.count", seen_count);

    /* Execution continues normally with state intact after all of that. */
    volatile uint64_t acc = 0;
    for (uint64_t i = 1; i <= 1000; i++) acc += i * i;
    report("after.sum_squares", acc);
    return 0;
}
