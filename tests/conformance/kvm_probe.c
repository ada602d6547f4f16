/* kvm_probe: a conformance client for /dev/kvm that prints a deterministic transcript.
 *
 * Plain ioctl() calls, <linux/kvm.h> and libc only, so the same binary runs against real KVM
 * and against kvmemud (under kvmemu-run) and the two transcripts can be diffed line by line.
 * Each line is one observation, `section.what = result`, where result is a value, `ok`
 * (an fd was returned; fd numbers are never printed) or `-1 ERRNO`. Nothing that depends on
 * the host CPU, on pointers, fd numbers or pids is printed.
 *
 *   kvm_probe [--device PATH | --device-fd N] [--section NAME]... [--repeat N]
 *             [--repeat-until FILE] [--iterations N]
 *
 * Sections: system vm vcpu nocap fds exitstatus hammer ext (default: system vm vcpu).
 * `ext` prints things real x86 KVM serves that an emulation may deliberately not model
 * (informational, not part of the differential comparison).
 * --repeat N / --repeat-until FILE: run the selected sections again and again (at least N
 * times; with --repeat-until, until FILE exists), print the first transcript once followed by
 * `repeat.mismatches = K` (iterations whose transcript differed from the first; details on
 * stderr).
 * Exit status: 0 when the probe ran (whatever the device answered), 2 when it could not run
 * (device cannot be opened, bad usage, out of memory).
 *
 * Observations against the real /dev/kvm of the build hosts (Linux 6.18, AMD, PVM backend,
 * shadow paging), 2026-11-25, that /work/shared/oracle/README.md does not spell out:
 *  - All of the oracle README's ENABLE_CAP / CHECK_EXTENSION / stats facts reproduce exactly.
 *  - Unknown or wrong-scope ioctls: the system fd answers EINVAL, the VM fd ENOTTY, the vCPU fd
 *    EINVAL (x86 kvm_arch_*_ioctl defaults), the stats fd ENOTTY (no ioctl op at all).
 *  - GET_SUPPORTED_CPUID with too small nent: E2BIG and nent is NOT written back;
 *    GET_MSR_INDEX_LIST with too small nmsrs: E2BIG and nmsrs IS written back (the needed count).
 *    GET_CPUID2 with too small nent: E2BIG, nent not written back.
 *  - SET_MP_STATE(HALTED) without an in-kernel irqchip: EINVAL (only RUNNABLE is accepted).
 *  - Deleting a slot that does not exist (memory_size 0): EINVAL.
 *  - A VM or vCPU ioctl from another process (fork child, same open file): EIO; system-fd ioctls
 *    and reads of the stats fd work from any process.
 *  - /dev/kvm opens fine inside `unshare -U -r` (root maps to root), and ENABLE_CAP(220) there is
 *    EPERM even though the process holds CAP_SYS_BOOT in its namespace.
 *  - The vCPU reset state printed by the vcpu section (RDX 0x600, RIP 0xfff0, CS f000/ffff0000,
 *    CR0 0x60000010, APIC base 0xfee00900) is what KVM sets before any SET_CPUID2: not CPU data.
 *  - SURPRISE: after SET_CPUID2 with two synthetic leaves (0 and 1), GET_CPUID2 on this PVM host
 *    returns 6 entries: leaf 1 ECX/EDX replaced by the host's values and four leaf-0xD subleaves
 *    added. Mainline KVM returns what was set (give or take the APIC/OSXSAVE runtime bits). The
 *    probe therefore prints only leaf 0 and leaf 1 EAX/EBX, and that at least 2 entries came back.
 *  - KVM_SET_USER_MEMORY_REGION2 does not check pad1/pad2 (nonzero pads are accepted).
 *  - KVM_CHECK_EXTENSION(NR_VCPUS) is min(online host CPUs, MAX_VCPUS): host-dependent, so it is
 *    only in the informational `ext` section. (Capability 0 is IRQCHIP, not "unknown".)
 *  - A vCPU fd and a stats fd keep the VM alive after its last VM fd is closed.
 *  - Run with CAP_SYS_BOOT dropped (capsh --drop=cap_sys_boot), in `unshare -U -r`, and as uid
 *    65534 with a cap_sys_boot+ep copy: EPERM, EPERM, and root's answers, as the oracle says.
 *    Careful with NO_NEW_PRIVS tests: `setpriv --reuid=65534 --no-new-privs COPY` still gains the
 *    file capability, because NNP only caps the new permitted set at the old one and setpriv
 *    keeps root's permitted set until it execs; exec a second setpriv to set NNP.
 *  - KVM_CREATE_IRQCHIP answers EINVAL here because the VM already has vCPUs (before any, it
 *    succeeds, once: EEXIST after); KVM_PRE_FAULT_MEMORY on a vCPU
 *    EOPNOTSUPP (shadow paging), on a VM fd ENOTTY (ext section only).
 */
#include <linux/kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Constants Debian 12's 6.1 <linux/kvm.h> lacks. */
#ifndef KVM_CAP_VM_DISABLE_NX_HUGE_PAGES
#define KVM_CAP_VM_DISABLE_NX_HUGE_PAGES 220
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_PRE_FAULT_MEMORY
#define KVM_CAP_PRE_FAULT_MEMORY 236
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#endif
#define CAP_SEED_NX 216 /* KVM_CAP_ARM_SYSTEM_SUSPEND in mainline; the NX cap in the seed patch */

/* struct kvm_userspace_memory_region2 (Linux 6.8+), under our own name so it builds on 6.1. */
struct probe_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};
_Static_assert(sizeof(struct probe_region2) == 160, "kvm_userspace_memory_region2 is 160 bytes");
#ifndef KVM_SET_USER_MEMORY_REGION2
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct probe_region2)
#endif
struct probe_pre_fault {
	uint64_t gpa;
	uint64_t size;
	uint64_t flags;
	uint64_t padding[5];
};
#ifndef KVM_PRE_FAULT_MEMORY
#define KVM_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct probe_pre_fault)
#endif

/* Request numbers no KVM version uses (type KVMIO, nr 0xfe). */
#define PROBE_UNKNOWN_IO _IO(KVMIO, 0xfe)
#define PROBE_UNKNOWN_IOWR _IOWR(KVMIO, 0xfe, uint64_t[8])

#define BAD_PTR ((void *)1)

/* ------------------------------------------------------------------------------------------ */
/* Output */

static FILE *g_out;
static const char *g_device = "/dev/kvm";
static int g_device_fd = -1;
static long g_iterations = 300;
static long g_nr_memslots = 32764; /* refreshed from CHECK_EXTENSION(NR_MEMSLOTS) */
static long g_max_vcpu_id = 1024;  /* refreshed from CHECK_EXTENSION(MAX_VCPU_ID) */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("kvm_probe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(g_out, fmt, ap);
	fputc('\n', g_out);
	va_end(ap);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	static char buf[32];
	if (n)
		return n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

/* "label = value" or "label = -1 ERRNO". */
static void report(const char *label, long r, int e)
{
	if (r < 0)
		line("%s = %ld %s", label, r, errname(e));
	else
		line("%s = %ld", label, r);
}

/* For calls returning an fd: "label = ok" or "label = -1 ERRNO". */
static void report_fd(const char *label, long r, int e)
{
	if (r < 0)
		line("%s = %ld %s", label, r, errname(e));
	else
		line("%s = ok", label);
}

static const char *fmt(const char *f, ...)
{
	static char bufs[4][256];
	static int n;
	char *b = bufs[n++ & 3];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, sizeof bufs[0], f, ap);
	va_end(ap);
	return b;
}

#define ENCAP(label, vm, cap, arg0)                                                                \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = enable_cap((vm), (cap), (arg0));                                         \
		report((label), r_, errno);                                                        \
	} while (0)

#define IOC(label, fd, req, arg)                                                                   \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = ioctl((fd), (req), (arg));                                               \
		report((label), r_, errno);                                                        \
	} while (0)

/* ------------------------------------------------------------------------------------------ */
/* Helpers */

static int open_system(void)
{
	int fd;
	if (g_device_fd >= 0)
		fd = fcntl(g_device_fd, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(g_device, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("cannot open %s: %s", g_device_fd >= 0 ? "--device-fd" : g_device, strerror(errno));
	return fd;
}

static int create_vm(int sys)
{
	int vm = ioctl(sys, KVM_CREATE_VM, 0UL);
	if (vm < 0)
		die("KVM_CREATE_VM failed: %s", strerror(errno));
	return vm;
}

static int enable_cap(int vm, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap c;
	memset(&c, 0, sizeof c);
	c.cap = cap;
	c.args[0] = arg0;
	return ioctl(vm, KVM_ENABLE_CAP, &c);
}

static int cloexec_of(int fd)
{
	int f = fcntl(fd, F_GETFD);
	return f < 0 ? -1 : !!(f & FD_CLOEXEC);
}

static void *xmmap_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

/* CAP_SYS_BOOT (22) in this process's effective set, from /proc/self/status. */
static int has_cap_sys_boot(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char buf[256];
	int r = -1;
	if (!f)
		return -1;
	while (fgets(buf, sizeof buf, f))
		if (!strncmp(buf, "CapEff:", 7)) {
			unsigned long long v = strtoull(buf + 7, NULL, 16);
			r = (int)((v >> 22) & 1);
		}
	fclose(f);
	return r;
}

/* Run fn in a forked child; its transcript lines (written to its g_out) are copied into ours,
 * then one line with how it ended. The child always leaves through _exit. */
static void run_child(const char *label, int (*fn)(void *), void *arg)
{
	int p[2];
	if (pipe(p))
		die("pipe: %s", strerror(errno));
	fflush(g_out);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		g_out = fdopen(p[1], "w");
		if (!g_out)
			_exit(99);
		int rc = fn(arg);
		fflush(g_out);
		_exit(rc);
	}
	close(p[1]);
	FILE *in = fdopen(p[0], "r");
	char buf[512];
	while (in && fgets(buf, sizeof buf, in))
		fputs(buf, g_out);
	if (in)
		fclose(in);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st))
		line("%s.child = exited %d", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		line("%s.child = signaled %d", label, WTERMSIG(st));
	else
		line("%s.child = status 0x%x", label, st);
}

