/* kvm_harness: a QEMU-style harness in the manner of the kernel's KVM selftests.
 *
 * Plain ioctl() calls on /dev/kvm, <linux/kvm.h> and libc only, so the same binary runs against
 * the host's real KVM and against kvmemud (under kvmemu-run). It creates a VM with guest memory
 * in this process, builds identity long-mode page tables, a GDT and a TSS in guest memory, loads
 * one of the guest programs built from guest/ (flat binaries embedded at build time), sets
 * 64-bit CPL 0 state and runs KVM_RUN in a loop, serving the call channel of harness_abi.h.
 *
 *   kvm_harness --guest arith|exceptions|isa|nx [--device PATH] [--timeout SECONDS] [--no-soft-int] [--no-abm]
 *               [--skip T1,T2] (isa tests to leave out, by name)
 *               [--nx-mode mitigation|cap] [--expect-cap ok|eperm]
 *               [--nx-params sysfs|preset|none] [--nx-period-ms N] [--nx-stats check|skip]
 *
 * stdout is a deterministic transcript (nothing host-, pid- or time-dependent), so transcripts
 * from real KVM and from kvmemud can be diffed line by line. Diagnostics go to stderr.
 * Exit status: 0 every check passed, 1 a check failed (a `FAIL ...` line says which), 2 bad usage
 * or setup, 77 SKIP (a `SKIP ...` line says why).
 *
 * Guests:
 *   arith       ../arith_tests.c in the guest; every value it reports is compared with the same
 *               code run natively here first, and the published ones also with their literature
 *               value. Plus `in`, `outb`, `rep outsb` and guest-side asserts.
 *   exceptions  #DE, #UD, #BP, int 64, #PF (read, write, fetch: error code, CR2), #GP
 *               (non-canonical), #DE from IDIV overflow through the guest's IDT; each resumes.
 *               --no-soft-int leaves out int3 and int n: the real KVM of these machines (PVM
 *               backend) fails a guest int3 with KVM_EXIT_INTERNAL_ERROR (emulation, suberror 1).
 *   isa         ../isa_tests.c: general-purpose instructions one at a time (results and defined
 *               flags, answers from the same code run natively here), then CPL 0 ones: MSRs,
 *               FS/GS base and swapgs, sti/cli, sgdt/lgdt, a far return reloading CS, str, rdtsc.
 *               --no-abm leaves out popcnt/lzcnt/tzcnt: the real KVM here (PVM) stops at a guest
 *               popcnt with KVM_EXIT_INTERNAL_ERROR (emulation, suberror 1).
 *   nx          the NX-huge-page scenario of /work/shared/oracle/README.md: after each step the
 *               host reads pages_2m and nx_lpage_splits from KVM_GET_STATS_FD (descriptors found
 *               by name) and compares them with what KVM gives.
 *
 * NX scenario details. Regions A, B, C are the 2 MiB-aligned slot 1; everything else the guest
 * touches (code, stack, page tables, GDT) is in slot 0, whose host address is 4 KiB off 2 MiB
 * alignment so that KVM can only map it with 4 KiB SPTEs (KVM's rule: gpa and userspace address
 * must agree modulo the huge page size). So slot 0 adds nothing to pages_2m and, under the
 * mitigation, no NX split (its fetches were never going to be huge): the guest's step 0 checks
 * that the baseline is (0, 0), and every later step is checked with the absolute values of the
 * oracle. --nx-params:
 *   sysfs   (default) turn the mitigation on as a user would: write Y to
 *           /sys/module/kvm/parameters/nx_huge_pages, 0 then 1 to nx_huge_pages_recovery_ratio
 *           and --nx-period-ms (100) to nx_huge_pages_recovery_period_ms; old values are restored
 *           at exit. If a write fails: `SKIP`, exit 77.
 *   preset  the KVM in use was started with those values (e.g. kvmemud --nx-huge-pages=force
 *           --nx-huge-pages-recovery-ratio=1 --nx-huge-pages-recovery-period-ms=3000): no writes.
 *   none    leave the parameters alone (with --nx-stats skip: real KVM, where they are
 *           read-only and the stats show no 2M mappings).
 * --nx-mode cap enables KVM_CAP_VM_DISABLE_NX_HUGE_PAGES (220, args[0] 0) before the vCPU is
 * created; --expect-cap says whether that must succeed (root) or fail with EPERM (no
 * CAP_SYS_BOOT). When it fails the mitigation applies and the mitigation's values are expected.
 * Recovery: with --nx-params sysfs the ratio is 0 (recovery off) during the steps, so that a slow
 * guest cannot see a recovery between two steps; the guest's wait request sets it to 1. With the
 * mitigation active the host then waits until nx_lpage_splits reads 0 (at most max(20 s, 4
 * periods)); otherwise one period. With --nx-params preset recovery runs all along: give the
 * daemon a period (--nx-period-ms) long enough for steps 1-5 (uml-harness.sh uses 3000 ms).
 */
