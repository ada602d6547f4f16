// traced_child: the program the supervisor tests trace. Installs kvmemu-run's filter, hands the
// listener to the server at SOCKET (unless SOCKET is "-"), runs SCENARIO, prints key=value lines.
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "launcher/seccomp_filter.hpp"
#include "launcher/send_listener.hpp"
#include "launcher/trapped_requests.hpp"
#include "uapi/ioctls.hpp"

namespace {

namespace uapi = kvmemu::uapi;

void put(const char* key, long value) {
    std::printf("%s=%ld\n", key, value);
}
void put(const char* key, const std::string& value) {
    std::printf("%s=%s\n", key, value.c_str());
}

struct Result {
    long ret;
    int err;
};

Result call(int fd, unsigned long req, unsigned long arg) {
    errno = 0;
    const long r = ::syscall(SYS_ioctl, fd, req, arg);
    return {r, r < 0 ? errno : 0};
}

void put_result(const std::string& name, Result r) {
    put((name + "_ret").c_str(), r.ret);
    put((name + "_errno").c_str(), static_cast<long>(r.err));
}

int devnull() {
    return ::open("/dev/null", O_RDWR | O_CLOEXEC);
}

int trap() {
    const int fd = ::memfd_create("trap-target", MFD_CLOEXEC);
    struct stat st {};
    ::fstat(fd, &st);
    put("fd", fd);
    put("ino", static_cast<long>(st.st_ino));
    put("dev", static_cast<long>(st.st_dev));
    put("tid", static_cast<long>(::gettid()));
    put_result("low", call(fd, uapi::GET_REGS, 0x1234));
    // The kernel's cmd is 32 bits: garbage above them must not dodge the filter.
    put_result("high", call(fd, (0xdeadUL << 32) | uapi::GET_REGS, 0x5678));
    // An _IOR request passed as a (negative) int arrives sign-extended.
    const int as_int = static_cast<int>(uapi::GET_REGS);
    put_result("signext", call(fd, static_cast<unsigned long>(static_cast<long>(as_int)), 0x9abc));
    return 0;
}

// The same fd number closed, then reused for another file: the supervisor must see each state
// as it is now, not as it was at the previous call.
int reuse() {
    const int fd = ::memfd_create("reuse-first", MFD_CLOEXEC);
    put("fd", fd);
    put_result("first", call(fd, uapi::GET_REGS, 1));
    ::close(fd);
    put_result("closed", call(fd, uapi::GET_REGS, 2));
    const int other = ::memfd_create("reuse-second", MFD_CLOEXEC);
    if (other != fd && ::dup2(other, fd) < 0) return 1;
    struct stat st {};
    ::fstat(fd, &st);
    put("second_ino", static_cast<long>(st.st_ino));
    put_result("second", call(fd, uapi::GET_REGS, 3));
    return 0;
}

int cont() {
    const int fd = devnull();
    put_result("null", call(fd, uapi::GET_REGS, 0));
    return 0;
}

int values() {
    const int fd = devnull();
    put_result("value", call(fd, uapi::GET_REGS, 0));
    put_result("error", call(fd, uapi::SET_REGS, 0));
    return 0;
}

std::string fd_data(int fd) {
    char buf[32]{};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("<none>");
}

int inject() {
    const int null_fd = devnull();
    put("null_fd", null_fd);
    const Result a = call(null_fd, uapi::CREATE_VM, 0);
    const Result b = call(null_fd, uapi::CREATE_VCPU, 0);
    put_result("a", a);
    put_result("b", b);
    for (auto [name, r] : {std::pair{"a", a}, std::pair{"b", b}}) {
        const int fd = static_cast<int>(r.ret);
        const int flags = ::fcntl(fd, F_GETFD);
        put((std::string(name) + "_cloexec").c_str(),
            flags < 0 ? -1L : ((flags & FD_CLOEXEC) ? 1L : 0L));
        put((std::string(name) + "_data").c_str(), fd_data(fd));
    }
    return 0;
}

int userio() {
    const int fd = devnull();
    char buf[64] = "hello-from-the-traced-child";
    put_result("set", call(fd, uapi::SET_REGS, reinterpret_cast<unsigned long>(buf)));
    put_result("get", call(fd, uapi::GET_REGS, reinterpret_cast<unsigned long>(buf)));
    put("buf", std::string(buf));
    put_result("badptr", call(fd, uapi::GET_SREGS, 8));
    void* ro = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_result("readonly", call(fd, uapi::GET_FPU, reinterpret_cast<unsigned long>(ro)));
    put("readonly_byte", static_cast<long>(static_cast<const char*>(ro)[0]));
    auto* two = static_cast<char*>(
        ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ::munmap(two + 4096, 4096);
    put_result("straddle", call(fd, uapi::GET_XCRS, reinterpret_cast<unsigned long>(two + 4088)));
    return 0;
}

int unlisted() {
    const int fd = devnull();
    // None of these is in the list: KVM requests the CUSE device or a vCPU fd serves, an unknown
    // one, the daemon's private ones, and others.
    const unsigned long reqs[] = {uapi::GET_API_VERSION,    uapi::CHECK_EXTENSION,
                                  uapi::GET_VCPU_MMAP_SIZE, uapi::SET_USER_MEMORY_REGION,
                                  uapi::CREATE_IRQCHIP,     0xaefeUL /* _IO(KVMIO, 0xfe) */,
                                  uapi::KVMEMU_BIND_VM,     uapi::KVMEMU_IDENTIFY_VM,
                                  TCGETS,                   0x5401UL | (0xaeUL << 16)};
    int i = 0;
    for (unsigned long req : reqs) put_result("u" + std::to_string(i++), call(fd, req, 0));
    put_result("marker", call(fd, uapi::GET_REGS, 0x5eed));
    return 0;
}

int listed() {
    const int fd = devnull();
    int i = 0;
    for (std::uint32_t req : kvmemu::launcher::kTrappedRequests) {
        put_result("l" + std::to_string(i++), call(fd, req, 0));
    }
    return 0;
}

// Two vCPU threads block in KVM_RUN while the main thread keeps asking (GET_REGS) how many runs
// the backend is inside; the backend releases them when it sees both at once.
int threads() {
    const int fd = devnull();
    Result ra{}, rb{};
    std::thread a([&] { ra = call(fd, uapi::RUN, 0); });
    std::thread b([&] { rb = call(fd, uapi::RUN, 0); });
    Result regs{};
    for (int i = 0; i < 2000; ++i) {
        regs = call(fd, uapi::GET_REGS, 0);
        if (regs.ret == 2) break;
        ::usleep(5000);
    }
    a.join();
    b.join();
    put_result("regs", regs);
    put_result("run_a", ra);
    put_result("run_b", rb);
    return 0;
}

void on_signal(int) {}

int signal_run(bool restart) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = restart ? SA_RESTART : 0;
    ::sigaction(SIGUSR1, &sa, nullptr);
    const int fd = devnull();
    std::atomic<pid_t> tid{0};
    Result run{};
    std::thread a([&] {
        tid = ::gettid();
        run = call(fd, uapi::RUN, 0);
    });
    Result regs{};
    for (int i = 0; i < 2000; ++i) {
        regs = call(fd, uapi::GET_REGS, 0);  // 1 once the backend is inside RUN
        if (regs.ret == 1) break;
        ::usleep(5000);
    }
    ::pthread_kill(a.native_handle(), SIGUSR1);
    a.join();
    // While we are still alive, the backend's RUN must end (it ends only when interrupted).
    Result after{};
    for (int i = 0; i < 2000; ++i) {
        after = call(fd, uapi::GET_REGS, 0);
        if (after.ret == 0) break;
        ::usleep(5000);
    }
    put_result("after", after);
    put("run_tid", static_cast<long>(tid.load()));
    put_result("regs", regs);
    put_result("run", run);
    return 0;
}

// Blocks in RUN until the daemon shuts down, then tries another call.
int shutdown_scenario() {
    const int fd = devnull();
    Result run{};
    std::thread a([&] { run = call(fd, uapi::RUN, 0); });
    a.join();
    put_result("run", run);
    put_result("after", call(fd, uapi::GET_REGS, 0));
    return 0;
}

int exit_scenario() {
    const int fd = devnull();
    put_result("first", call(fd, uapi::GET_REGS, 0));
    const pid_t pid = ::fork();
    if (pid == 0) {
        call(fd, uapi::GET_REGS, 1);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    put("grandchild", static_cast<long>(pid));
    Result gone{};
    for (int i = 0; i < 400; ++i) {
        gone = call(fd, uapi::GET_SREGS, static_cast<unsigned long>(pid));  // 1 once reported
        if (gone.ret == 1) break;
        ::usleep(5000);
    }
    put_result("gone", gone);
    return 0;
}

// Round trips in ns per call: getppid(), and trapped ioctls (the backend decides the answer).
int bench() {
    const int fd = devnull();
    constexpr int kN = 20000;
    auto time = [&](auto&& f) {
        timespec a{}, b{};
        ::clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < kN; ++i) f();
        ::clock_gettime(CLOCK_MONOTONIC, &b);
        return ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec)) / kN;
    };
    put("getppid_ns", time([] { ::syscall(SYS_getppid); }));
    put("continue_ns", time([&] { call(fd, uapi::GET_REGS, 0); }));
    put("value_ns", time([&] { call(fd, uapi::SET_REGS, 0); }));
    return 0;
}