/* ------------------------------------------------------------------------------------------ */
/* system */

static void cpuid_protocol(int sys, const char *name, unsigned long req)
{
	const unsigned big = 4096;
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + big * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		die("out of memory");
	c->nent = 0;
	errno = 0;
	long r = ioctl(sys, req, c);
	report(fmt("system.%s(nent=0)", name), r, errno);
	c->nent = 1;
	errno = 0;
	r = ioctl(sys, req, c);
	int e = errno;
	line("system.%s(nent=1) = %s, nent_updated=%s", name,
	     r < 0 ? fmt("-1 %s", errname(e)) : fmt("%ld", r), c->nent != 1 ? "yes" : "no");
	c->nent = big;
	errno = 0;
	r = ioctl(sys, req, c);
	e = errno;
	line("system.%s(nent=%u) = %s, nent_updated=%s, nent>1=%s", name, big,
	     r < 0 ? fmt("-1 %s", errname(e)) : fmt("%ld", r), c->nent != big ? "yes" : "no",
	     c->nent > 1 ? "yes" : "no");
	/* A huge nent with a buffer large enough for any real answer: KVM clamps, does not fail. */
	c->nent = 0x7fffffff;
	errno = 0;
	r = ioctl(sys, req, c);
	e = errno;
	line("system.%s(nent=0x7fffffff) = %s, nent_updated=%s", name,
	     r < 0 ? fmt("-1 %s", errname(e)) : fmt("%ld", r), c->nent != 0x7fffffff ? "yes" : "no");
	IOC(fmt("system.%s(ptr=1)", name), sys, req, BAD_PTR);
	free(c);
}

static void msr_list_protocol(int sys, const char *name, unsigned long req)
{
	const unsigned big = 4096;
	struct kvm_msr_list *l = calloc(1, sizeof *l + big * sizeof(uint32_t));
	if (!l)
		die("out of memory");
	l->nmsrs = 1;
	errno = 0;
	long r = ioctl(sys, req, l);
	int e = errno;
	line("system.%s(nmsrs=1) = %s, nmsrs_updated=%s, nmsrs>1=%s", name,
	     r < 0 ? fmt("-1 %s", errname(e)) : fmt("%ld", r), l->nmsrs != 1 ? "yes" : "no",
	     l->nmsrs > 1 ? "yes" : "no");
	l->nmsrs = big;
	errno = 0;
	r = ioctl(sys, req, l);
	e = errno;
	line("system.%s(nmsrs=%u) = %s, nmsrs_updated=%s, nmsrs>1=%s", name, big,
	     r < 0 ? fmt("-1 %s", errname(e)) : fmt("%ld", r), l->nmsrs != big ? "yes" : "no",
	     l->nmsrs > 1 ? "yes" : "no");
	IOC(fmt("system.%s(ptr=1)", name), sys, req, BAD_PTR);
	free(l);
}

