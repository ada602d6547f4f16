/* isa_tests.c: general-purpose instructions one at a time, with their results and the flags the
 * architecture defines for them (undefined flags are masked out per instruction).
 *
 * Like arith_tests.c, compiled into the guest (guest/isa.c) and natively into the host harness,
 * whose native run on the host CPU provides the known answers. Each test sets RFLAGS (CF etc.
 * only; never IF/TF/DF), RAX, RCX, RDX, runs one instruction sequence and reports RAX, RCX, RDX
 * and RFLAGS & mask. The asm steps 128 bytes below RSP first: the host build has a red zone.
 */
#include <stdint.h>

typedef void (*isa_report_fn)(const char *name, uint64_t value);
typedef int (*isa_skip_fn)(const char *name); /* nonzero: leave this test out */

#define F_CF 0x1ULL
#define F_PF 0x4ULL
#define F_AF 0x10ULL
#define F_ZF 0x40ULL
#define F_SF 0x80ULL
#define F_OF 0x800ULL
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_LOGIC (F_CF | F_PF | F_ZF | F_SF | F_OF)
#define F_SHIFTN (F_CF | F_PF | F_ZF | F_SF)

static isa_report_fn isa_report;
static isa_skip_fn isa_skip;
static char isa_name[64];

static void isa_put(const char *test, const char *what, uint64_t v) {
    unsigned n = 0;
    while (test[n] && n < 40) {
        isa_name[n] = test[n];
        n++;
    }
    isa_name[n++] = '.';
    for (unsigned i = 0; what[i]; i++) isa_name[n++] = what[i];
    isa_name[n] = 0;
    isa_report(isa_name, v);
}

static uint64_t isa_mem[4] __attribute__((aligned(16)));