#include <linux/kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "harness_abi.h"

#ifndef KVM_CAP_VM_DISABLE_NX_HUGE_PAGES
#define KVM_CAP_VM_DISABLE_NX_HUGE_PAGES 220
#endif

/* Embedded guest programs (generated by bin2c.py from guest_NAME.bin). */
extern const unsigned char guest_arith_bin[], guest_exceptions_bin[], guest_nx_bin[], guest_isa_bin[];
extern const unsigned long guest_arith_bin_len, guest_exceptions_bin_len, guest_nx_bin_len, guest_isa_bin_len;

typedef void (*arith_report_fn)(const char *name, uint64_t value);
void arith_run(arith_report_fn report);
typedef int (*isa_skip_fn)(const char *name);
void isa_run(arith_report_fn report, int no_abm, isa_skip_fn skip);
static const char *opt_skip = ""; /* comma-separated isa test names */
/* Instructions whose encoding means something else without their CPUID bit (TZCNT is REP BSF
 * without BMI1, LZCNT is REP BSR without ABM): skipped when the guest's CPUID lacks the bit,
 * since the native answers come from this host's CPU. */
static bool guest_has_bmi1 = true, guest_has_abm = true, guest_has_popcnt = true;
static struct kvm_cpuid_entry2 guest_cpuid[256];
static uint32_t guest_cpuid_n;
static int skip_listed(const char *name) {
    size_t n = strlen(name);
    if ((!strcmp(name, "tzcnt0") && !guest_has_bmi1) || (!strcmp(name, "lzcnt") && !guest_has_abm) ||
        (!strcmp(name, "popcnt") && !guest_has_popcnt))
        return 2;
    for (const char *p = opt_skip; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

#define MIB (1024ULL * 1024ULL)
#define PARAM_DIR "/sys/module/kvm/parameters/"

static int failures;
static unsigned ucalls;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
    va_list ap;
    printf("FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    failures++;
}
static const char *errname(int e) {
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}
static void die(const char *what) {
    int e = errno;
    printf("FAIL setup: %s: -1 %s\n", what, errname(e));
    fflush(stdout);
    fprintf(stderr, "kvm_harness: %s: %s\n", what, strerror(e));
    exit(1);
}

/* ---- known answers ----------------------------------------------------------------------- */
struct known {
    char name[48];
    uint64_t value;
};
static struct known known[1024];
static unsigned n_known, next_known;

static void add_known(const char *name, uint64_t value) {
    if (n_known == sizeof known / sizeof known[0]) {
        fprintf(stderr, "kvm_harness: too many known answers\n");
        exit(2);
    }
    snprintf(known[n_known].name, sizeof known[n_known].name, "%s", name);
    known[n_known++].value = value;
}

/* Values with a published answer: the native run must agree with them too. */
static const struct known literature[] = {
    {"crc32.fox", 0x414fa339},          /* CRC-32 of "The quick brown fox jumps over the lazy dog" */
    {"adler32.wikipedia", 0x11e60398},  /* Adler-32 of "Wikipedia" */
    {"fnv1a64.empty", 0xcbf29ce484222325ULL},
    {"fib90", 2880067194370816120ULL},
    {"collatz27", 111},
    {"primes.below10000", 1229},
    {"strlen.fox", 43},
    {"repne_scasb.fox", 43},
    {"gcd", 21ULL * 99991},
    {"in.magic", HARNESS_MAGIC},
};

static void set_arith_known(void) {
    add_known("in.magic", HARNESS_MAGIC);
    arith_run(add_known);
    for (size_t i = 0; i < sizeof literature / sizeof literature[0]; i++)
        for (unsigned k = 0; k < n_known; k++)
            if (!strcmp(known[k].name, literature[i].name) && known[k].value != literature[i].value) {
                fprintf(stderr, "kvm_harness: native %s = %#" PRIx64 " but the literature says %#" PRIx64 "\n",
                        known[k].name, known[k].value, literature[i].value);
                exit(2);
            }
}

static bool opt_no_soft_int, opt_no_abm;

static void set_isa_known(void) {
    isa_run(add_known, opt_no_abm, skip_listed); /* the host CPU's answers */
    add_known("sys.efer", 0x500);
    add_known("sys.fs_read", 0x1111222233334444ULL);
    add_known("sys.swapgs_gs_read", 0x5555666677778888ULL);
    add_known("sys.kernel_gs_base_after", 0);
    add_known("sys.sti_if", 0x200);
    add_known("sys.cli_if", 0);
    add_known("sys.sgdt_base", GUEST_GDT);
    add_known("sys.sgdt_limit", SEL_TSS + 15);
    if (!skip_listed("sys.lret")) {
        add_known("sys.lret.cs", SEL_CODE);
        add_known("sys.lret.rsp_delta", 0);
    }
    if (!skip_listed("sys.iretq")) {
        add_known("sys.iretq.cf", 1);
        add_known("sys.iretq.rsp_delta", 0);
    }
    if (!skip_listed("sys.ljmp")) add_known("sys.ljmp.reached", 1);
    add_known("sys.tr", SEL_TSS);
    add_known("sys.rdtsc_monotonic", 1);
}

static void set_exceptions_known(void) {
    /* tag, vector, error code, rip is the faulting (or, for traps, next) instruction, cr2 */
    static const struct {
        const char *tag;
        uint64_t vector, error, cr2;
    } e[] = {
        {"de", 0, 0, 0},
        {"ud", 6, 0, 0},
        {"bp", 3, 0, 0},
        {"int64", 64, 0, 0},
        {"pf_read", 14, 0, 0x40001234},           /* not present, read, supervisor */
        {"pf_write", 14, 2, 0x7fff5678},          /* not present, write */
        {"pf_fetch", 14, 0, 0x40000000},          /* fetch: I/D bit only with EFER.NXE or SMEP */
        {"gp_noncanonical", 13, 0, 0},
        {"de_idiv_overflow", 0, 0, 0},
        {"paging", 0, 0, 0},                      /* not an exception: the paging section */
        {"pf_ro_write_wp", 14, 3, 0x40001006},    /* present, write (CR0.WP) */
        {"pf_nx_fetch", 14, 0x11, 0x40002001},    /* present, fetch (EFER.NXE) */
        {"pf_fetch_nxe", 14, 0x10, 0x40003000},   /* not present, fetch (EFER.NXE) */
    };
    static const struct known paging[] = {
        {"paging.read_x", 0x11},       {"paging.pte_accessed", 0x20},    {"paging.write_x", 0x33},
        {"paging.pte_dirty", 0x60},    {"paging.invlpg_read_y", 0x22},   {"paging.cr3_reload_read_x", 0x11},
        {"paging.ro_write_nowp", 0x44},
    };
    char name[64];
    uint64_t count = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        if (opt_no_soft_int && (e[i].vector == 3 || e[i].vector == 64)) continue;
        if (!strcmp(e[i].tag, "paging")) {
            for (size_t p = 0; p < sizeof paging / sizeof paging[0]; p++) add_known(paging[p].name, paging[p].value);
            continue;
        }
        count++;
        if (!strcmp(e[i].tag, "pf_nx_fetch")) { /* reported between the two probes */
            add_known("paging.ro_unchanged", 0);
            add_known("paging.exec_ok", 1);
        }
        snprintf(name, sizeof name, "%s.vector", e[i].tag);
        add_known(name, e[i].vector);
        snprintf(name, sizeof name, "%s.error", e[i].tag);
        add_known(name, e[i].error);
        snprintf(name, sizeof name, "%s.rip", e[i].tag);
        add_known(name, 1);
        if (e[i].vector == 14) {
            snprintf(name, sizeof name, "%s.cr2", e[i].tag);
            add_known(name, e[i].cr2);
        }
        snprintf(name, sizeof name, "%s.cs", e[i].tag);
        add_known(name, SEL_CODE);
        snprintf(name, sizeof name, "%s.ss", e[i].tag);
        add_known(name, SEL_DATA);
    }
    add_known("exceptions.count", count);
    add_known("after.sum_squares", 333833500);
}

/* ---- the VM ------------------------------------------------------------------------------ */
static int kvm_fd = -1, vm_fd = -1, vcpu_fd = -1, stats_fd = -1;
static struct kvm_run *run;
static uint8_t *slot0, *slot1;

static void *gpa_ptr(uint64_t gpa, uint64_t len) {
    if (gpa < GUEST_SLOT0_SIZE && len <= GUEST_SLOT0_SIZE - gpa) return slot0 + gpa;
    if (gpa >= NX_SLOT_BASE && gpa - NX_SLOT_BASE < NX_SLOT_SIZE && len <= NX_SLOT_SIZE - (gpa - NX_SLOT_BASE))
        return slot1 + (gpa - NX_SLOT_BASE);
    return NULL;
}
static const char *guest_str(uint64_t gpa) {
    static char buf[4][256];
    static int which;
    char *b = buf[which++ & 3];
    for (size_t i = 0; i < sizeof buf[0] - 1; i++) {
        const char *c = gpa_ptr(gpa + i, 1);
        if (!c) {
            snprintf(b, sizeof buf[0], "<bad guest string at %#" PRIx64 ">", gpa);
            return b;
        }
        b[i] = *c;
        if (!*c) return b;
    }
    b[sizeof buf[0] - 1] = 0;
    return b;
}

/* 4 KiB-aligned host memory at a chosen offset from 2 MiB alignment. */
static uint8_t *alloc_guest(uint64_t size, uint64_t offset_from_2m) {
    uint64_t span = size + 4 * MIB;
    uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) die("mmap guest memory");
    uintptr_t a = ((uintptr_t)p + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1);
    a += offset_from_2m;
    madvise((void *)a, size, MADV_HUGEPAGE); /* real KVM: THP where the host allows */
    return (uint8_t *)a;
}