/* The feature MSRs: which ones (their values describe the host CPU), and that each one reads. */
static void feature_msrs(int sys)
{
	struct kvm_msr_list *l = calloc(1, sizeof *l + 256 * sizeof(uint32_t));
	struct kvm_msrs *m = calloc(1, sizeof *m + 256 * sizeof(struct kvm_msr_entry));
	if (!l || !m)
		die("out of memory");
	l->nmsrs = 256;
	if (ioctl(sys, KVM_GET_MSR_FEATURE_INDEX_LIST, l) != 0)
		l->nmsrs = 0;
	char list[512] = "";
	for (unsigned i = 0; i < l->nmsrs && strlen(list) < sizeof list - 16; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%x", i ? " " : "", l->indices[i]);
	line("system.feature_msrs = [%s]", list);
	m->nmsrs = l->nmsrs;
	for (unsigned i = 0; i < l->nmsrs; i++)
		m->entries[i].index = l->indices[i];
	IOC("system.get_msrs(all_features)", sys, KVM_GET_MSRS, m);
	m->nmsrs = 256;
	IOC("system.get_msrs(nmsrs=256)", sys, KVM_GET_MSRS, m);
	IOC("system.get_msrs(ptr=1)", sys, KVM_GET_MSRS, BAD_PTR);
	IOC("system.set_msrs", sys, KVM_SET_MSRS, m);
	free(l);
	free(m);
}

struct cap_name {
	long cap;
	const char *name;
};
/* Capabilities whose answers an emulation must give exactly like x86 KVM. */
static const struct cap_name core_caps[] = {
	{KVM_CAP_MAX_VCPUS, "MAX_VCPUS"},
	{KVM_CAP_MAX_VCPU_ID, "MAX_VCPU_ID"},
	{KVM_CAP_NR_MEMSLOTS, "NR_MEMSLOTS"},
	{KVM_CAP_USER_MEMORY, "USER_MEMORY"},
	{KVM_CAP_USER_MEMORY2, "USER_MEMORY2"},
	{KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR"},
	{KVM_CAP_EXT_CPUID, "EXT_CPUID"},
	{KVM_CAP_ENABLE_CAP, "ENABLE_CAP"},
	{KVM_CAP_ENABLE_CAP_VM, "ENABLE_CAP_VM"},
	{KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT"},
	{KVM_CAP_BINARY_STATS_FD, "BINARY_STATS_FD"},
	{KVM_CAP_MP_STATE, "MP_STATE"},
	{KVM_CAP_XSAVE, "XSAVE"},
	{KVM_CAP_GET_MSR_FEATURES, "GET_MSR_FEATURES"},
	{KVM_CAP_SYNC_REGS, "SYNC_REGS"},
	{KVM_CAP_VCPU_EVENTS, "VCPU_EVENTS"},
	{KVM_CAP_DEBUGREGS, "DEBUGREGS"},
	{CAP_SEED_NX, "216"},
	{KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, "220"},
	{100000, "100000"},
};
/* Things x86 KVM reports that an emulation may legitimately not model (section ext). */
static const struct cap_name ext_caps[] = {
	{KVM_CAP_IRQCHIP, "IRQCHIP"},
	{KVM_CAP_NR_VCPUS, "NR_VCPUS"}, /* min(online host CPUs, MAX_VCPUS): host-dependent */
	{KVM_CAP_HLT, "HLT"},
	{KVM_CAP_COALESCED_MMIO, "COALESCED_MMIO"},
	{KVM_CAP_READONLY_MEM, "READONLY_MEM"},
	{KVM_CAP_SYNC_MMU, "SYNC_MMU"},
	{KVM_CAP_GUEST_MEMFD, "GUEST_MEMFD"},
	{KVM_CAP_MEMORY_ATTRIBUTES, "MEMORY_ATTRIBUTES"},
	{KVM_CAP_VM_TYPES, "VM_TYPES"},
	{KVM_CAP_X86_SMM, "X86_SMM"},
	{KVM_CAP_DIRTY_LOG_RING, "DIRTY_LOG_RING"},
	/* 0 on the oracle only because its backend uses shadow paging; kvmemu models the TDP MMU
	 * and serves KVM_PRE_FAULT_MEMORY (issue 3), so this is a known, intended difference. */
	{KVM_CAP_PRE_FAULT_MEMORY, "PRE_FAULT_MEMORY"},
};

static void section_system(void)
{
	int sys = open_system();
	line("system.open = ok");
	IOC("system.get_api_version", sys, KVM_GET_API_VERSION, 0UL);
	IOC("system.get_vcpu_mmap_size", sys, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	for (size_t i = 0; i < sizeof core_caps / sizeof core_caps[0]; i++)
		IOC(fmt("system.check_extension(%s)", core_caps[i].name), sys, KVM_CHECK_EXTENSION,
		    core_caps[i].cap);
	long n = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (n > 0)
		g_nr_memslots = n;
	n = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	if (n > 0)
		g_max_vcpu_id = n;

	struct kvm_enable_cap c;
	memset(&c, 0, sizeof c);
	c.cap = KVM_CAP_VM_DISABLE_NX_HUGE_PAGES;
	IOC("system.enable_cap(220,args0=0)", sys, KVM_ENABLE_CAP, &c);
	IOC("system.enable_cap(ptr=1)", sys, KVM_ENABLE_CAP, BAD_PTR);
	IOC("system.unknown_ioctl(_IO(KVMIO,0xfe))", sys, PROBE_UNKNOWN_IO, 0UL);
	IOC("system.unknown_ioctl(_IOWR(KVMIO,0xfe,64))", sys, PROBE_UNKNOWN_IOWR, 0UL);
	/* Wrong scope: VM and vCPU ioctls on the system fd. */
	IOC("system.create_vcpu(0)", sys, KVM_CREATE_VCPU, 0UL);
	IOC("system.set_user_memory_region(NULL)", sys, KVM_SET_USER_MEMORY_REGION, NULL);
	IOC("system.get_stats_fd", sys, KVM_GET_STATS_FD, 0UL);
	IOC("system.get_regs(NULL)", sys, KVM_GET_REGS, NULL);
	IOC("system.run", sys, KVM_RUN, 0UL);

	errno = 0;
	long vm = ioctl(sys, KVM_CREATE_VM, 0UL);
	report_fd("system.create_vm(0)", vm, errno);
	if (vm >= 0) {
		line("system.create_vm(0).cloexec = %d", cloexec_of(vm));
		close(vm);
	}
	errno = 0;
	vm = ioctl(sys, KVM_CREATE_VM, 0xdeadUL);
	report_fd("system.create_vm(0xdead)", vm, errno);
	if (vm >= 0)
		close(vm);

	cpuid_protocol(sys, "get_supported_cpuid", KVM_GET_SUPPORTED_CPUID);
	cpuid_protocol(sys, "get_emulated_cpuid", KVM_GET_EMULATED_CPUID);
	msr_list_protocol(sys, "get_msr_index_list", KVM_GET_MSR_INDEX_LIST);
	msr_list_protocol(sys, "get_msr_feature_index_list", KVM_GET_MSR_FEATURE_INDEX_LIST);
	feature_msrs(sys);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* vm */

static long set_region(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, uint64_t uaddr,
		       int *err)
{
	struct kvm_userspace_memory_region r = {.slot = slot,
						.flags = flags,
						.guest_phys_addr = gpa,
						.memory_size = size,
						.userspace_addr = uaddr};
	errno = 0;
	long ret = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
	*err = errno;
	return ret;
}

#define REGION(label, vm, slot, flags, gpa, size, uaddr)                                           \
	do {                                                                                       \
		int e_;                                                                            \
		long r_ = set_region((vm), (slot), (flags), (gpa), (size), (uaddr), &e_);          \
		report("vm.set_user_memory_region(" label ")", r_, e_);                           \
	} while (0)

static void memslots(int vm)
{
	const uint64_t M2 = 0x200000;
	char *mem = xmmap_anon(4 * M2);
	uint64_t ua = (uint64_t)(uintptr_t)mem;
	uint32_t lim = (uint32_t)g_nr_memslots;

	REGION("slot=0,gpa=0,size=2M", vm, 0, 0, 0, M2, ua);
	REGION("slot=1,gpa=unaligned", vm, 1, 0, 0x200800, 0x1000, ua + M2);
	REGION("slot=1,size=unaligned", vm, 1, 0, 0x200000, 0x1800, ua + M2);
	REGION("slot=1,uaddr=unaligned", vm, 1, 0, 0x200000, 0x1000, ua + M2 + 0x800);
	REGION("slot=1,flags=0x80", vm, 1, 0x80, 0x200000, 0x1000, ua + M2);
	REGION("slot=1,flags=0x8000", vm, 1, 0x8000, 0x200000, 0x1000, ua + M2);
	REGION("slot=1,flags=GUEST_MEMFD", vm, 1, KVM_MEM_GUEST_MEMFD, 0x200000, 0x1000, ua + M2);
	REGION("slot=limit", vm, lim, 0, 0x800000, 0x1000, ua + M2);
	REGION("slot=limit+1", vm, lim + 1, 0, 0x800000, 0x1000, ua + M2);
	REGION("slot=0xffff", vm, 0xffff, 0, 0x800000, 0x1000, ua + M2);
	REGION("slot=limit-1", vm, lim - 1, 0, 0x800000, 0x1000, ua + M2);
	REGION("slot=limit-1,delete", vm, lim - 1, 0, 0x800000, 0, ua + M2);
	REGION("slot=1,overlap_slot0", vm, 1, 0, 0x100000, M2, ua + M2);
	REGION("slot=1,overlap_inside_slot0", vm, 1, 0, 0x1000, 0x1000, ua + M2);
	REGION("slot=1,gpa_overflow", vm, 1, 0, 0xfffffffffffff000ULL, 0x2000, ua + M2);
	REGION("slot=1,uaddr=kernel", vm, 1, 0, 0x200000, 0x1000, 0xffff880000000000ULL);
	REGION("slot=1,uaddr_overflow", vm, 1, 0, 0x200000, 0x2000, 0xfffffffffffff000ULL);
	REGION("slot=1,size=1<<50", vm, 1, 0, 0x200000, 1ULL << 50, ua + M2);
	REGION("slot=1,size=0(new)", vm, 1, 0, 0x200000, 0, ua + M2);
	REGION("slot=1,gpa=2M,adjacent", vm, 1, 0, M2, M2, ua + M2);
	REGION("slot=1,resize", vm, 1, 0, M2, 0x1000, ua + M2);
	REGION("slot=1,change_uaddr", vm, 1, 0, M2, M2, ua + 2 * M2);
	REGION("slot=1,move_gpa=6M", vm, 1, 0, 3 * M2, M2, ua + M2);
	REGION("slot=1,move_onto_slot0", vm, 1, 0, 0, M2, ua + M2);
	REGION("slot=1,flags=LOG_DIRTY", vm, 1, KVM_MEM_LOG_DIRTY_PAGES, 3 * M2, M2, ua + M2);
	REGION("slot=1,flags=0_again", vm, 1, 0, 3 * M2, M2, ua + M2);
	REGION("slot=1,same_again", vm, 1, 0, 3 * M2, M2, ua + M2);
	REGION("slot=1,delete", vm, 1, 0, 3 * M2, 0, ua + M2);
	REGION("slot=1,delete_again", vm, 1, 0, 3 * M2, 0, ua + M2);
	REGION("slot=5,delete_never_created", vm, 5, 0, 0, 0, 0);
	REGION("slot=2,shared_uaddr_with_slot0", vm, 2, 0, 4 * M2, M2, ua);
	REGION("slot=2,delete", vm, 2, 0, 0, 0, 0);
	IOC("vm.set_user_memory_region(NULL)", vm, KVM_SET_USER_MEMORY_REGION, NULL);
	IOC("vm.set_user_memory_region(ptr=1)", vm, KVM_SET_USER_MEMORY_REGION, BAD_PTR);

	struct probe_region2 r2;
	memset(&r2, 0, sizeof r2);
	r2.slot = 3;
	r2.guest_phys_addr = 5 * M2;
	r2.memory_size = M2;
	r2.userspace_addr = ua + 2 * M2;
	IOC("vm.set_user_memory_region2(slot=3)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	r2.memory_size = 0;
	IOC("vm.set_user_memory_region2(slot=3,delete)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	r2.memory_size = M2;
	r2.pad1 = 1;
	IOC("vm.set_user_memory_region2(pad1=1)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	r2.pad1 = 0;
	r2.pad2[13] = 1;
	IOC("vm.set_user_memory_region2(pad2[13]=1)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	r2.pad2[13] = 0;
	r2.flags = KVM_MEM_GUEST_MEMFD;
	IOC("vm.set_user_memory_region2(flags=GUEST_MEMFD)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	r2.flags = 0;
	r2.guest_phys_addr = 0x1000;
	IOC("vm.set_user_memory_region2(overlap_slot0)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	IOC("vm.set_user_memory_region2(NULL)", vm, KVM_SET_USER_MEMORY_REGION2, NULL);
	r2.guest_phys_addr = 5 * M2;
	r2.memory_size = 0;
	IOC("vm.set_user_memory_region2(slot=3,delete_final)", vm, KVM_SET_USER_MEMORY_REGION2, &r2);
	REGION("slot=0,delete", vm, 0, 0, 0, 0, ua);
	munmap(mem, 4 * M2);
}

static void stats_header_and_descs(int sfd, const char *prefix)
{
	struct kvm_stats_header h;
	ssize_t n = pread(sfd, &h, sizeof h, 0);
	if (n != (ssize_t)sizeof h) {
		line("%s.header = read %zd %s", prefix, n, n < 0 ? errname(errno) : "short");
		return;
	}
	line("%s.header = flags %u, name_size %u, num_desc %u", prefix, h.flags, h.name_size, h.num_desc);
	if (h.name_size == 0 || h.name_size > 1024 || h.num_desc > 4096) {
		line("%s.header = implausible", prefix);
		return;
	}
	/* Id string: "kvm-<pid>", pid masked. */
	char *id = calloc(1, h.name_size + 1);
	if (pread(sfd, id, h.name_size, h.id_offset) == (ssize_t)h.name_size) {
		char *dash = strrchr(id, '-');
		if (dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1) &&
		    strtol(dash + 1, NULL, 10) == (long)getpid())
			line("%s.id = %.*s<pid>", prefix, (int)(dash + 1 - id), id);
		else
			line("%s.id = %s (not kvm-<this pid>)", prefix, id);
	} else {
		line("%s.id = read failed", prefix);
	}
	free(id);

	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	char *descs = calloc(h.num_desc, dsz);
	if (pread(sfd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc)) {
		line("%s.descs = read failed", prefix);
		free(descs);
		return;
	}
	for (unsigned i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);
		uint64_t v = 0;
		ssize_t got = -1;
		if (d->size >= 1)
			got = pread(sfd, &v, sizeof v, h.data_offset + d->offset);
		line("%s.desc[%u] = %.*s flags 0x%x exponent %d size %u bucket_size %u value %s", prefix, i,
		     (int)h.name_size, d->name, d->flags, d->exponent, d->size, d->bucket_size,
		     got == (ssize_t)sizeof v ? fmt("%" PRIu64, v) : "unreadable");
	}
	/* Readers must find stats by name: look some up and report what they hold. */
	static const char *want[] = {"pages_4k", "pages_2m", "pages_1g", "nx_lpage_splits",
				     "max_mmu_rmap_size", "no_such_stat"};
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		unsigned i;
		for (i = 0; i < h.num_desc; i++) {
			struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);
			if (!strncmp(d->name, want[w], h.name_size))
				break;
		}
		if (i == h.num_desc) {
			line("%s.find(%s) = absent", prefix, want[w]);
			continue;
		}
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);
		uint64_t v = ~0ULL;
		pread(sfd, &v, sizeof v, h.data_offset + d->offset);
		line("%s.find(%s) = flags 0x%x size %u value %" PRIu64, prefix, want[w], d->flags, d->size, v);
	}
	free(descs);

	/* read() from the start gives the header too; the file offset moves. */
	struct kvm_stats_header h2;
	memset(&h2, 0xa5, sizeof h2);
	lseek(sfd, 0, SEEK_SET);
	n = read(sfd, &h2, sizeof h2);
	line("%s.read(header) = %s", prefix,
	     n == (ssize_t)sizeof h2 ? (memcmp(&h, &h2, sizeof h) ? "differs from pread" : "same as pread")
				     : fmt("%zd", n));
	IOC(fmt("%s.ioctl(KVM_GET_STATS_FD)", prefix), sfd, KVM_GET_STATS_FD, 0UL);
	IOC(fmt("%s.ioctl(KVM_CHECK_EXTENSION)", prefix), sfd, KVM_CHECK_EXTENSION, 1UL);
}

static void section_vm(void)
{
	int sys = open_system();
	int vm = create_vm(sys);
	line("vm.create = ok");
	line("vm.cloexec = %d", cloexec_of(vm));
	IOC("vm.check_extension(216)", vm, KVM_CHECK_EXTENSION, (long)CAP_SEED_NX);
	IOC("vm.check_extension(220)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	IOC("vm.check_extension(NR_MEMSLOTS)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_NR_MEMSLOTS);
	IOC("vm.check_extension(MAX_VCPUS)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_MAX_VCPUS);
	IOC("vm.check_extension(BINARY_STATS_FD)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_BINARY_STATS_FD);
	IOC("vm.check_extension(ENABLE_CAP)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_ENABLE_CAP);
	IOC("vm.check_extension(100000)", vm, KVM_CHECK_EXTENSION, 100000L);

	/* Stats of a fresh VM, before anything could change the counters. */
	errno = 0;
	int sfd = ioctl(vm, KVM_GET_STATS_FD, 0UL);
	report_fd("vm.get_stats_fd", sfd, errno);
	if (sfd >= 0) {
		line("vm.stats.cloexec = %d", cloexec_of(sfd));
		stats_header_and_descs(sfd, "vm.stats");
		int sfd2 = ioctl(vm, KVM_GET_STATS_FD, 0UL);
		report_fd("vm.get_stats_fd(second)", sfd2, errno);
		if (sfd2 >= 0)
			close(sfd2);
		close(sfd);
	}

	/* The NX capability, in the oracle's order. */
	ENCAP("vm.enable_cap(220,args0=1)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 1);
	ENCAP("vm.enable_cap(220,args0=0)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	ENCAP("vm.enable_cap(220,args0=0,again)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	ENCAP("vm.enable_cap(216,args0=0)", vm, CAP_SEED_NX, 0);
	ENCAP("vm.enable_cap(100000,args0=0)", vm, 100000, 0);
	struct kvm_enable_cap c;
	memset(&c, 0, sizeof c);
	c.cap = KVM_CAP_VM_DISABLE_NX_HUGE_PAGES;
	c.flags = 1;
	IOC("vm.enable_cap(220,flags=1)", vm, KVM_ENABLE_CAP, &c);
	IOC("vm.enable_cap(ptr=1)", vm, KVM_ENABLE_CAP, BAD_PTR);
	IOC("vm.enable_cap(NULL)", vm, KVM_ENABLE_CAP, NULL);

	/* vCPUs. */
	errno = 0;
	long v0 = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	report_fd("vm.create_vcpu(0)", v0, errno);
	if (v0 >= 0)
		line("vm.create_vcpu(0).cloexec = %d", cloexec_of(v0));
	/* After the first vCPU exists the capability can no longer change. */
	ENCAP("vm.enable_cap(220,args0=0,after_vcpu)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	errno = 0;
	long r = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	report_fd("vm.create_vcpu(0,duplicate)", r, errno);
	if (r >= 0)
		close(r);
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, (unsigned long)g_max_vcpu_id);
	report_fd("vm.create_vcpu(MAX_VCPU_ID)", r, errno);
	if (r >= 0)
		close(r);
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, (unsigned long)g_max_vcpu_id - 1);
	report_fd("vm.create_vcpu(MAX_VCPU_ID-1)", r, errno);
	if (r >= 0)
		close(r);
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, ~0UL);
	report_fd("vm.create_vcpu(~0UL)", r, errno);
	if (r >= 0)
		close(r);
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, 0x100000000UL);
	report_fd("vm.create_vcpu(1<<32)", r, errno);
	if (r >= 0)
		close(r);
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, 1UL);
	report_fd("vm.create_vcpu(1)", r, errno);
	if (r >= 0)
		close(r);
	/* The id of a closed vCPU stays taken: the vCPU lives as long as the VM. */
	errno = 0;
	r = ioctl(vm, KVM_CREATE_VCPU, 1UL);
	report_fd("vm.create_vcpu(1,after_close)", r, errno);
	if (r >= 0)
		close(r);

	memslots(vm);

	/* Wrong scope and unknown requests on the VM fd. */
	IOC("vm.get_api_version", vm, KVM_GET_API_VERSION, 0UL);
	IOC("vm.get_vcpu_mmap_size", vm, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	IOC("vm.create_vm", vm, KVM_CREATE_VM, 0UL);
	IOC("vm.get_regs(NULL)", vm, KVM_GET_REGS, NULL);
	IOC("vm.get_mp_state(NULL)", vm, KVM_GET_MP_STATE, NULL);
	IOC("vm.run", vm, KVM_RUN, 0UL);
	IOC("vm.unknown_ioctl(_IO(KVMIO,0xfe))", vm, PROBE_UNKNOWN_IO, 0UL);
	IOC("vm.unknown_ioctl(_IOWR(KVMIO,0xfe,64))", vm, PROBE_UNKNOWN_IOWR, 0UL);

	/* Wrong scope on the vCPU fd. */
	if (v0 >= 0) {
		IOC("vcpu_fd.create_vcpu(2)", v0, KVM_CREATE_VCPU, 2UL);
		IOC("vcpu_fd.enable_cap(ptr=1)", v0, KVM_ENABLE_CAP, BAD_PTR);
		/* More wrong-scope requests on a vCPU fd: section vcpu, and ext. */
		close(v0);
	}
	close(vm);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* vcpu */

static void print_regs(const char *p, const struct kvm_regs *r)
{
	line("%s = rax %llx rbx %llx rcx %llx rdx %llx rsi %llx rdi %llx rsp %llx rbp %llx", p, r->rax,
	     r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp);
	line("%s = r8 %llx r9 %llx r10 %llx r11 %llx r12 %llx r13 %llx r14 %llx r15 %llx", p, r->r8, r->r9,
	     r->r10, r->r11, r->r12, r->r13, r->r14, r->r15);
	line("%s = rip %llx rflags %llx", p, r->rip, r->rflags);
}

static void print_seg(const char *p, const char *n, const struct kvm_segment *s)
{
	line("%s.%s = base %llx limit %x selector %x type %u present %u dpl %u db %u s %u l %u g %u avl %u "
	     "unusable %u",
	     p, n, s->base, s->limit, s->selector, s->type, s->present, s->dpl, s->db, s->s, s->l, s->g,
	     s->avl, s->unusable);
}

static void print_sregs(const char *p, const struct kvm_sregs *s)
{
	print_seg(p, "cs", &s->cs);
	print_seg(p, "ds", &s->ds);
	print_seg(p, "es", &s->es);
	print_seg(p, "fs", &s->fs);
	print_seg(p, "gs", &s->gs);
	print_seg(p, "ss", &s->ss);
	print_seg(p, "tr", &s->tr);
	print_seg(p, "ldt", &s->ldt);
	line("%s.gdt = base %llx limit %x", p, s->gdt.base, s->gdt.limit);
	line("%s.idt = base %llx limit %x", p, s->idt.base, s->idt.limit);
	line("%s.cr = cr0 %llx cr2 %llx cr3 %llx cr4 %llx cr8 %llx efer %llx apic_base %llx", p, s->cr0,
	     s->cr2, s->cr3, s->cr4, s->cr8, s->efer, s->apic_base);
	int pending = 0;
	for (size_t i = 0; i < sizeof s->interrupt_bitmap / sizeof s->interrupt_bitmap[0]; i++)
		pending |= s->interrupt_bitmap[i] != 0;
	line("%s.interrupt_bitmap = %s", p, pending ? "nonzero" : "zero");
}

static void print_events(const char *p, const struct kvm_vcpu_events *e)
{
	int reserved_zero = 1;
	for (unsigned i = 0; i < sizeof e->reserved; i++)
		reserved_zero &= e->reserved[i] == 0;
	line("%s = flags %x exception %u/%u/%u/%u nr %u irq %u/%u/%u/%u nmi %u/%u/%u sipi %x smi %u/%u/%u/%u "
	     "triple_fault %u payload %u/%llx reserved %s",
	     p, e->flags, e->exception.injected, e->exception.pending, e->exception.has_error_code,
	     e->exception.error_code, e->exception.nr, e->interrupt.injected, e->interrupt.nr, e->interrupt.soft,
	     e->interrupt.shadow, e->nmi.injected, e->nmi.pending, e->nmi.masked, e->sipi_vector, e->smi.smm,
	     e->smi.pending, e->smi.smm_inside_nmi, e->smi.latched_init, e->triple_fault.pending,
	     e->exception_has_payload, (unsigned long long)e->exception_payload, reserved_zero ? "zero" : "set");
}

static void print_xsave(const char *p, const struct kvm_xsave *x)
{
	const unsigned char *b = (const unsigned char *)x->region;
	uint16_t fcw;
	uint32_t mxcsr, mask;
	uint64_t bv, xcomp;
	int reserved = 0;
	memcpy(&fcw, b, 2);
	memcpy(&mxcsr, b + 24, 4);
	memcpy(&mask, b + 28, 4);
	memcpy(&bv, b + 512, 8);
	memcpy(&xcomp, b + 520, 8);
	for (unsigned i = 528; i < 576; i++)
		reserved |= b[i];
	line("%s = fcw %x mxcsr %x mask %x xmm0[0] %x xstate_bv %llx xcomp_bv %llx header_reserved %s", p, fcw,
	     mxcsr, mask, b[160], (unsigned long long)(bv & 3), (unsigned long long)xcomp, reserved ? "set" : "zero");
}

static void print_debugregs(const char *p, const struct kvm_debugregs *d)
{
	int reserved_zero = 1;
	for (unsigned i = 0; i < 9; i++)
		reserved_zero &= d->reserved[i] == 0;
	line("%s = db %llx %llx %llx %llx dr6 %llx dr7 %llx flags %llx reserved %s", p,
	     (unsigned long long)d->db[0], (unsigned long long)d->db[1], (unsigned long long)d->db[2],
	     (unsigned long long)d->db[3], (unsigned long long)d->dr6, (unsigned long long)d->dr7,
	     (unsigned long long)d->flags, reserved_zero ? "zero" : "set");
}

static void section_vcpu(void)
{
	int sys = open_system();
	int vm = create_vm(sys);
	long mmap_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	errno = 0;
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	report_fd("vcpu.create(0)", vcpu, errno);
	if (vcpu < 0) {
		close(vm);
		close(sys);
		return;
	}
	line("vcpu.cloexec = %d", cloexec_of(vcpu));

	errno = 0;
	void *run = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	line("vcpu.mmap(12288) = %s", run == MAP_FAILED ? fmt("-1 %s", errname(errno)) : "ok");
	line("vcpu.mmap_size_matches = %s", mmap_size == 12288 ? "yes" : fmt("no (%ld)", mmap_size));
	if (run != MAP_FAILED) {
		struct kvm_run *kr = run;
		line("vcpu.kvm_run = exit_reason %u request_interrupt_window %u immediate_exit %u if_flag %u "
		     "ready_for_interrupt_injection %u flags %x cr8 %llx apic_base %llx",
		     kr->exit_reason, kr->request_interrupt_window, kr->immediate_exit, kr->if_flag,
		     kr->ready_for_interrupt_injection, kr->flags, kr->cr8, kr->apic_base);
		/* Both sides share the page: what we write stays visible through a second mapping. */
		kr->immediate_exit = 1;
		void *run2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vcpu, 0);
		if (run2 != MAP_FAILED) {
			line("vcpu.kvm_run.shared = %s",
			     ((struct kvm_run *)run2)->immediate_exit == 1 ? "yes" : "no");
			munmap(run2, 4096);
		} else {
			line("vcpu.kvm_run.shared = mmap failed %s", errname(errno));
		}
		kr->immediate_exit = 0;
		munmap(run, 12288);
	}
	errno = 0;
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, vcpu, 0);
	line("vcpu.mmap(4096,MAP_PRIVATE) = %s", ro == MAP_FAILED ? fmt("-1 %s", errname(errno)) : "ok");
	if (ro != MAP_FAILED)
		munmap(ro, 4096);

	struct kvm_regs regs, regs2;
	memset(&regs, 0, sizeof regs);
	IOC("vcpu.get_regs", vcpu, KVM_GET_REGS, &regs);
	print_regs("vcpu.regs.initial", &regs);
	for (int i = 0; i < 16; i++)
		((uint64_t *)&regs)[i] = 0x1111111111111111ULL * (uint64_t)(i + 1) ^ 0x0123456789abcdefULL;
	regs.rip = 0x1000;
	regs.rflags = 0x2 | 0x200 | 0x1; /* reserved bit 1, IF, CF */
	IOC("vcpu.set_regs", vcpu, KVM_SET_REGS, &regs);
	memset(&regs2, 0, sizeof regs2);
	IOC("vcpu.get_regs(after_set)", vcpu, KVM_GET_REGS, &regs2);
	line("vcpu.regs.roundtrip = %s", memcmp(&regs, &regs2, sizeof regs) ? "differs" : "equal");
	if (memcmp(&regs, &regs2, sizeof regs))
		print_regs("vcpu.regs.after_set", &regs2);
	IOC("vcpu.get_regs(ptr=1)", vcpu, KVM_GET_REGS, BAD_PTR);
	IOC("vcpu.set_regs(NULL)", vcpu, KVM_SET_REGS, NULL);

	struct kvm_sregs sregs, sregs2;
	memset(&sregs, 0, sizeof sregs);
	IOC("vcpu.get_sregs", vcpu, KVM_GET_SREGS, &sregs);
	print_sregs("vcpu.sregs.initial", &sregs);
	sregs.cs.base = 0x10000;
	sregs.cs.selector = 0x1000;
	sregs.ds.base = 0x20000;
	sregs.ds.selector = 0x2000;
	IOC("vcpu.set_sregs", vcpu, KVM_SET_SREGS, &sregs);
	memset(&sregs2, 0, sizeof sregs2);
	IOC("vcpu.get_sregs(after_set)", vcpu, KVM_GET_SREGS, &sregs2);
	line("vcpu.sregs.roundtrip = %s", memcmp(&sregs, &sregs2, sizeof sregs) ? "differs" : "equal");
	if (memcmp(&sregs, &sregs2, sizeof sregs))
		print_sregs("vcpu.sregs.after_set", &sregs2);
	IOC("vcpu.get_sregs(ptr=1)", vcpu, KVM_GET_SREGS, BAD_PTR);

	struct kvm_mp_state mp = {.mp_state = 0xff};
	IOC("vcpu.get_mp_state", vcpu, KVM_GET_MP_STATE, &mp);
	line("vcpu.mp_state.initial = %u", mp.mp_state);
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	IOC("vcpu.set_mp_state(RUNNABLE)", vcpu, KVM_SET_MP_STATE, &mp);
	mp.mp_state = KVM_MP_STATE_HALTED;
	IOC("vcpu.set_mp_state(HALTED)", vcpu, KVM_SET_MP_STATE, &mp);
	mp.mp_state = 1000;
	IOC("vcpu.set_mp_state(1000)", vcpu, KVM_SET_MP_STATE, &mp);
	mp.mp_state = 0xff;
	IOC("vcpu.get_mp_state(again)", vcpu, KVM_GET_MP_STATE, &mp);
	line("vcpu.mp_state.after_set = %u", mp.mp_state);
	IOC("vcpu.get_mp_state(NULL)", vcpu, KVM_GET_MP_STATE, NULL);

	/* CPUID: a small synthetic table, so nothing depends on the host CPU. */
	const unsigned cap = 8;
	struct kvm_cpuid2 *c = calloc(1, sizeof *c + cap * sizeof(struct kvm_cpuid_entry2));
	struct kvm_cpuid2 *g = calloc(1, sizeof *g + cap * sizeof(struct kvm_cpuid_entry2));
	if (!c || !g)
		die("out of memory");
	c->nent = 0;
	IOC("vcpu.get_cpuid2(before_set,nent=0)", vcpu, KVM_GET_CPUID2, c);
	line("vcpu.get_cpuid2(before_set).nent = %u", c->nent);
	c->nent = 2;
	c->entries[0].function = 0;
	c->entries[0].eax = 1;
	c->entries[0].ebx = 0x756e6547; /* "GenuineIntel" */
	c->entries[0].edx = 0x49656e69;
	c->entries[0].ecx = 0x6c65746e;
	c->entries[1].function = 1;
	c->entries[1].eax = 0x000306a9;
	c->entries[1].ebx = 0;
	c->entries[1].ecx = 0;
	c->entries[1].edx = 0x00000001; /* FPU only */
	IOC("vcpu.set_cpuid2(2_entries)", vcpu, KVM_SET_CPUID2, c);
	g->nent = 1;
	errno = 0;
	long r = ioctl(vcpu, KVM_GET_CPUID2, g);
	line("vcpu.get_cpuid2(nent=1) = %s, nent = %u", r < 0 ? fmt("-1 %s", errname(errno)) : fmt("%ld", r),
	     g->nent);
	g->nent = cap;
	IOC("vcpu.get_cpuid2(nent=8)", vcpu, KVM_GET_CPUID2, g);
	/* Real KVM may adjust what was set (mainline: APIC/OSXSAVE bits of leaf 1; this PVM host
	 * even returns the host's leaf-1 ECX/EDX and adds leaf 0xD): print only what must survive. */
	line("vcpu.get_cpuid2.nent>=2 = %s", g->nent >= 2 && g->nent <= cap ? "yes" : fmt("no (%u)", g->nent));
	for (unsigned i = 0; i < g->nent && i < cap; i++) {
		struct kvm_cpuid_entry2 *e = &g->entries[i];
		if (e->function == 0)
			line("vcpu.get_cpuid2.leaf0 = index %x flags %x eax %x ebx %x ecx %x edx %x", e->index,
			     e->flags, e->eax, e->ebx, e->ecx, e->edx);
		if (e->function == 1)
			line("vcpu.get_cpuid2.leaf1 = index %x flags %x eax %x ebx %x", e->index, e->flags, e->eax,
			     e->ebx);
	}
	c->nent = 100000;
	IOC("vcpu.set_cpuid2(nent=100000)", vcpu, KVM_SET_CPUID2, c);
	IOC("vcpu.set_cpuid2(NULL)", vcpu, KVM_SET_CPUID2, NULL);
	IOC("vcpu.get_cpuid2(ptr=1)", vcpu, KVM_GET_CPUID2, BAD_PTR);
	free(c);
	free(g);

	/* XSAVE: the x87 and SSE components and the header checks (AVX and later are host-dependent). */
	static struct kvm_xsave xs, xs2;
	memset(&xs, 0xcc, sizeof xs);
	IOC("vcpu.get_xsave", vcpu, KVM_GET_XSAVE, &xs);
	print_xsave("vcpu.xsave.initial", &xs);
	static const struct {
		const char *name;
		unsigned offset;
		unsigned char value;
	} xscases[] = {
		{"unchanged", 0, 0x7f},        {"xcomp_bv", 527, 0x80}, {"header_reserved", 530, 1},
		{"bv=0,mxcsr_reserved", 26, 1},
	};
	for (unsigned i = 0; i < sizeof xscases / sizeof xscases[0]; i++) {
		xs2 = xs;
		((unsigned char *)xs2.region)[xscases[i].offset] = xscases[i].value;
		IOC(fmt("vcpu.set_xsave(%s)", xscases[i].name), vcpu, KVM_SET_XSAVE, &xs2);
	}
	xs2 = xs;
	((unsigned char *)xs2.region)[512] = 1; /* x87 only */
	((unsigned char *)xs2.region)[1] = 0x02; /* FCW 0x27f */
	((unsigned char *)xs2.region)[160] = 0x55; /* XMM0: not loaded */
	IOC("vcpu.set_xsave(bv=1,fcw=27f,xmm0=55)", vcpu, KVM_SET_XSAVE, &xs2);
	memset(&xs2, 0xcc, sizeof xs2);
	IOC("vcpu.get_xsave(after_bv1)", vcpu, KVM_GET_XSAVE, &xs2);
	print_xsave("vcpu.xsave.after_bv1", &xs2);
	xs2 = xs;
	((unsigned char *)xs2.region)[512] = 2; /* SSE only */
	((unsigned char *)xs2.region)[1] = 0x00; /* FCW 0x7f: not loaded */
	((unsigned char *)xs2.region)[160] = 0x66;
	IOC("vcpu.set_xsave(bv=2,fcw=7f,xmm0=66)", vcpu, KVM_SET_XSAVE, &xs2);
	memset(&xs2, 0xcc, sizeof xs2);
	IOC("vcpu.get_xsave(after_bv2)", vcpu, KVM_GET_XSAVE, &xs2);
	print_xsave("vcpu.xsave.after_bv2", &xs2);
	IOC("vcpu.get_xsave(ptr=1)", vcpu, KVM_GET_XSAVE, BAD_PTR);

	/* Events and debug registers, as a VMM saves and restores them. */
	struct kvm_vcpu_events ev;
	memset(&ev, 0xcc, sizeof ev);
	IOC("vcpu.get_vcpu_events", vcpu, KVM_GET_VCPU_EVENTS, &ev);
	print_events("vcpu.vcpu_events.initial", &ev);
	static const struct {
		const char *name;
		uint32_t flags;
		int what;
	} evcases[] = {
		{"zero", 0, 0},           {"flags=0x40", 0x40, 0}, {"payload", KVM_VCPUEVENT_VALID_PAYLOAD, 0},
		{"exception(nr=32)", 0, 1}, {"exception(nr=2)", 0, 2}, {"smm", KVM_VCPUEVENT_VALID_SMM, 3},
		{"triple_fault", KVM_VCPUEVENT_VALID_TRIPLE_FAULT, 0}, {"pending_exception", 0, 4},
		{"shadow+nmi_masked", KVM_VCPUEVENT_VALID_SHADOW, 5},
	};
	for (unsigned i = 0; i < sizeof evcases / sizeof evcases[0]; i++) {
		memset(&ev, 0, sizeof ev);
		ev.flags = evcases[i].flags;
		switch (evcases[i].what) {
		case 1: ev.exception.injected = 1; ev.exception.nr = 32; break;
		case 2: ev.exception.injected = 1; ev.exception.nr = 2; break;
		case 3: ev.smi.smm = 1; break;
		case 4: ev.exception.pending = 1; ev.exception.nr = 13; break;
		case 5: ev.interrupt.shadow = 1; ev.nmi.masked = 1; break;
		}
		IOC(fmt("vcpu.set_vcpu_events(%s)", evcases[i].name), vcpu, KVM_SET_VCPU_EVENTS, &ev);
	}
	memset(&ev, 0xcc, sizeof ev);
	IOC("vcpu.get_vcpu_events(after_set)", vcpu, KVM_GET_VCPU_EVENTS, &ev);
	print_events("vcpu.vcpu_events.after_set", &ev);
	IOC("vcpu.set_vcpu_events(NULL)", vcpu, KVM_SET_VCPU_EVENTS, NULL);
	IOC("vcpu.get_vcpu_events(ptr=1)", vcpu, KVM_GET_VCPU_EVENTS, BAD_PTR);

	struct kvm_debugregs dr;
	memset(&dr, 0xcc, sizeof dr);
	IOC("vcpu.get_debugregs", vcpu, KVM_GET_DEBUGREGS, &dr);
	print_debugregs("vcpu.debugregs.initial", &dr);
	memset(&dr, 0, sizeof dr);
	dr.dr6 = 0xffff0ff0;
	dr.dr7 = 0x400;
	dr.flags = 1;
	IOC("vcpu.set_debugregs(flags=1)", vcpu, KVM_SET_DEBUGREGS, &dr);
	dr.flags = 0;
	dr.dr6 = 1ULL << 32;
	IOC("vcpu.set_debugregs(dr6>>32)", vcpu, KVM_SET_DEBUGREGS, &dr);
	dr.dr6 = 0xffff0ff0;
	dr.dr7 = 1ULL << 32;
	IOC("vcpu.set_debugregs(dr7>>32)", vcpu, KVM_SET_DEBUGREGS, &dr);
	dr.db[0] = 0x1234;
	dr.db[3] = 0xfff000;
	dr.dr6 = 0xffff0ff1;
	dr.dr7 = 0x401;
	dr.reserved[0] = 7;
	IOC("vcpu.set_debugregs(db0,db3,dr6,dr7,reserved)", vcpu, KVM_SET_DEBUGREGS, &dr);
	memset(&dr, 0xcc, sizeof dr);
	IOC("vcpu.get_debugregs(after_set)", vcpu, KVM_GET_DEBUGREGS, &dr);
	print_debugregs("vcpu.debugregs.after_set", &dr);
	IOC("vcpu.set_debugregs(NULL)", vcpu, KVM_SET_DEBUGREGS, NULL);

	/* Wrong-scope and unknown KVM requests on a vCPU fd: kvm_vcpu_ioctl() says EINVAL. */
	IOC("vcpu_fd.check_extension(220)", vcpu, KVM_CHECK_EXTENSION, (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	IOC("vcpu_fd.get_api_version", vcpu, KVM_GET_API_VERSION, 0UL);
	/* (A wrong-scope request that carries a struct, with a bad pointer: in section ext.) */
	IOC("vcpu_fd.unknown_ioctl(_IO(KVMIO,0xfe))", vcpu, PROBE_UNKNOWN_IO, 0UL);
	close(vcpu);
	close(vm);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* nocap: the ENABLE_CAP checks whose answer depends on the caller's privilege. */

static void section_nocap(void)
{
	int sys = open_system();
	int vm = create_vm(sys);
	line("nocap.cap_sys_boot_in_own_namespace = %d", has_cap_sys_boot());
	ENCAP("nocap.vm.enable_cap(220,args0=1)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 1);
	ENCAP("nocap.vm.enable_cap(220,args0=0)", vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	ENCAP("nocap.vm.enable_cap(216,args0=0)", vm, CAP_SEED_NX, 0);
	IOC("nocap.vm.check_extension(220)", vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	IOC("nocap.system.check_extension(220)", sys, KVM_CHECK_EXTENSION,
	    (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	close(vm);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* fds: lifetime and ownership of VM, vCPU and stats fds. */

struct fds_ctx {
	int sys, vm, vcpu, sfd;
};

static int child_uses_parent_fds(void *arg)
{
	struct fds_ctx *c = arg;
	IOC("fds.child.system.get_api_version", c->sys, KVM_GET_API_VERSION, 0UL);
	IOC("fds.child.vm.check_extension(220)", c->vm, KVM_CHECK_EXTENSION,
	    (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	ENCAP("fds.child.vm.enable_cap(220,args0=0)", c->vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	errno = 0;
	long r = ioctl(c->vm, KVM_CREATE_VCPU, 5UL);
	report_fd("fds.child.vm.create_vcpu(5)", r, errno);
	struct kvm_regs regs;
	IOC("fds.child.vcpu.get_regs", c->vcpu, KVM_GET_REGS, &regs);
	struct kvm_stats_header h;
	ssize_t n = pread(c->sfd, &h, sizeof h, 0);
	line("fds.child.stats.pread(header) = %s", n == (ssize_t)sizeof h ? "ok" : fmt("%zd", n));
	/* The system fd works from any process: a VM of our own is fine. */
	errno = 0;
	int vm = ioctl(c->sys, KVM_CREATE_VM, 0UL);
	report_fd("fds.child.system.create_vm", vm, errno);
	if (vm >= 0) {
		IOC("fds.child.own_vm.check_extension(220)", vm, KVM_CHECK_EXTENSION,
		    (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
		errno = 0;
		r = ioctl(vm, KVM_CREATE_VCPU, 0UL);
		report_fd("fds.child.own_vm.create_vcpu(0)", r, errno);
	}
	return 0;
}

struct thread_arg {
	int vm, vcpu;
	long r_ext, r_regs, r_vcpu;
	int e_ext, e_regs, e_vcpu;
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;
	struct kvm_regs regs;
	errno = 0;
	a->r_ext = ioctl(a->vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	a->e_ext = errno;
	errno = 0;
	a->r_regs = ioctl(a->vcpu, KVM_GET_REGS, &regs);
	a->e_regs = errno;
	errno = 0;
	a->r_vcpu = ioctl(a->vm, KVM_CREATE_VCPU, 7UL);
	a->e_vcpu = errno;
	if (a->r_vcpu >= 0)
		close((int)a->r_vcpu);
	return NULL;
}

static void section_fds(void)
{
	struct fds_ctx c;
	c.sys = open_system();
	c.vm = create_vm(c.sys);
	c.vcpu = ioctl(c.vm, KVM_CREATE_VCPU, 0UL);
	c.sfd = ioctl(c.vm, KVM_GET_STATS_FD, 0UL);
	line("fds.setup = %s", c.vcpu >= 0 && c.sfd >= 0 ? "ok" : "failed");
	if (c.vcpu < 0 || c.sfd < 0)
		return;
	line("fds.cloexec = vm %d vcpu %d stats %d", cloexec_of(c.vm), cloexec_of(c.vcpu), cloexec_of(c.sfd));

	/* Another thread of the same process is the same owner. */
	struct thread_arg ta = {.vm = c.vm, .vcpu = c.vcpu};
	pthread_t t;
	if (pthread_create(&t, NULL, thread_fn, &ta) == 0) {
		pthread_join(t, NULL);
		report("fds.thread.vm.check_extension(220)", ta.r_ext, ta.e_ext);
		report("fds.thread.vcpu.get_regs", ta.r_regs, ta.e_regs);
		report_fd("fds.thread.vm.create_vcpu(7)", ta.r_vcpu, ta.e_vcpu);
	}

	/* Another process holding the same open files is not the owner. */
	run_child("fds.fork", child_uses_parent_fds, &c);
	IOC("fds.parent_after_child.vm.check_extension(220)", c.vm, KVM_CHECK_EXTENSION,
	    (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);

	/* dup: the file lives until its last fd closes. */
	int vm2 = dup(c.vm);
	close(c.vm);
	IOC("fds.vm_dup_after_close_original.check_extension(220)", vm2, KVM_CHECK_EXTENSION,
	    (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	int fl = fcntl(vm2, F_GETFD);
	line("fds.vm_dup.cloexec = %d", fl < 0 ? -1 : !!(fl & FD_CLOEXEC));
	int vm3 = fcntl(vm2, F_DUPFD_CLOEXEC, 0);
	line("fds.vm_dupfd_cloexec.cloexec = %d", cloexec_of(vm3));
	close(vm3);
	close(vm2);

	/* The VM fd is gone; its vCPU and stats fds keep the VM alive. */
	struct kvm_regs regs;
	IOC("fds.vcpu_after_vm_close.get_regs", c.vcpu, KVM_GET_REGS, &regs);
	struct kvm_mp_state mp;
	IOC("fds.vcpu_after_vm_close.get_mp_state", c.vcpu, KVM_GET_MP_STATE, &mp);
	struct kvm_stats_header h;
	ssize_t n = pread(c.sfd, &h, sizeof h, 0);
	line("fds.stats_after_vm_close.pread(header) = %s",
	     n == (ssize_t)sizeof h ? fmt("ok num_desc %u", h.num_desc) : fmt("%zd", n));
	close(c.vcpu);
	n = pread(c.sfd, &h, sizeof h, 0);
	line("fds.stats_after_vm_and_vcpu_close.pread(header) = %s",
	     n == (ssize_t)sizeof h ? fmt("ok num_desc %u", h.num_desc) : fmt("%zd", n));
	close(c.sfd);

	/* Many VMs created and released: nothing leaks that would make creation fail. */
	int fails = 0;
	for (int i = 0; i < 64; i++) {
		int vm = ioctl(c.sys, KVM_CREATE_VM, 0UL);
		if (vm < 0) {
			fails++;
			continue;
		}
		int v = ioctl(vm, KVM_CREATE_VCPU, 0UL);
		int s = ioctl(vm, KVM_GET_STATS_FD, 0UL);
		if (v < 0 || s < 0)
			fails++;
		if (v >= 0)
			close(v);
		if (s >= 0)
			close(s);
		close(vm);
	}
	line("fds.create_release_64_vms = %d failures", fails);

	/* Several VMs at once are independent. */
	int a = create_vm(c.sys), b = create_vm(c.sys);
	ENCAP("fds.two_vms.a.enable_cap(220,args0=0)", a, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	long va = ioctl(a, KVM_CREATE_VCPU, 0UL);
	line("fds.two_vms.a.create_vcpu(0) = %s", va >= 0 ? "ok" : errname(errno));
	ENCAP("fds.two_vms.a.enable_cap(220,args0=0,after_vcpu)", a, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	ENCAP("fds.two_vms.b.enable_cap(220,args0=0)", b, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
	long vb = ioctl(b, KVM_CREATE_VCPU, 0UL);
	line("fds.two_vms.b.create_vcpu(0) = %s", vb >= 0 ? "ok" : errname(errno));
	if (va >= 0)
		close(va);
	if (vb >= 0)
		close(vb);
	close(a);
	close(b);
	close(c.sys);
}

/* ------------------------------------------------------------------------------------------ */
/* exitstatus: processes that end while holding VM, vCPU and stats fds. */

static void make_everything(const char *who)
{
	int sys = open_system();
	int vm = create_vm(sys);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	int sfd = ioctl(vm, KVM_GET_STATS_FD, 0UL);
	void *run = vcpu >= 0 ? mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0) : MAP_FAILED;
	line("exitstatus.%s.setup = %s", who, vcpu >= 0 && sfd >= 0 && run != MAP_FAILED ? "ok" : "failed");
}

static int child_exit7(void *arg)
{
	(void)arg;
	make_everything("exit7");
	return 7;
}

static int child_kill(void *arg)
{
	(void)arg;
	make_everything("sigkill");
	fflush(g_out);
	raise(SIGKILL);
	return 0;
}

static int child_exit_normally(void *arg)
{
	(void)arg;
	make_everything("exit0");
	fflush(g_out);
	exit(0);
}

static void *spin_ioctls(void *arg)
{
	int vm = *(int *)arg;
	for (;;)
		ioctl(vm, KVM_CHECK_EXTENSION, (long)KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
	return NULL;
}

/* One thread exits the process while another is in the middle of VM ioctls. */
static int child_exit_while_busy(void *arg)
{
	(void)arg;
	int sys = open_system();
	static int vm;
	vm = create_vm(sys);
	pthread_t t;
	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, spin_ioctls, &vm);
	usleep(50000);
	line("exitstatus.exit_while_busy.setup = ok");
	fflush(g_out);
	_exit(3);
}

static void section_exitstatus(void)
{
	run_child("exitstatus.exit7", child_exit7, NULL);
	run_child("exitstatus.sigkill", child_kill, NULL);
	run_child("exitstatus.exit0", child_exit_normally, NULL);
	run_child("exitstatus.exit_while_busy", child_exit_while_busy, NULL);
	/* The device still serves the parent afterwards. */
	int sys = open_system();
	errno = 0;
	long vm = ioctl(sys, KVM_CREATE_VM, 0UL);
	report_fd("exitstatus.after.create_vm", vm, errno);
	if (vm >= 0) {
		ENCAP("exitstatus.after.enable_cap(220,args0=0)", (int)vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 0);
		close((int)vm);
	}
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* hammer: many bad requests in a row; one summary line per kind of request. */

struct tally {
	const char *label;
	long n_calls;
	long first_r;
	int first_e;
	long n_diff;
};

static void tally_add(struct tally *t, long r, int e)
{
	if (t->n_calls++ == 0) {
		t->first_r = r;
		t->first_e = e;
	} else if (r != t->first_r || (r < 0 && e != t->first_e)) {
		t->n_diff++;
	}
}

static void section_hammer(void)
{
	enum { SYS_UNK, SYS_CPUID_EFAULT, SYS_BADVM, SYS_ENCAP, VM_ENCAP_EFAULT, VM_REGION_NULL, VM_REGION_UNAL,
	       VM_UNK, VM_ENCAP_ARG1, VM_VCPU_BAD, VM_REGION2_PAD, VCPU_REGS_EFAULT, VCPU_CPUID_BIG,
	       VCPU_MP_BAD, VCPU_UNK, VM_CREATE, N_KINDS };
	struct tally t[N_KINDS] = {
		[SYS_UNK] = {"hammer.system.unknown_ioctl"},
		[SYS_CPUID_EFAULT] = {"hammer.system.get_supported_cpuid(ptr=1)"},
		[SYS_BADVM] = {"hammer.system.create_vm(0xdead)"},
		[SYS_ENCAP] = {"hammer.system.enable_cap(ptr=1)"},
		[VM_ENCAP_EFAULT] = {"hammer.vm.enable_cap(ptr=1)"},
		[VM_REGION_NULL] = {"hammer.vm.set_user_memory_region(NULL)"},
		[VM_REGION_UNAL] = {"hammer.vm.set_user_memory_region(unaligned)"},
		[VM_UNK] = {"hammer.vm.unknown_ioctl"},
		[VM_ENCAP_ARG1] = {"hammer.vm.enable_cap(220,args0=1)"},
		[VM_VCPU_BAD] = {"hammer.vm.create_vcpu(~0UL)"},
		[VM_REGION2_PAD] = {"hammer.vm.set_user_memory_region2(flags=GUEST_MEMFD)"},
		[VCPU_REGS_EFAULT] = {"hammer.vcpu.get_regs(ptr=1)"},
		[VCPU_CPUID_BIG] = {"hammer.vcpu.set_cpuid2(nent=0x7fffffff)"},
		[VCPU_MP_BAD] = {"hammer.vcpu.set_mp_state(1000)"},
		[VCPU_UNK] = {"hammer.vcpu.get_sregs(ptr=1)"},
		[VM_CREATE] = {"hammer.system.create_vm_and_close"},
	};
	int sys = open_system();
	int vm = create_vm(sys);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
	if (vcpu < 0)
		die("hammer: KVM_CREATE_VCPU failed: %s", strerror(errno));
	struct kvm_userspace_memory_region mr = {.slot = 1, .guest_phys_addr = 0x1001, .memory_size = 0x1000,
						 .userspace_addr = 0x10000};
	struct probe_region2 r2;
	memset(&r2, 0, sizeof r2);
	r2.slot = 1;
	r2.memory_size = 0x1000;
	r2.userspace_addr = 0x10000;
	r2.flags = KVM_MEM_GUEST_MEMFD;
	struct kvm_cpuid2 cpuid = {.nent = 0x7fffffff};
	struct kvm_mp_state mp = {.mp_state = 1000};
#define H(kind, call)                                                                              \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = (call);                                                                  \
		tally_add(&t[kind], r_, errno);                                                    \
	} while (0)
	for (long i = 0; i < g_iterations; i++) {
		H(SYS_UNK, ioctl(sys, PROBE_UNKNOWN_IOWR, BAD_PTR));
		H(SYS_CPUID_EFAULT, ioctl(sys, KVM_GET_SUPPORTED_CPUID, BAD_PTR));
		H(SYS_BADVM, ioctl(sys, KVM_CREATE_VM, 0xdeadUL));
		H(SYS_ENCAP, ioctl(sys, KVM_ENABLE_CAP, BAD_PTR));
		H(VM_ENCAP_EFAULT, ioctl(vm, KVM_ENABLE_CAP, BAD_PTR));
		H(VM_REGION_NULL, ioctl(vm, KVM_SET_USER_MEMORY_REGION, NULL));
		H(VM_REGION_UNAL, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr));
		H(VM_UNK, ioctl(vm, PROBE_UNKNOWN_IOWR, BAD_PTR));
		H(VM_ENCAP_ARG1, enable_cap(vm, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, 1));
		H(VM_VCPU_BAD, ioctl(vm, KVM_CREATE_VCPU, ~0UL));
		H(VM_REGION2_PAD, ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r2));
		H(VCPU_REGS_EFAULT, ioctl(vcpu, KVM_GET_REGS, BAD_PTR));
		H(VCPU_CPUID_BIG, ioctl(vcpu, KVM_SET_CPUID2, &cpuid));
		H(VCPU_MP_BAD, ioctl(vcpu, KVM_SET_MP_STATE, &mp));
		H(VCPU_UNK, ioctl(vcpu, KVM_GET_SREGS, BAD_PTR));
		if (i % 16 == 0) {
			long v = ioctl(sys, KVM_CREATE_VM, 0UL);
			int e = errno;
			if (v >= 0)
				close((int)v);
			tally_add(&t[VM_CREATE], v >= 0 ? 0 : v, e);
		}
	}
#undef H
	for (int k = 0; k < N_KINDS; k++) {
		struct tally *x = &t[k];
		line("%s = %s%s", x->label,
		     x->first_r < 0 ? fmt("-1 %s", errname(x->first_e)) : fmt("%ld", x->first_r),
		     x->n_diff ? fmt(" (%ld calls answered differently)", x->n_diff) : "");
	}
	close(vcpu);
	close(vm);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */
/* ext: informational only; real KVM features an emulation may deliberately not model. */

static void section_ext(void)
{
	int sys = open_system();
	for (size_t i = 0; i < sizeof ext_caps / sizeof ext_caps[0]; i++)
		IOC(fmt("ext.system.check_extension(%s)", ext_caps[i].name), sys, KVM_CHECK_EXTENSION,
		    ext_caps[i].cap);
	errno = 0;
	long vm = ioctl(sys, KVM_CREATE_VM, 1UL);
	report_fd("ext.system.create_vm(1)", vm, errno);
	if (vm >= 0)
		close((int)vm);
	int v = create_vm(sys);
	char *mem = xmmap_anon(0x200000);
	int e;
	long r = set_region(v, 0, KVM_MEM_READONLY, 0, 0x200000, (uint64_t)(uintptr_t)mem, &e);
	report("ext.vm.set_user_memory_region(flags=READONLY)", r, e);
	struct probe_pre_fault pf = {.gpa = 0, .size = 0x1000};
	IOC("ext.vm.pre_fault_memory", v, KVM_PRE_FAULT_MEMORY, &pf);
	int vcpu = ioctl(v, KVM_CREATE_VCPU, 0UL);
	if (vcpu >= 0) {
		IOC("ext.vcpu.pre_fault_memory", vcpu, KVM_PRE_FAULT_MEMORY, &pf);
		/* Not KVM's type: kvm_vcpu_ioctl() says EINVAL. */
		IOC("ext.vcpu.tcgets", vcpu, TCGETS, NULL);
		/* A VM-scope request on a vCPU fd with a bad pointer: real KVM says EINVAL without
		 * touching it; kvmemu's vCPU fd is a FUSE file, whose ioctl the kernel hands over only
		 * after copying in the _IOC_SIZE bytes of an _IOW request, so EFAULT (a documented
		 * difference, README "Conformance"). */
		IOC("ext.vcpu.set_user_memory_region(NULL)", vcpu, KVM_SET_USER_MEMORY_REGION, NULL);
		errno = 0;
		int s = ioctl(vcpu, KVM_GET_STATS_FD, 0UL);
		report_fd("ext.vcpu.get_stats_fd", s, errno);
		if (s >= 0)
			close(s);
		close(vcpu);
	}
	/* Real KVM: ESPIPE (no pwrite on the stats file); a sealed memfd says EPERM or EBADF. Nobody
	 * writes a stats fd, so this is informational. */
	int sfd = ioctl(v, KVM_GET_STATS_FD, 0UL);
	if (sfd >= 0) {
		char zero[8] = {0};
		errno = 0;
		ssize_t n = pwrite(sfd, zero, sizeof zero, 0);
		line("ext.vm.stats.pwrite = %s", n < 0 ? fmt("-1 %s", errname(errno)) : fmt("%zd", n));
		close(sfd);
	}
	IOC("ext.vm.tcgets", v, TCGETS, NULL);
	IOC("ext.system.tcgets", sys, TCGETS, NULL);
	IOC("ext.vm.create_irqchip", v, KVM_CREATE_IRQCHIP, 0UL);
	munmap(mem, 0x200000);
	close(v);
	close(sys);
}

/* ------------------------------------------------------------------------------------------ */

struct section {
	const char *name;
	void (*fn)(void);
};
static const struct section sections[] = {
	{"system", section_system}, {"vm", section_vm},		{"vcpu", section_vcpu},
	{"nocap", section_nocap},   {"fds", section_fds},	{"exitstatus", section_exitstatus},
	{"hammer", section_hammer}, {"ext", section_ext},
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static void usage(void)
{
	fprintf(stderr, "usage: kvm_probe [--device PATH | --device-fd N] [--section NAME]... [--repeat N]\n"
			"                 [--repeat-until FILE] [--iterations N]\n"
			"sections:");
	for (size_t i = 0; i < N_SECTIONS; i++)
		fprintf(stderr, " %s", sections[i].name);
	fputc('\n', stderr);
	exit(2);
}

static void run_sections(const int *sel, int nsel)
{
	/* The limits the other sections use come from the system fd. */
	int sys = open_system();
	long n = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (n > 0)
		g_nr_memslots = n;
	n = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	if (n > 0)
		g_max_vcpu_id = n;
	close(sys);
	for (int i = 0; i < nsel; i++)
		sections[sel[i]].fn();
}

int main(int argc, char **argv)
{
	int sel[64], nsel = 0;
	long repeat = 1;
	const char *until = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--device") && v) {
			g_device = v;
			i++;
		} else if (!strcmp(a, "--device-fd") && v) {
			g_device_fd = atoi(v);
			i++;
		} else if (!strcmp(a, "--section") && v) {
			size_t s;
			for (s = 0; s < N_SECTIONS; s++)
				if (!strcmp(sections[s].name, v))
					break;
			if (s == N_SECTIONS || nsel == 64)
				usage();
			sel[nsel++] = (int)s;
			i++;
		} else if (!strcmp(a, "--repeat") && v) {
			repeat = atol(v);
			i++;
		} else if (!strcmp(a, "--repeat-until") && v) {
			until = v;
			i++;
		} else if (!strcmp(a, "--iterations") && v) {
			g_iterations = atol(v);
			i++;
		} else {
			usage();
		}
	}
	if (nsel == 0) {
		sel[nsel++] = 0;
		sel[nsel++] = 1;
		sel[nsel++] = 2;
	}
	if (repeat < 1)
		repeat = 1;
	signal(SIGPIPE, SIG_IGN);

	if (repeat == 1 && !until) {
		g_out = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
		run_sections(sel, nsel);
		fflush(stdout);
		return 0;
	}

	char *first = NULL;
	size_t first_len = 0;
	long mismatches = 0;
	for (long it = 0; it < repeat || (until && access(until, F_OK) != 0); it++) {
		char *buf = NULL;
		size_t len = 0;
		g_out = open_memstream(&buf, &len);
		if (!g_out)
			die("open_memstream: %s", strerror(errno));
		run_sections(sel, nsel);
		fclose(g_out);
		if (!first) {
			first = buf;
			first_len = len;
			continue;
		}
		if (len != first_len || memcmp(buf, first, len)) {
			mismatches++;
			fprintf(stderr, "kvm_probe: iteration %ld differs from the first:\n%s", it, buf);
		}
		free(buf);
	}
	fwrite(first, 1, first_len, stdout);
	printf("repeat.mismatches = %ld\n", mismatches);
	free(first);
	return 0;
}