#define T(name, insn, a, c, d, fin, mask)                                                              \
    do {                                                                                               \
        uint64_t ra = (a), rc = (c), rd = (d), fl;                                                     \
        if (isa_skip && isa_skip(name)) break;                                                         \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[fi]\n\tpopfq\n\t" insn                        \
                         "\n\tpushfq\n\tpop %[fo]\n\tlea 128(%%rsp), %%rsp"                             \
                         : "+a"(ra), "+c"(rc), "+d"(rd), [fo] "=&r"(fl)                                   \
                         : [fi] "r"((uint64_t)(fin) | 2), "S"(isa_mem)                                 \
                         : "cc", "memory", "r8", "r9");                                                \
        isa_put(name, "rax", ra);                                                                      \
        isa_put(name, "rcx", rc);                                                                      \
        isa_put(name, "rdx", rd);                                                                      \
        isa_put(name, "flags", fl & (mask));                                                           \
    } while (0)

/* no_abm: leave out popcnt, lzcnt, tzcnt (the real KVM here fails them: see kvm_harness.c) */
void isa_run(isa_report_fn report, int no_abm, isa_skip_fn skip) {
    isa_report = report;
    isa_skip = skip;
    const uint64_t M = 0x8000000000000000ULL, X = 0x0123456789abcdefULL;
    /* add/sub/adc/sbb at every width, at the edges */
    T("add64", "add %%rcx, %%rax", M - 1, 1, 0, 0, F_ARITH);
    T("add64c", "add %%rcx, %%rax", M, M, 0, 0, F_ARITH);
    T("add32", "add %%ecx, %%eax", 0xffffffffULL | X << 32, 1, 0, 0, F_ARITH);
    T("add16", "add %%cx, %%ax", 0x7fff | X << 16, 1, 0, 0, F_ARITH);
    T("add8", "add %%cl, %%al", 0x8f | X << 8, 0x71, 0, 0, F_ARITH);
    T("add8h", "add %%cl, %%ah", 0xf00f, 0x10, 0, 0, F_ARITH);
    T("adc64", "adc %%rcx, %%rax", ~0ULL, 0, 0, F_CF, F_ARITH);
    T("adc8", "adc %%cl, %%al", 0x7f, 0, 0, F_CF, F_ARITH);
    T("sub64", "sub %%rcx, %%rax", 0, 1, 0, 0, F_ARITH);
    T("sub32", "sub %%ecx, %%eax", 0x80000000ULL, 1, 0, 0, F_ARITH);
    T("sbb64", "sbb %%rcx, %%rax", M, 0, 0, F_CF, F_ARITH);
    T("sbb16", "sbb %%cx, %%ax", 0, 0xffff, 0, F_CF, F_ARITH);
    T("cmp8", "cmp %%cl, %%al", 0x10, 0x20, 0, 0, F_ARITH);
    T("neg64", "neg %%rax", M, 0, 0, 0, F_ARITH);
    T("neg32z", "neg %%eax", 0, 0, 0, F_CF, F_ARITH);
    T("inc64", "inc %%rax", M - 1, 0, 0, F_CF, F_ARITH);
    T("dec16", "dec %%ax", 0x8000, 0, 0, 0, F_ARITH);
    T("add_imm8", "add $-1, %%rax", 1, 0, 0, 0, F_ARITH);
    T("sub_imm32", "sub $0x7fffffff, %%eax", 0x7ffffffe, 0, 0, 0, F_ARITH);
    /* logic */
    T("and64", "and %%rcx, %%rax", X, M | 0xf0f0, 0, F_CF | F_OF, F_LOGIC);
    T("or32", "or %%ecx, %%eax", X, 0x80000000ULL, 0, 0, F_LOGIC);
    T("xor16", "xor %%cx, %%ax", X, 0xcdef, 0, 0, F_LOGIC);
    T("test8", "test %%cl, %%al", 0x0f, 0xf0, 0, F_CF, F_LOGIC);
    T("not32", "not %%eax", X, 0, 0, F_CF, F_LOGIC);
    /* shifts and rotates: OF only for count 1 */
    T("shl1", "shl $1, %%rax", X | M, 0, 0, 0, F_LOGIC);
    T("shl_cl", "shl %%cl, %%rax", X, 12, 0, 0, F_SHIFTN);
    T("shl_cl0", "shl %%cl, %%rax", X, 64, 0, F_CF | F_OF, F_ARITH); /* count masked to 0: no change */
    T("shr32_cl", "shr %%cl, %%eax", X, 35, 0, 0, F_SHIFTN);          /* masked to 3, upper half zeroed */
    T("sar1", "sar $1, %%rax", M | 3, 0, 0, 0, F_LOGIC);
    T("sar8_cl", "sar %%cl, %%al", 0x80, 7, 0, 0, F_SHIFTN);
    T("rol1", "rol $1, %%rax", M | 1, 0, 0, 0, F_CF | F_OF);
    T("ror_cl", "ror %%cl, %%eax", 0x12345678, 12, 0, 0, F_CF);
    T("rcl1", "rcl $1, %%rax", M, 0, 0, F_CF, F_CF | F_OF);
    T("rcr_cl", "rcr %%cl, %%rax", 0x10, 5, 0, F_CF, F_CF);
    T("rcl16_cl", "rcl %%cl, %%ax", 0x8001, 17, 0, 0, F_CF); /* 17 mod 17 = 0: no change */
    T("shld", "shld %%cl, %%rdx, %%rax", X, 20, M | 0xabc, 0, F_SHIFTN);
    T("shrd1", "shrd $1, %%rdx, %%rax", 3, 0, 1, 0, F_LOGIC);
    T("shld16", "shld %%cl, %%dx, %%ax", 0x1234, 4, 0xabcd, 0, F_SHIFTN);
    /* multiply and divide */
    T("mul64", "mul %%rcx", X, M | 5, 0, 0, F_CF | F_OF);
    T("mul8", "mul %%cl", 0x80, 0x03, 0, 0, F_CF | F_OF);
    T("imul64", "imul %%rcx", -3LL, 5, 0, 0, F_CF | F_OF);
    T("imul2", "imul %%rcx, %%rax", M >> 1, 4, 0, 0, F_CF | F_OF);
    T("imul3", "imul $-7, %%rcx, %%rax", 0, 0x12345, 0, 0, F_CF | F_OF);
    T("imul16", "imul %%cx", 0x4000, 4, 0, 0, F_CF | F_OF);
    T("div64", "div %%rcx", X, 1000003, 7, 0, 0);
    T("idiv64", "idiv %%rcx", -1000LL, 7, -1LL, 0, 0);
    T("div8", "div %%cl", 0x1234, 0x56, 0, 0, 0);
    T("idiv32", "idiv %%ecx", (uint32_t)-100, 7, 0xffffffff, 0, 0);
    /* bit instructions */
    T("bt", "bt %%rcx, %%rax", X, 67, 0, 0, F_CF);        /* register: bit 67 mod 64 */
    T("bts", "bts $5, %%rax", 0, 0, 0, 0, F_CF);
    T("btr", "btr %%rcx, %%rax", ~0ULL, 63, 0, 0, F_CF);
    T("btc", "btc %%ecx, %%eax", 1, 32, 0, 0, F_CF);      /* 32 mod 32 = 0 */
    T("bsf", "bsf %%rcx, %%rax", 0, 0x1000, 0, 0, F_ZF);
    T("bsr", "bsr %%rcx, %%rax", 0, X, 0, 0, F_ZF);
    if (!no_abm) {
        T("popcnt", "popcnt %%rcx, %%rax", 0, X, 0, F_CF | F_OF, F_ARITH);
        T("lzcnt", "lzcnt %%rcx, %%rax", 0, 0x00ff0000ULL, 0, 0, F_CF | F_ZF);
        T("tzcnt0", "tzcnt %%rcx, %%rax", 0, 0, 0, 0, F_CF | F_ZF);
    }
    T("bswap", "bswap %%rax", X, 0, 0, 0, 0);
    T("bswap32", "bswap %%eax", X, 0, 0, 0, 0);
    /* bit string in memory: the offset addresses beyond the operand */
    isa_mem[0] = isa_mem[1] = isa_mem[2] = isa_mem[3] = 0;
    T("bts_mem", "bts %%rcx, 8(%%rsi)\n\tmov 16(%%rsi), %%rax", 0, 70, 0, 0, F_CF);
    T("bt_mem_neg", "bt %%rcx, 24(%%rsi)", 0, -58LL, 0, 0, F_CF);
    /* conditions: setcc for all 16 from a few flag states; cmov */
    static const uint64_t states[] = {0, F_CF, F_ZF, F_SF, F_OF, F_SF | F_OF, F_PF | F_ZF | F_CF};
    for (unsigned s = 0; s < sizeof states / sizeof states[0]; s++) {
        char nm[16] = "setcc.";
        nm[6] = (char)('0' + s);
        T(nm,
          "seto %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetno %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "setb %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetae %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "sete %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetne %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "setbe %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tseta %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "sets %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetns %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "setp %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetnp %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "setl %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetge %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\t"
          "setle %%al\n\tlea (%%rax,%%rdx,2), %%rdx\n\tsetg %%al\n\tlea (%%rax,%%rdx,2), %%rdx",
          0, 0, 0, states[s], 0);
    }
    T("cmovl", "cmp $5, %%rcx\n\tcmovl %%rcx, %%rax", 111, -3LL, 0, 0, F_ARITH);
    T("cmovg32", "cmp $5, %%ecx\n\tcmovg %%ecx, %%eax", X, 3, 0, 0, F_ARITH); /* not taken: still zero-extends */
    T("lahf", "lahf", 0, 0, 0, F_CF | F_ZF | F_SF, F_ARITH);
    T("sahf", "mov $0xd5, %%ah\n\tsahf", 0, 0, 0, 0, F_ARITH);
    T("cmc_stc_clc", "stc\n\tcmc\n\tsetc %%al\n\tstc", 0, 0, 0, 0, F_CF);
    /* widening and moves */
    T("cbw_cwde_cdqe", "mov $0x80, %%al\n\tcbw\n\tcwde\n\tcdqe", 0, 0, 0, 0, 0);
    T("cqo", "cqo", M, 0, 0, 0, 0);
    T("cwd", "cwd", 0x8000, 0, 0x12345678, 0, 0);
    T("movsx", "movsbq %%cl, %%rax\n\tmovswl %%cx, %%edx", 0, 0x8081, 0, 0, 0);
    T("movzx", "movzbl %%ch, %%eax\n\tmovzwq %%cx, %%rdx", X, 0xfedc, 0, 0, 0);
    T("mov32_zext", "mov %%ecx, %%eax", X, 0xdeadbeefcafef00dULL, 0, 0, 0);
    T("mov16_keep", "mov %%cx, %%ax", X, 0xbeef, 0, 0, 0);
    T("lea", "lea 0x7f(%%rax,%%rcx,8), %%rdx\n\tlea -1(%%eax,%%ecx,2), %%eax", X, 0x1000, 0, 0, 0);
    T("xchg", "xchg %%rcx, %%rax\n\txchg %%edx, %%edx", 1, 2, X, 0, 0);
    /* atomics on memory */
    isa_mem[0] = 5;
    T("cmpxchg_hit", "lock cmpxchg %%rcx, (%%rsi)\n\tmov (%%rsi), %%rdx", 5, 9, 0, 0, F_ARITH);
    T("cmpxchg_miss", "lock cmpxchg %%rcx, (%%rsi)\n\tmov (%%rsi), %%rdx", 5, 7, 0, 0, F_ARITH);
    T("xadd", "lock xadd %%rax, (%%rsi)\n\tmov (%%rsi), %%rdx", 10, 0, 0, 0, F_ARITH);
    T("lock_add", "lock addl $-20, (%%rsi)\n\tmov (%%rsi), %%rdx", 0, 0, 0, 0, F_ARITH);
    T("lock_bts", "lock btsq $63, (%%rsi)\n\tmov (%%rsi), %%rdx", 0, 0, 0, 0, F_CF);
    /* loops, string instructions without rep */
    T("loop", "1: add $3, %%rax\n\tloop 1b", 0, 10, 0, 0, 0);
    T("jrcxz", "jrcxz 1f\n\tmov $1, %%rax\n1:", 0, 0, 0, 0, 0);
    isa_mem[1] = 0x1122334455667788ULL;
    T("lods", "push %%rsi\n\tlea 8(%%rsi), %%rsi\n\tlodsw\n\tlodsb\n\tmov %%rsi, %%rdx\n\tpop %%rsi\n\tsub %%rsi, %%rdx", 0, 0, 0, 0, 0);
    T("scas", "push %%rdi\n\tlea 8(%%rsi), %%rdi\n\tmov $0x88, %%al\n\tscasb\n\tmov %%rdi, %%rdx\n\tpop %%rdi\n\tsub %%rsi, %%rdx", 0, 0, 0, 0, F_ARITH);
    T("xlat", "push %%rbx\n\tlea 8(%%rsi), %%rbx\n\tmov $3, %%al\n\txlat\n\tpop %%rbx", 0, 0, 0, 0, 0);
    T("enter_leave", "push %%rbp\n\tmov %%rsp, %%r8\n\tenter $24, $0\n\tmov %%rsp, %%rax\n\tleave\n\tmov %%rsp, %%rcx\n\tpop %%rbp\n\tsub %%r8, %%rax\n\tsub %%r8, %%rcx", 0, 0, 0, 0, 0);
    T("push_pop", "push $-2\n\tpushw $0x1234\n\tpopw %%cx\n\tpop %%rax", 0, 0, 0, 0, 0);
    T("call_ret", "call 1f\n\tjmp 2f\n1:\tmov (%%rsp), %%rax\n\tret\n2:\tlea 0f(%%rip), %%rcx\n0:\tsub %%rcx, %%rax\n\txor %%ecx, %%ecx", 0, 0, 0, 0, 0);
}
