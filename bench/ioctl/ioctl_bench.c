/* ioctl_bench: cost of kvmemu's ioctl paths as ratios to a bare getppid() in the same run:
 * KVM_GET_API_VERSION on the system fd (CUSE, with or without kvmemu-run) and, under
 * kvmemu-run, KVM_GET_REGS on a vCPU fd (a file of kvmemud's FUSE mount: FUSE ioctl, no
 * seccomp), KVM_GET_MSRS of one MSR on it (trapped by seccomp and answered by the supervisor:
 * its argument outgrows _IOC_SIZE), and KVM_RUN of a guest that loops on `out` (one IO exit per
 * call: what a VMM pays per exit). Rounds alternate the loops and medians are reported, so that
 * noise hits all alike. Plain ioctl() only.
 * Without kvmemu-run it also measures the floor of any supervised call: a child traps one
 * ioctl with a seccomp listener of its own, and this process answers it doing no work
 * (RECV, SEND), then with a poll before each RECV, then writing a struct kvm_regs into the
 * caller first (RECV, process_vm_writev, SEND).
 * Usage: ioctl_bench [ITERATIONS_PER_ROUND] [ROUNDS]; without kvmemu-run only the CUSE path. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"


enum { kFloorPhases = 3 };
static const char* const kFloorNames[kFloorPhases] = {
    "seccomp notification, bare (RECV, SEND)",
    "  the same, poll before RECV",
    "  the same, RECV, write regs, SEND",
};

/* The traced side: installs the listener, hands it over, then times the trapped ioctl. */
static int floor_child(int sock, int iters, int rounds) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KVM_GET_REGS, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
    const int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                      SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) { perror("seccomp"); return 2; }
    char c = 0;
    struct iovec iov = {&c, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &listener, sizeof listener);
    if (sendmsg(sock, &msg, 0) != 1) return 2;
    close(listener);
    struct kvm_regs regs;
    double base[kFloorPhases][64], call[kFloorPhases][64];
    for (int p = 0; p < kFloorPhases; p++) {
        for (int r = 0; r < rounds; r++) {
            double t0 = now_ns();
            for (int i = 0; i < iters; i++) (void)getppid();
            double t1 = now_ns();
            for (int i = 0; i < iters; i++)
                if (ioctl(-1, KVM_GET_REGS, &regs) != 0) { perror("trapped ioctl"); return 1; }
            double t2 = now_ns();
            base[p][r] = (t1 - t0) / iters;
            call[p][r] = (t2 - t1) / iters;
        }
    }
    for (int p = 0; p < kFloorPhases; p++) {
        const double b = median(base[p], rounds), c = median(call[p], rounds);
        printf("%-34s%10.0f ns  %5.1fx getppid\n", kFloorNames[p], c, c / b);
    }
    return 0;
}

/* The supervisor's side, as lean as it gets. */
static int floor_serve(int sock, pid_t child, int iters, int rounds) {
    char c;
    struct iovec iov = {&c, 1};
    union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, 0) != 1 || CMSG_FIRSTHDR(&msg) == NULL) return 2;
    int listener;
    memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof listener);
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return 2;
    struct seccomp_notif* req = calloc(1, sizes.seccomp_notif);
    struct seccomp_notif_resp* resp = calloc(1, sizes.seccomp_notif_resp);
    struct kvm_regs regs;
    memset(&regs, 0x5a, sizeof regs);
    for (int p = 0; p < kFloorPhases; p++) {
        for (long n = 0; n < (long)iters * rounds; n++) {
            if (p == 1) {
                struct pollfd pfd = {listener, POLLIN, 0};
                if (poll(&pfd, 1, -1) != 1) return 2;
            }
            memset(req, 0, sizes.seccomp_notif);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) { perror("RECV"); return 2; }
            if (p == 2) {
                struct iovec local = {&regs, sizeof regs};
                struct iovec remote = {(void*)(uintptr_t)req->data.args[2], sizeof regs};
                if (process_vm_writev(req->pid, &local, 1, &remote, 1, 0) != sizeof regs) {
                    perror("process_vm_writev");
                    return 2;
                }
            }
            memset(resp, 0, sizes.seccomp_notif_resp);
            resp->id = req->id;
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) { perror("SEND"); return 2; }
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    free(req);
    free(resp);
    close(listener);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int notify_floor(int iters, int rounds) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 2;
    fflush(stdout);
    const pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
        close(sv[0]);
        const int rc = floor_child(sv[1], iters, rounds);
        fflush(stdout);
        _exit(rc);
    }
    close(sv[1]);
    const int rc = floor_serve(sv[0], child, iters, rounds);
    close(sv[0]);
    return rc;
}

/* A 64-bit guest at 1 MiB looping on `out %al, $0x10`: identity-mapped 2 MiB pages over 4 MiB
 * of memory, flat segments from SET_SREGS (no GDT needed), CPUID as the host supports it. */