static void set_slot(unsigned slot, uint64_t gpa, uint64_t size, void *host) {
    struct kvm_userspace_memory_region r = {
        .slot = slot, .flags = 0, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uintptr_t)host};
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) die("KVM_SET_USER_MEMORY_REGION");
}

static void build_tables(void) {
    uint64_t *pml4 = (uint64_t *)(slot0 + GUEST_PML4);
    uint64_t *pdpt = (uint64_t *)(slot0 + GUEST_PDPT);
    uint64_t *pd = (uint64_t *)(slot0 + GUEST_PD);
    pml4[0] = GUEST_PDPT | 0x3; /* present, writable */
    pdpt[0] = GUEST_PD | 0x3;   /* only the first GiB is mapped */
    for (uint64_t i = 0; i < 512; i++) pd[i] = (i << 21) | 0x83; /* 2 MiB leaves */

    uint64_t *gdt = (uint64_t *)(slot0 + GUEST_GDT);
    gdt[0] = 0;
    gdt[SEL_CODE / 8] = 0x00af9b000000ffffULL; /* 64-bit code, DPL 0, accessed */
    gdt[SEL_DATA / 8] = 0x00cf93000000ffffULL; /* data, writable, accessed */
    uint64_t base = GUEST_TSS, limit = 0x67;
    gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x8bULL << 40) | (((limit >> 16) & 0xf) << 48) |
                       (((base >> 24) & 0xff) << 56); /* 64-bit TSS, busy */
    gdt[SEL_TSS / 8 + 1] = base >> 32;
}