// Run by kvmemu-run: no filter of our own.
int probe() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("NoNewPrivs:", 0) == 0) put("nnp", std::stol(line.substr(11)));
    }
    put("pid", static_cast<long>(::getpid()));
    const int fd = devnull();
    put_result("trapped", call(fd, uapi::GET_CPUID2, 0));  // in the launcher's list
    put_result("untrapped", call(fd, uapi::GET_REGS, 0));  // not: a vCPU fd serves it
    return 0;
}

int read_file(const char* path) {
    std::ifstream in(path);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    put("content", s);
    return 0;
}

int as_nobody(char** argv) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
        std::perror("drop privileges");
        return 98;
    }
    ::execv(argv[0], argv);
    std::perror("execv");
    return 98;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: traced_child SOCKET|- SCENARIO [ARGS]\n");
        return 2;
    }
    ::alarm(60);  // never outlive a broken test
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const std::string socket = argv[1];
    const std::string scenario = argv[2];
    if (socket != "-") {
        // The launcher's list, and the vCPU requests the scenarios use as markers.
        std::vector<std::uint32_t> requests(kvmemu::launcher::kTrappedRequests.begin(),
                                            kvmemu::launcher::kTrappedRequests.end());
        for (std::uint32_t r : {uapi::GET_REGS, uapi::SET_REGS, uapi::GET_SREGS, uapi::GET_FPU,
                                uapi::GET_XCRS})
            requests.push_back(r);
        auto filter = kvmemu::launcher::load_notify_filter(requests);
        if (!filter) {
            put("setup", std::string("filter:") + std::strerror(filter.error()));
            return 99;
        }
        const auto hs = kvmemu::launcher::send_listener(socket, filter->listener.get());
        if (!hs.ok()) {
            put("setup", kvmemu::launcher::describe(hs, socket));
            return 99;
        }
        put("setup", std::string("ok"));
        put("pid", static_cast<long>(::getpid()));
    }
    if (scenario == "trap") return trap();
    if (scenario == "reuse") return reuse();
    if (scenario == "continue") return cont();
    if (scenario == "values") return values();
    if (scenario == "inject") return inject();
    if (scenario == "userio") return userio();
    if (scenario == "unlisted") return unlisted();
    if (scenario == "listed") return listed();
    if (scenario == "threads") return threads();
    if (scenario == "signal") return signal_run(false);
    if (scenario == "signal-restart") return signal_run(true);
    if (scenario == "shutdown") return shutdown_scenario();
    if (scenario == "exit") return exit_scenario();
    if (scenario == "probe") return probe();
    if (scenario == "bench") return bench();
    if (scenario == "read" && argc > 3) return read_file(argv[3]);
    if (scenario == "as-nobody" && argc > 3) return as_nobody(argv + 3);
    std::fprintf(stderr, "unknown scenario %s\n", scenario.c_str());
    return 2;
}