static struct kvm_run* set_up_io_guest(int sys, int vm, int vcpu) {
    const size_t size = 4u << 20;
    uint8_t* mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return NULL;
    struct kvm_userspace_memory_region slot = {0, 0, 0, size, (uint64_t)(uintptr_t)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) != 0) return NULL;
    uint64_t* pml4 = (uint64_t*)(mem + 0x1000);
    uint64_t* pdpt = (uint64_t*)(mem + 0x2000);
    uint64_t* pd = (uint64_t*)(mem + 0x3000);
    pml4[0] = 0x2000 | 3;
    pdpt[0] = 0x3000 | 3;
    pd[0] = 0x000000 | 0x83; /* present, writable, 2 MiB */
    pd[1] = 0x200000 | 0x83;
    static const uint8_t code[] = {0xe6, 0x10, 0xeb, 0xfc}; /* 1: out %al,$0x10; jmp 1b */
    memcpy(mem + 0x100000, code, sizeof code);
    struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[128]; } cpuid;
    memset(&cpuid, 0, sizeof cpuid);
    cpuid.h.nent = 128;
    if (ioctl(sys, KVM_GET_SUPPORTED_CPUID, &cpuid) != 0 || ioctl(vcpu, KVM_SET_CPUID2, &cpuid) != 0) return NULL;
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0) return NULL;
    const struct kvm_segment code_seg = {.limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
                                         .s = 1, .l = 1, .g = 1};
    struct kvm_segment data_seg = code_seg;
    data_seg.selector = 16;
    data_seg.type = 3;
    data_seg.l = 0;
    data_seg.db = 1;
    sregs.cs = code_seg;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data_seg;
    sregs.cr3 = 0x1000;
    sregs.cr4 = 0x20;         /* PAE */
    sregs.cr0 = 0x80000011;   /* PG, ET, PE */
    sregs.efer = 0x500;       /* LMA, LME */
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) != 0) return NULL;
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = 0x100000;
    regs.rsp = 0x300000;
    regs.rflags = 2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) != 0) return NULL;
    const int run_size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0) return NULL;
    struct kvm_run* run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    return run == MAP_FAILED ? NULL : run;
}

int main(int argc, char** argv) {
    const int iters = argc > 1 ? atoi(argv[1]) : 2000;
    const int rounds = argc > 2 ? atoi(argv[2]) : 9;
    int sys = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (sys < 0) { perror("open /dev/kvm"); return 2; }
    int vm = ioctl(sys, KVM_CREATE_VM, 0);
    const int supervised = vm >= 0;
    if (!supervised && errno != EOPNOTSUPP) { perror("KVM_CREATE_VM"); return 2; }
    int vcpu = supervised ? ioctl(vm, KVM_CREATE_VCPU, 0) : -1;
    if (supervised && vcpu < 0) { perror("KVM_CREATE_VCPU"); return 2; }
    struct kvm_run* run = supervised ? set_up_io_guest(sys, vm, vcpu) : NULL;
    if (supervised && run == NULL) { perror("setting up the guest"); return 2; }
    struct kvm_regs regs;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } msrs;
    double base[64], cuse[64], sup[64], trapped[64], exits[64];
    if (rounds > 64) return 2;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) (void)getppid();
        double t1 = now_ns();
        for (int i = 0; i < iters; i++)
            if (ioctl(sys, KVM_GET_API_VERSION, 0) != 12) { fprintf(stderr, "bad answer\n"); return 1; }
        double t2 = now_ns();
        for (int i = 0; supervised && i < iters; i++)
            if (ioctl(vcpu, KVM_GET_REGS, &regs) != 0) { perror("KVM_GET_REGS"); return 1; }
        double t3 = now_ns();
        for (int i = 0; supervised && i < iters; i++) {
            memset(&msrs, 0, sizeof msrs);
            msrs.hdr.nmsrs = 1;
            msrs.e[0].index = 0x174; /* IA32_SYSENTER_CS */
            if (ioctl(vcpu, KVM_GET_MSRS, &msrs) != 1) { perror("KVM_GET_MSRS"); return 1; }
        }
        double t3m = now_ns();
        for (int i = 0; supervised && i < iters; i++) {
            if (ioctl(vcpu, KVM_RUN, 0) != 0) { perror("KVM_RUN"); return 1; }
            if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
                fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
                return 1;
            }
        }
        double t4 = now_ns();
        exits[r] = (t4 - t3m) / iters;
        trapped[r] = (t3m - t3) / iters;
        base[r] = (t1 - t0) / iters;
        cuse[r] = (t2 - t1) / iters;
        sup[r] = (t3 - t2) / iters;
    }
    const double b = median(base, rounds), c = median(cuse, rounds), s = median(sup, rounds);
    printf("getppid                           %10.0f ns  (1.0x)\n", b);
    if (!supervised) {
        printf("CUSE ioctl (GET_API_VERSION)      %10.0f ns  %5.1fx getppid  (target <= 4x)\n", c, c / b);
        printf("-- the floor of a supervised call (another process answers a seccomp trap):\n");
        return notify_floor(iters, rounds);
    } else {
        printf("system ioctl under kvmemu-run     %10.0f ns  %5.1fx getppid  (CUSE, not trapped)\n", c, c / b);
        printf("vCPU ioctl (GET_REGS)             %10.0f ns  %5.1fx getppid  (FUSE; target <= 5x)\n", s, s / b);
        const double m = median(trapped, rounds);
        printf("trapped vCPU ioctl (GET_MSRS, 1)  %10.0f ns  %5.1fx getppid  (seccomp, supervisor)\n", m, m / b);
        const double e = median(exits, rounds);
        printf("KVM_RUN with an IO exit           %10.0f ns  %5.1fx getppid\n", e, e / b);
    }
    return 0;
}
