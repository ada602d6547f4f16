/* fuse_file_bench: what a vCPU fd would cost as a regular file of a FUSE mount of the daemon,
 * instead of a memfd whose ioctls the supervisor traps (the alternative the README's
 * performance section discusses; kvmemud does not do this). A FUSE file has both things a vCPU
 * fd needs: ioctl() reaches the server without seccomp (FUSE's restricted ioctl: the size comes
 * from the request number), and MAP_SHARED works through the page cache, so a server that maps
 * the file itself shares kvm_run with the program.
 *
 * Mounts a one-file FUSE filesystem, maps the file (as the daemon would, mlocked), forks a
 * "program" that opens and maps it, checks that each side sees the other's writes, and times
 * KVM_GET_REGS on it against getppid() (rounds alternate, medians). Needs root and /dev/fuse
 * (run it inside UML: bench/ioctl/ioctl-bench-in-uml.sh).
 * Usage: fuse_file_bench [ITERATIONS_PER_ROUND] [ROUNDS] */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_time.h"

enum { kFileSize = 12288, kRootIno = 1, kFileIno = 2 };
static char backing[kFileSize]; /* what FUSE_READ fills the page cache from */

static void attr_of(fuse_ino_t ino, struct stat* st) {
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (ino == kRootIno) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        st->st_size = kFileSize;
    }
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    if (parent != kRootIno || strcmp(name, "vcpu") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.ino = kFileIno;
    e.attr_timeout = e.entry_timeout = 3600;
    attr_of(kFileIno, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
    (void)fi;
    struct stat st;
    attr_of(ino, &st);
    fuse_reply_attr(req, &st, 3600);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
    (void)ino;
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi) {
    (void)ino;
    (void)fi;
    if (off >= kFileSize) size = 0;
    else if ((size_t)off + size > kFileSize) size = (size_t)(kFileSize - off);
    fuse_reply_buf(req, backing + (size ? off : 0), size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
                     struct fuse_file_info* fi) { /* writeback of the shared pages */
    (void)ino;
    (void)fi;
    if (off < kFileSize) memcpy(backing + off, buf, (size_t)off + size > kFileSize ? (size_t)(kFileSize - off) : size);
    fuse_reply_write(req, size);
}

static void op_ioctl(fuse_req_t req, fuse_ino_t ino, int cmd, void* arg, struct fuse_file_info* fi,
                     unsigned flags, const void* in, size_t in_size, size_t out_size) {
    (void)ino, (void)arg, (void)fi, (void)flags, (void)in, (void)in_size;
    if ((unsigned)cmd == KVM_GET_REGS && out_size == sizeof(struct kvm_regs)) {
        struct kvm_regs regs;
        memset(&regs, 0, sizeof regs);
        regs.rip = 0xfff0;
        regs.rflags = 2;
        fuse_reply_ioctl(req, 0, &regs, sizeof regs);
        return;
    }
    fuse_reply_err(req, EINVAL); /* what KVM says to an unknown vCPU ioctl */
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup, .getattr = op_getattr, .open = op_open,
    .read = op_read,     .write = op_write,     .ioctl = op_ioctl,
};

static void* serve(void* session) {
    fuse_session_loop(session);
    return NULL;
}


/* The program's side: a child process. */
static int program(const char* path, volatile char* server_map, int iters, int rounds) {
    const int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) { perror("open"); return 1; }
    volatile char* m = mmap(NULL, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    m[100] = 'P';        /* the program writes; the server must see it... */
    server_map[200] = 'S'; /* (the server's mapping, inherited: the same pages) */
    const int coherent = server_map[100] == 'P' && m[200] == 'S' && m[kFileSize - 1] == 'E';
    printf("shared kvm_run through the page cache: %s\n", coherent ? "coherent both ways" : "NOT coherent");
    if (!coherent) return 1;
    struct kvm_regs regs;
    double base[64], call[64];
    for (int r = 0; r < rounds; r++) {
        const double t0 = now_ns();
        for (int i = 0; i < iters; i++) (void)getppid();
        const double t1 = now_ns();
        for (int i = 0; i < iters; i++)
            if (ioctl(fd, KVM_GET_REGS, &regs) != 0 || regs.rip != 0xfff0) { perror("KVM_GET_REGS"); return 1; }
        const double t2 = now_ns();
        base[r] = (t1 - t0) / iters;
        call[r] = (t2 - t1) / iters;
    }
    if (ioctl(fd, KVM_GET_SREGS, NULL) != -1 || errno != EINVAL) { fprintf(stderr, "unknown ioctl not EINVAL\n"); return 1; }
    const double b = median(base, rounds), c = median(call, rounds);
    printf("FUSE-file vCPU ioctl (GET_REGS)   %10.0f ns  %5.1fx getppid  (read/writev loop)\n", c, c / b);
    return 0;
}

int main(int argc, char** argv) {
    const int iters = argc > 1 ? atoi(argv[1]) : 2000;
    const int rounds = argc > 2 ? atoi(argv[2]) : 9;
    if (rounds < 1 || rounds > 64 || iters < 1) return 2;
    char dir[] = "/run/fuse-file-bench.XXXXXX";
    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 2; }
    backing[kFileSize - 1] = 'E';
    char* fargs[] = {"fuse_file_bench", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(1, fargs);
    struct fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    if (se == NULL || fuse_session_mount(se, dir) != 0) {
        fprintf(stderr, "fuse_file_bench: cannot mount FUSE at %s\n", dir);
        rmdir(dir);
        return 2;
    }
    pthread_t loop;
    pthread_create(&loop, NULL, serve, se);
    char path[64];
    snprintf(path, sizeof path, "%s/vcpu", dir);
    int rc = 2;
    const int fd = open(path, O_RDWR | O_CLOEXEC);
    char* map = fd < 0 ? MAP_FAILED : mmap(NULL, kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        perror("server mapping");
    } else {
        mlock(map, kFileSize); /* kvm_run stays resident: never read back through FUSE */
        fflush(stdout);
        const pid_t child = fork();
        if (child == 0) {
            const int r = program(path, map, iters, rounds);
            fflush(stdout);
            _exit(r);
        }
        int status = 1;
        if (child > 0) waitpid(child, &status, 0);
        rc = child > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        munmap(map, kFileSize);
    }
    if (fd >= 0) close(fd);
    fuse_session_exit(se);
    fuse_session_unmount(se); /* the loop's read then ends with ENODEV */
    pthread_join(loop, NULL);
    fuse_session_destroy(se);
    rmdir(dir);
    return rc;
}
