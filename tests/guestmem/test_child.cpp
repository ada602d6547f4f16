// TestChild: the child's command loop (fixed-size requests and replies over two pipes).
#include "tests/guestmem/test_child.hpp"

#include <fcntl.h>
#include <linux/mman.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace kvmemu::guestmem::test {

namespace {

enum Op : std::uint64_t { kMap, kUnmap, kProtect, kFill, kCheck, kPeek, kPoke, kExit };

struct Request {
    std::uint64_t op, a, b, c;
};

constexpr std::uint64_t k2M = std::uint64_t{1} << 21;

std::uint64_t child_map(MapKind kind, std::size_t len) {
    const int prot = PROT_READ | PROT_WRITE;
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
    void* p = MAP_FAILED;
    switch (kind) {
        case MapKind::Small:
        case MapKind::Untouched:
            p = ::mmap(nullptr, len, prot, anon, -1, 0);
            if (p != MAP_FAILED) ::madvise(p, len, MADV_NOHUGEPAGE);
            break;
        case MapKind::Thp: {
            // Over-allocate, keep a 2 MiB-aligned piece of len bytes.
            void* raw = ::mmap(nullptr, len + k2M, prot, anon, -1, 0);
            if (raw == MAP_FAILED) return 0;
            const auto r = reinterpret_cast<std::uint64_t>(raw);
            const std::uint64_t aligned = (r + k2M - 1) & ~(k2M - 1);
            if (aligned > r) ::munmap(raw, aligned - r);
            const std::uint64_t tail = r + len + k2M - (aligned + len);
            if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + len), tail);
            p = reinterpret_cast<void*>(aligned);
            ::madvise(p, len, MADV_HUGEPAGE);
            break;
        }
        case MapKind::Hugetlb2M:
            p = ::mmap(nullptr, len, prot, anon | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
            break;
        case MapKind::Hugetlb1G:
            p = ::mmap(nullptr, len, prot, anon | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
            break;
    }
    if (p == MAP_FAILED) return 0;
    if (kind != MapKind::Untouched) {  // populate: one write per 4 KiB page
        auto* b = static_cast<volatile std::uint8_t*>(p);
        for (std::size_t off = 0; off < len; off += 4096) b[off] = 0x5a;
    }
    return reinterpret_cast<std::uint64_t>(p);
}

std::uint64_t serve(const Request& r) {
    auto* base = reinterpret_cast<std::uint8_t*>(r.a);
    switch (r.op) {
        case kMap: return child_map(static_cast<MapKind>(r.a), r.b);
        case kUnmap: return static_cast<std::uint64_t>(::munmap(base, r.b));
        case kProtect: return static_cast<std::uint64_t>(::mprotect(base, r.b, static_cast<int>(r.c)));
        case kFill:
            for (std::uint64_t i = 0; i < r.b; ++i) base[i] = pattern(r.c, i);
            return 0;
        case kCheck: {
            std::uint64_t bad = 0;
            for (std::uint64_t i = 0; i < r.b; ++i) bad += base[i] != pattern(r.c, i);
            return bad;
        }
        case kPeek: return *base;
        case kPoke: *base = static_cast<std::uint8_t>(r.b); return 0;
        default: return 0;
    }
}

[[noreturn]] void child_loop(int in, int out) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        Request r{};
        if (::read(in, &r, sizeof r) != static_cast<ssize_t>(sizeof r)) ::_exit(1);
        if (r.op == kExit) ::_exit(0);
        const std::uint64_t reply = serve(r);
        if (::write(out, &reply, sizeof reply) != static_cast<ssize_t>(sizeof reply)) ::_exit(1);
    }
}

}  // namespace

TestChild::TestChild() {
    int down[2];
    int up[2];
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) child_loop(down[0], up[1]);
    ::close(down[0]);
    ::close(up[1]);
    to_child_.reset(down[1]);
    from_child_.reset(up[0]);
}

TestChild::~TestChild() {
    if (!reaped_) {
        ::kill(pid_, SIGKILL);
        reap();
    }
}

std::uint64_t TestChild::call(std::uint64_t op, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    const Request r{op, a, b, c};
    if (::write(to_child_.get(), &r, sizeof r) != static_cast<ssize_t>(sizeof r))
        throw std::runtime_error("test child: write");
    std::uint64_t reply = 0;
    if (::read(from_child_.get(), &reply, sizeof reply) != static_cast<ssize_t>(sizeof reply))
        throw std::runtime_error("test child: no reply (crashed?)");
    return reply;
}

std::uint64_t TestChild::map(MapKind kind, std::size_t len) {
    return call(kMap, static_cast<std::uint64_t>(kind), len);
}
void TestChild::unmap(std::uint64_t addr, std::size_t len) { call(kUnmap, addr, len); }
int TestChild::protect(std::uint64_t addr, std::size_t len, int prot) {
    return static_cast<int>(call(kProtect, addr, len, static_cast<std::uint64_t>(prot)));
}
void TestChild::fill(std::uint64_t addr, std::size_t len, std::uint64_t seed) {
    call(kFill, addr, len, seed);
}
std::uint64_t TestChild::check(std::uint64_t addr, std::size_t len, std::uint64_t seed) {
    return call(kCheck, addr, len, seed);
}
std::uint8_t TestChild::peek(std::uint64_t addr) {
    return static_cast<std::uint8_t>(call(kPeek, addr));
}
void TestChild::poke(std::uint64_t addr, std::uint8_t value) { call(kPoke, addr, value); }

void TestChild::exit(bool reap_now) {
    const Request r{kExit, 0, 0, 0};
    if (::write(to_child_.get(), &r, sizeof r) != static_cast<ssize_t>(sizeof r))
        throw std::runtime_error("test child: write");
    // Wait until it has exited (a zombie) without reaping it.
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
    if (reap_now) reap();
}

void TestChild::reap() {
    if (reaped_) return;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
}

}  // namespace kvmemu::guestmem::test