static void setup_vcpu(void) {
    /* CPUID as QEMU and the selftests do: what KVM supports. */
    int nent = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + nent * sizeof(struct kvm_cpuid_entry2));
    if (!cpuid) die("calloc");
    cpuid->nent = nent;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
    guest_cpuid_n = cpuid->nent < 256 ? cpuid->nent : 256;
    memcpy(guest_cpuid, cpuid->entries, guest_cpuid_n * sizeof guest_cpuid[0]);
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 7 && e->index == 0) guest_has_bmi1 = (e->ebx >> 3) & 1;
        if (e->function == 0x80000001) guest_has_abm = (e->ecx >> 5) & 1;
        if (e->function == 1) guest_has_popcnt = (e->ecx >> 23) & 1;
    }
    free(cpuid);

    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = SEL_CODE, .type = 0xb, .present = 1,
                               .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1};
    struct kvm_segment data = {.base = 0, .limit = 0xffffffff, .selector = SEL_DATA, .type = 0x3, .present = 1,
                               .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    struct kvm_segment tr = {.base = GUEST_TSS, .limit = 0x67, .selector = SEL_TSS, .type = 0xb, .present = 1,
                             .s = 0};
    struct kvm_segment ldt = {.selector = 0, .type = 0x2, .present = 0, .unusable = 1};
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = tr;
    s.ldt = ldt;
    s.gdt.base = GUEST_GDT;
    s.gdt.limit = SEL_TSS + 15;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.cr0 = 0x80000011; /* PG, ET, PE */
    s.cr3 = GUEST_PML4;
    s.cr4 = 0x20;     /* PAE */
    s.efer = 0x500;   /* LMA, LME */
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS");

    struct kvm_regs r;
    memset(&r, 0, sizeof r);
    r.rip = GUEST_LOAD;
    r.rsp = GUEST_STACK_TOP;
    r.rflags = 0x2;
    if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS");
}

/* ---- stats --------------------------------------------------------------------------------- */
static uint64_t stat_off_pages_2m = UINT64_MAX, stat_off_splits = UINT64_MAX;

static void open_stats(void) {
    stats_fd = ioctl(vm_fd, KVM_GET_STATS_FD, NULL);
    if (stats_fd < 0) die("KVM_GET_STATS_FD");
    struct kvm_stats_header h;
    if (pread(stats_fd, &h, sizeof h, 0) != (ssize_t)sizeof h) die("read stats header");
    size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
    char *descs = malloc(dsz * h.num_desc);
    if (!descs) die("malloc");
    if (pread(stats_fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc))
        die("read stats descriptors");
    for (uint32_t i = 0; i < h.num_desc; i++) {
        struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);
        if (!strncmp(d->name, "pages_2m", h.name_size)) stat_off_pages_2m = h.data_offset + d->offset;
        if (!strncmp(d->name, "nx_lpage_splits", h.name_size)) stat_off_splits = h.data_offset + d->offset;
    }
    free(descs);
    if (stat_off_pages_2m == UINT64_MAX || stat_off_splits == UINT64_MAX) {
        fail("stats: pages_2m or nx_lpage_splits not among the VM's stats descriptors");
        exit(1);
    }
}
static uint64_t read_stat(uint64_t off) {
    uint64_t v;
    if (pread(stats_fd, &v, sizeof v, (off_t)off) != (ssize_t)sizeof v) die("read stats data");
    return v;
}

