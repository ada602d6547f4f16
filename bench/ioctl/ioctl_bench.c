/* ioctl_bench: cost of kvmemu's ioctl paths as ratios to a bare getppid() in the same run:
 * KVM_GET_API_VERSION on the system fd (CUSE; under kvmemu-run the seccomp trap, answered
 * CONTINUE, comes first) and, under kvmemu-run, KVM_GET_REGS on a vCPU fd (seccomp trap,
 * answered by the supervisor). Rounds alternate the loops and medians are reported, so that
 * noise hits all alike. Plain ioctl() only.
 * Usage: ioctl_bench [ITERATIONS_PER_ROUND] [ROUNDS]; without kvmemu-run only the CUSE path. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
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
    struct kvm_regs regs;
    double base[64], cuse[64], sup[64];
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
        base[r] = (t1 - t0) / iters;
        cuse[r] = (t2 - t1) / iters;
        sup[r] = (t3 - t2) / iters;
    }
    qsort(base, rounds, sizeof base[0], cmp);
    qsort(cuse, rounds, sizeof cuse[0], cmp);
    qsort(sup, rounds, sizeof sup[0], cmp);
    const double b = base[rounds / 2], c = cuse[rounds / 2], s = sup[rounds / 2];
    printf("getppid                           %10.0f ns  (1.0x)\n", b);
    if (!supervised) {
        printf("CUSE ioctl (GET_API_VERSION)      %10.0f ns  %5.1fx getppid  (target <= 4x)\n", c, c / b);
    } else {
        printf("system ioctl under kvmemu-run     %10.0f ns  %5.1fx getppid  (trap, CONTINUE, CUSE)\n", c, c / b);
        printf("supervised vCPU ioctl (GET_REGS)  %10.0f ns  %5.1fx getppid  (target <= 5x)\n", s, s / b);
    }
    return 0;
}