/* ---- module parameters --------------------------------------------------------------------- */
static const char *param_names[3] = {"nx_huge_pages", "nx_huge_pages_recovery_ratio", "nx_huge_pages_recovery_period_ms"};
static char param_old[3][64];
static bool param_written[3];

static int read_param(const char *name, char *buf, size_t len) {
    char path[256];
    snprintf(path, sizeof path, PARAM_DIR "%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0) return -e;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}
static int write_param(const char *name, const char *value) {
    char path[256];
    snprintf(path, sizeof path, PARAM_DIR "%s", name);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, value, strlen(value));
    int e = errno;
    close(fd);
    return n < 0 ? -e : 0;
}
static void restore_params(void) {
    for (int i = 2; i >= 0; i--)
        if (param_written[i]) {
            int r = write_param(param_names[i], param_old[i]);
            if (r < 0)
                fprintf(stderr, "kvm_harness: could not restore %s to %s: %s\n", param_names[i], param_old[i],
                        strerror(-r));
        }
}
/* Recovery stays off (ratio 0) while the guest takes its steps: a short period would otherwise let
 * recovery zap splits between two steps whenever the guest is slow (it is, under UML). The
 * guest's wait request turns it on (ratio 1), as a user would. */
static void params_sysfs(unsigned period_ms) {
    char period[32];
    snprintf(period, sizeof period, "%u", period_ms);
    const char *want[3] = {"Y", "0", period};
    for (int i = 0; i < 3; i++) {
        int r = read_param(param_names[i], param_old[i], sizeof param_old[i]);
        if (r == 0) r = write_param(param_names[i], want[i]);
        if (r < 0) {
            out("SKIP nx: cannot turn the mitigation on through " PARAM_DIR "%s: %s (%s): under kvmemu-run the "
                "daemon's module parameters are not shown there yet?",
                param_names[i], errname(-r), strerror(-r));
            restore_params();
            exit(77);
        }
        param_written[i] = true;
    }
    atexit(restore_params);
    out("nx: mitigation on through " PARAM_DIR ": nx_huge_pages=Y nx_huge_pages_recovery_ratio=0 (recovery off "
        "during the steps) nx_huge_pages_recovery_period_ms=%u",
        period_ms);
}

/* ---- options ------------------------------------------------------------------------------- */
static const char *opt_guest, *opt_device = "/dev/kvm", *opt_nx_mode = "mitigation", *opt_expect_cap,
                  *opt_nx_params = "sysfs", *opt_nx_stats = "check";
static unsigned opt_period_ms = 100, opt_timeout = 120;

static void usage(void) {
    fprintf(stderr, "usage: kvm_harness --guest arith|exceptions|isa|nx [--device PATH] [--timeout SECONDS] [--no-soft-int] [--no-abm] [--skip T1,T2]\n"
                    "       [--nx-mode mitigation|cap] [--expect-cap ok|eperm] [--nx-params sysfs|preset|none]\n"
                    "       [--nx-period-ms N] [--nx-stats check|skip]\n");
    exit(2);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "FAIL timeout: the guest did not finish in time\n";
    if (write(1, m, sizeof m - 1) < 0) _exit(1);
    _exit(1);
}

/* ---- NX expectations ------------------------------------------------------------------------ */
static const uint64_t nx_expect_mitigation[8][2] = {{0, 0}, {1, 0}, {2, 0}, {1, 1}, {1, 2}, {1, 2}, {1, 0}, {2, 0}};
static const uint64_t nx_expect_cap[8][2] = {{0, 0}, {1, 0}, {2, 0}, {2, 0}, {3, 0}, {3, 0}, {3, 0}, {3, 0}};
static bool nx_mitigated;
static unsigned nx_steps_seen;

static void sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool handle_nx_step(uint64_t step, const char *what) {
    if (step > 7) {
        fail("nx: bad step %" PRIu64, step);
        return false;
    }
    nx_steps_seen++;
    if (!strcmp(opt_nx_stats, "skip")) {
        out("nx step %" PRIu64 " %s", step, what);
        return true;
    }
    uint64_t p2m = read_stat(stat_off_pages_2m), splits = read_stat(stat_off_splits);
    const uint64_t *want = nx_mitigated ? nx_expect_mitigation[step] : nx_expect_cap[step];
    if (p2m == want[0] && splits == want[1]) {
        out("nx step %" PRIu64 " %s: pages_2m %" PRIu64 " nx_lpage_splits %" PRIu64 " ok", step, what, p2m, splits);
    } else {
        fail("nx step %" PRIu64 " %s: pages_2m %" PRIu64 " nx_lpage_splits %" PRIu64 ", expected %" PRIu64 " %" PRIu64,
             step, what, p2m, splits, want[0], want[1]);
    }
    return true;
}

static void handle_nx_sleep(void) {
    unsigned period = opt_period_ms ? opt_period_ms : 100;
    if (!strcmp(opt_nx_params, "sysfs")) {
        int r = write_param(param_names[1], "1");
        if (r < 0) fail("nx: writing 1 to " PARAM_DIR "%s: -1 %s", param_names[1], errname(-r));
        else out("nx: recovery on: nx_huge_pages_recovery_ratio=1");
    }
    if (strcmp(opt_nx_stats, "skip") && nx_mitigated) {
        /* until recovery has zapped the splits, at most max(20 s, 4 periods) */
        double start = now_s(), limit = period * 4 / 1000.0 > 20 ? period * 4 / 1000.0 : 20;
        while (read_stat(stat_off_splits) != 0 && now_s() - start < limit) sleep_ms(20);
        fprintf(stderr, "kvm_harness: waited %.2f s for NX recovery\n", now_s() - start);
    } else {
        sleep_ms(period + 100); /* a recovery period passes: nothing may change */
    }
    out("nx: waited for recovery");
}

/* ---- the run loop ---------------------------------------------------------------------------- */
static char line_buf[512];
static size_t line_len;

static void putchar_guest(uint8_t c) {
    if (c == '\n' || line_len == sizeof line_buf - 1) {
        line_buf[line_len] = 0;
        out("guest: %s", line_buf);
        line_len = 0;
        if (c == '\n') return;
    }
    line_buf[line_len++] = (char)c;
}

static void report_regs(void) {
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_REGS, &r) == 0 && ioctl(vcpu_fd, KVM_GET_SREGS, &s) == 0)
        fprintf(stderr, "kvm_harness: rip %#llx rsp %#llx rax %#llx rflags %#llx cr0 %#llx cr2 %#llx cr3 %#llx\n",
                r.rip, r.rsp, r.rax, r.rflags, s.cr0, s.cr2, s.cr3);
}

/* Returns false when the run is over (after a failure or UC_DONE handling leaves it going). */
static bool handle_ucall(uint32_t gpa) {
    struct ucall *uc = gpa_ptr(gpa, sizeof *uc);
    ucalls++;
    if (!uc) {
        fail("ucall: bad address %#x", gpa);
        return false;
    }
    switch (uc->cmd) {
    case UC_PRINT:
        out("guest: %s", guest_str(uc->str));
        return true;
    case UC_VALUE: {
        const char *name = guest_str(uc->str);
        uint64_t v = uc->args[0];
        if (next_known >= n_known) {
            fail("value %s = %#" PRIx64 ": no known answer (more values than expected)", name, v);
        } else if (strcmp(known[next_known].name, name)) {
            fail("value %s = %#" PRIx64 ": expected value %s next", name, v, known[next_known].name);
        } else if (known[next_known].value != v) {
            fail("value %s = %#" PRIx64 ", expected %#" PRIx64, name, v, known[next_known].value);
        } else {
            out("value %s = %#" PRIx64 " ok", name, v);
        }
        next_known++;
        return true;
    }
    case UC_ASSERT:
        fail("guest assert %s:%u: %s", guest_str(uc->str2), uc->line, guest_str(uc->str));
        return false;
    case UC_EXCEPTION:
        fail("unexpected guest exception: vector %llu error %#llx rip %#llx cr2 %#llx", uc->args[0], uc->args[1],
             uc->args[2], uc->args[3]);
        return false;
    case UC_STATS:
        return handle_nx_step(uc->args[0], guest_str(uc->str));
    case UC_SLEEP:
        handle_nx_sleep();
        return true;
    case UC_CPUID: {
        uint32_t leaf = (uint32_t)uc->args[0];
        uint32_t seen[4] = {(uint32_t)(uc->args[1] >> 32), (uint32_t)uc->args[1], (uint32_t)(uc->args[2] >> 32),
                            (uint32_t)uc->args[2]};
        const struct kvm_cpuid_entry2 *e = NULL;
        for (uint32_t i = 0; i < guest_cpuid_n; i++)
            if (guest_cpuid[i].function == leaf && guest_cpuid[i].index == 0) e = &guest_cpuid[i];
        if (!e) {
            fail("cpuid %#x: not in the table set with KVM_SET_CPUID2", leaf);
        } else if (e->eax != seen[0] || e->ebx != seen[1] || e->ecx != seen[2] || e->edx != seen[3]) {
            fail("cpuid %#x: guest saw %08x %08x %08x %08x, KVM_SET_CPUID2 set %08x %08x %08x %08x", leaf, seen[0],
                 seen[1], seen[2], seen[3], e->eax, e->ebx, e->ecx, e->edx);
        } else {
            out("cpuid %#x: as set with KVM_SET_CPUID2 ok", leaf); /* values differ between KVMs: not printed */
        }
        return true;
    }
    case UC_SKIPQ: {
        const char *name = guest_str(uc->str);
        int why = skip_listed(name);
        uc->args[0] = why != 0;
        if (why == 1) out("skip %s (--skip)", name);
        if (why == 2) out("skip %s (not in the guest's CPUID)", name);
        return true;
    }
    case UC_DONE:
        if (uc->args[0] != 0) fail("guest main returned %lld", (long long)uc->args[0]);
        else out("guest: main returned 0");
        return true;
    default:
        fail("ucall: unknown command %u", uc->cmd);
        return false;
    }
}

static void run_loop(void) {
    for (;;) {
        if (ioctl(vcpu_fd, KVM_RUN, NULL) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            int e = errno;
            fail("KVM_RUN: -1 %s", errname(e));
            return;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_PUTCHAR && run->io.size == 1) {
                for (uint32_t i = 0; i < run->io.count; i++) putchar_guest(data[i]);
                continue;
            }
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_UCALL && run->io.size == 4 &&
                run->io.count == 1) {
                uint32_t gpa;
                memcpy(&gpa, data, 4);
                if (!handle_ucall(gpa)) {
                    report_regs();
                    return;
                }
                continue;
            }
            if (run->io.direction == KVM_EXIT_IO_IN && run->io.port == PORT_MAGIC && run->io.size == 4 &&
                run->io.count == 1) {
                uint32_t m = HARNESS_MAGIC;
                memcpy(data, &m, 4);
                continue;
            }
            if (run->io.direction == KVM_EXIT_IO_IN && run->io.port == PORT_CONFIG && run->io.size == 4 &&
                run->io.count == 1) {
                uint32_t c = (opt_no_soft_int ? CONFIG_NO_SOFT_INT : 0) | (opt_no_abm ? CONFIG_NO_ABM : 0);
                memcpy(data, &c, 4);
                continue;
            }
            fail("unexpected port I/O: %s port %#x size %u count %u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
                 run->io.port, run->io.size, run->io.count);
            report_regs();
            return;
        }
        case KVM_EXIT_HLT: {
            struct kvm_regs r;
            if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0) die("KVM_GET_REGS");
            out("exit: hlt at rip %#llx after %u ucalls", r.rip, ucalls);
            return;
        }
        case KVM_EXIT_SHUTDOWN:
            fail("exit: KVM_EXIT_SHUTDOWN (triple fault)");
            report_regs();
            return;
        case KVM_EXIT_INTERNAL_ERROR:
            fail("exit: KVM_EXIT_INTERNAL_ERROR suberror %u ndata %u", run->internal.suberror, run->internal.ndata);
            for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
                fprintf(stderr, "kvm_harness: internal.data[%u] = %#llx\n", i, run->internal.data[i]);
            report_regs();
            return;
        case KVM_EXIT_MMIO:
            fail("exit: unexpected MMIO %s at gpa %#llx len %u", run->mmio.is_write ? "write" : "read",
                 run->mmio.phys_addr, run->mmio.len);
            report_regs();
            return;
        case KVM_EXIT_FAIL_ENTRY:
            fail("exit: KVM_EXIT_FAIL_ENTRY reason %#llx", run->fail_entry.hardware_entry_failure_reason);
            report_regs();
            return;
        default:
            fail("exit: unexpected exit reason %u", run->exit_reason);
            report_regs();
            return;
        }
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--guest") && v) opt_guest = v, i++;
        else if (!strcmp(a, "--device") && v) opt_device = v, i++;
        else if (!strcmp(a, "--nx-mode") && v) opt_nx_mode = v, i++;
        else if (!strcmp(a, "--expect-cap") && v) opt_expect_cap = v, i++;
        else if (!strcmp(a, "--nx-params") && v) opt_nx_params = v, i++;
        else if (!strcmp(a, "--nx-stats") && v) opt_nx_stats = v, i++;
        else if (!strcmp(a, "--nx-period-ms") && v) opt_period_ms = (unsigned)strtoul(v, NULL, 0), i++;
        else if (!strcmp(a, "--no-soft-int")) opt_no_soft_int = true;
        else if (!strcmp(a, "--no-abm")) opt_no_abm = true;
        else if (!strcmp(a, "--skip") && v) opt_skip = v, i++;
        else if (!strcmp(a, "--timeout") && v) opt_timeout = (unsigned)strtoul(v, NULL, 0), i++;
        else usage();
    }
    if (!opt_guest) usage();
    const unsigned char *bin;
    unsigned long bin_len;
    bool nx = false;
    if (!strcmp(opt_guest, "arith")) {
        bin = guest_arith_bin, bin_len = guest_arith_bin_len;
        set_arith_known();
    } else if (!strcmp(opt_guest, "exceptions")) {
        bin = guest_exceptions_bin, bin_len = guest_exceptions_bin_len;
        set_exceptions_known();
    } else if (!strcmp(opt_guest, "isa")) {
        bin = guest_isa_bin, bin_len = guest_isa_bin_len; /* known answers once the CPUID is set */
    } else if (!strcmp(opt_guest, "nx")) {
        bin = guest_nx_bin, bin_len = guest_nx_bin_len;
        nx = true;
    } else {
        usage();
    }
    if (strcmp(opt_nx_mode, "mitigation") && strcmp(opt_nx_mode, "cap")) usage();
    if (opt_expect_cap && strcmp(opt_expect_cap, "ok") && strcmp(opt_expect_cap, "eperm")) usage();
    if (strcmp(opt_nx_params, "sysfs") && strcmp(opt_nx_params, "preset") && strcmp(opt_nx_params, "none")) usage();
    if (strcmp(opt_nx_stats, "check") && strcmp(opt_nx_stats, "skip")) usage();
    if (bin_len > GUEST_LOAD_MAX) {
        fprintf(stderr, "kvm_harness: guest program too large\n");
        return 2;
    }
    signal(SIGALRM, on_alarm);
    alarm(opt_timeout);

    out("harness: guest %s, %lu bytes at %#llx", opt_guest, bin_len, (unsigned long long)GUEST_LOAD);
    fprintf(stderr, "kvm_harness: device %s\n", opt_device);
    if (nx) {
        if (!strcmp(opt_nx_params, "sysfs")) params_sysfs(opt_period_ms);
        else if (!strcmp(opt_nx_params, "preset"))
            out("nx: mitigation parameters preset by the KVM in use (not written here)");
        else
            out("nx: module parameters left alone");
    }

    kvm_fd = open(opt_device, O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) die("open device");
    int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        fail("setup: KVM_GET_API_VERSION = %d", api);
        return 1;
    }
    vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm_fd < 0) die("KVM_CREATE_VM");

    nx_mitigated = true;
    if (nx && !strcmp(opt_nx_mode, "cap")) {
        struct kvm_enable_cap cap;
        memset(&cap, 0, sizeof cap);
        cap.cap = KVM_CAP_VM_DISABLE_NX_HUGE_PAGES;
        int r = ioctl(vm_fd, KVM_ENABLE_CAP, &cap);
        int e = errno;
        if (r == 0) {
            out("nx: KVM_ENABLE_CAP(VM_DISABLE_NX_HUGE_PAGES, args[0]=0) = 0");
            nx_mitigated = false;
        } else {
            out("nx: KVM_ENABLE_CAP(VM_DISABLE_NX_HUGE_PAGES, args[0]=0) = -1 %s: the mitigation applies", errname(e));
        }
        if (opt_expect_cap && !strcmp(opt_expect_cap, "ok") && r != 0) fail("nx: ENABLE_CAP was expected to succeed");
        if (opt_expect_cap && !strcmp(opt_expect_cap, "eperm") && !(r < 0 && e == EPERM))
            fail("nx: ENABLE_CAP was expected to fail with EPERM");
    }

    slot0 = alloc_guest(GUEST_SLOT0_SIZE, 4096); /* 4 KiB off 2 MiB alignment: 4K SPTEs only */
    slot1 = alloc_guest(NX_SLOT_SIZE, 0);
    memset(slot1, 0xc3, NX_SLOT_SIZE); /* `ret` everywhere in A, B, C */
    set_slot(0, 0, GUEST_SLOT0_SIZE, slot0);
    set_slot(1, NX_SLOT_BASE, NX_SLOT_SIZE, slot1);
    build_tables();
    memcpy(slot0 + GUEST_LOAD, bin, bin_len);

    vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    if (vcpu_fd < 0) die("KVM_CREATE_VCPU");
    int mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < (int)sizeof *run) die("KVM_GET_VCPU_MMAP_SIZE");
    run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    setup_vcpu();
    if (!strcmp(opt_guest, "isa")) set_isa_known();
    if (nx && strcmp(opt_nx_stats, "skip")) open_stats();

    run_loop();

    if (next_known < n_known && failures == 0)
        fail("the guest reported %u of %u expected values (next: %s)", next_known, n_known, known[next_known].name);
    if (nx && nx_steps_seen != 8 && failures == 0) fail("nx: the guest reported %u of 8 steps", nx_steps_seen);
    out("RESULT %s %s", opt_guest, failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
