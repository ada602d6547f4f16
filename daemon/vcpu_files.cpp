// VcpuFiles: the detached FUSE mount whose files are vCPU fds, its low-level callbacks, and the
// threads that run the rare vCPU ioctl that has to wait (its vCPU busy in KVM_RUN).
#define FUSE_USE_VERSION 31
#include "daemon/vcpu_files.hpp"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "daemon/fuse_ioctl_io.hpp"
#include "supervisor/notify_syscalls.hpp"
#include "uapi/kvm_run.hpp"

namespace kvmemu::daemon {

namespace {

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;
constexpr std::size_t kFileSize = uapi::VCPU_MMAP_SIZE;
constexpr double kForever = 365.0 * 24 * 3600;  // attributes never change: cache them

}  // namespace

// The files that exist, and each one's content as the kernel last wrote it back (what a read
// returns should the page cache ever drop a page: the daemon's mapping is mlocked, so it should
// not). Shared with the run areas, whose release removes their file.
struct VcpuFiles::Files {
    std::mutex mu;
    fuse_ino_t next_ino = kRootIno + 1;
    std::map<fuse_ino_t, std::vector<std::byte>> content;

    bool exists(fuse_ino_t ino) {
        const std::lock_guard lock(mu);
        return content.contains(ino);
    }
    // The part of file `ino`'s content that [off, off + size) covers (empty past the end, or for
    // a file that is gone). Under `mu`.
    std::span<std::byte> range_locked(fuse_ino_t ino, off_t off, std::size_t size) {
        const auto it = content.find(ino);
        if (it == content.end() || off < 0 || static_cast<std::size_t>(off) >= kFileSize) return {};
        const auto at = static_cast<std::size_t>(off);
        return std::span(it->second).subspan(at, std::min(size, kFileSize - at));
    }
};

namespace {

VcpuFiles& files_of(fuse_req_t req) { return *static_cast<VcpuFiles*>(fuse_req_userdata(req)); }

struct stat attr_of(fuse_ino_t ino) {
    struct stat st {};
    st.st_ino = ino;
    if (ino == kRootIno) {
        st.st_mode = S_IFDIR | 0500;
        st.st_nlink = 2;
    } else {
        st.st_mode = S_IFREG | 0600;
        st.st_nlink = 1;
        st.st_size = static_cast<off_t>(kFileSize);
    }
    return st;
}

std::string name_of(fuse_ino_t ino) { return std::to_string(ino); }

void op_init(void* /*userdata*/, fuse_conn_info* conn) {
    // The files' attributes never change, and their pages must never be dropped because of an
    // attribute refresh: the daemon's mapping and the program's are one page cache.
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    fuse_ino_t ino = 0;
    const std::string_view n(name);
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), ino);
    if (parent != kRootIno || ec != std::errc{} || end != n.data() + n.size() ||
        !files_of(req).files().exists(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_entry_param e{};
    e.ino = ino;
    e.attr = attr_of(ino);
    e.attr_timeout = kForever;
    e.entry_timeout = kForever;
    fuse_reply_entry(req, &e);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
    const struct stat st = attr_of(ino);
    fuse_reply_attr(req, &st, kForever);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (!files_of(req).files().exists(ino)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fi->keep_cache = 1;  // never drop the shared pages on open
    // close() sends nothing and waits for nothing (Linux 5.16+). The loop thread itself may drop
    // the last reference to a vCPU, closing the daemon's own fd: a FLUSH it had to answer would
    // never be answered.
    fi->noflush = 1;
    fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* /*fi*/) {
    auto& files = files_of(req).files();
    std::vector<std::byte> buf;
    {
        const std::lock_guard lock(files.mu);
        const auto bytes = files.range_locked(ino, off, size);
        buf.assign(bytes.begin(), bytes.end());
    }
    fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), buf.size());
}

// Writeback of the shared pages (the program or the daemon wrote kvm_run through a mapping).
void op_write(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t off,
              fuse_file_info* /*fi*/) {
    auto& files = files_of(req).files();
    {
        const std::lock_guard lock(files.mu);
        const auto bytes = files.range_locked(ino, off, size);
        if (!bytes.empty()) std::memcpy(bytes.data(), data, bytes.size());
    }
    fuse_reply_write(req, size);
}

void op_ok(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* /*fi*/) { fuse_reply_err(req, 0); }

void op_fsync(fuse_req_t req, fuse_ino_t /*ino*/, int /*datasync*/, fuse_file_info* /*fi*/) {
    fuse_reply_err(req, 0);
}

void op_ioctl(fuse_req_t req, fuse_ino_t ino, int cmd, void* arg, fuse_file_info* /*fi*/,
              unsigned /*flags*/, const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    files_of(req).on_ioctl(req, ino, static_cast<std::uint32_t>(cmd),
                           reinterpret_cast<std::uintptr_t>(arg),
                           {static_cast<const std::byte*>(in_buf), in_bufsz}, out_bufsz);
}

ssize_t tr_read_request(int fd, void* buf, size_t len, void* userdata) {
    return static_cast<VcpuFiles*>(userdata)->io().read(fd, buf, len);
}

ssize_t tr_write_reply(int fd, iovec* iov, int count, void* userdata) {
    return static_cast<VcpuFiles*>(userdata)->io().writev(fd, iov, count);
}

void reply(fuse_req_t req, long result, const FuseIoctlIo& io) {
    if (result < 0) {
        fuse_reply_err(req, static_cast<int>(-result));
        return;
    }
    const auto out = io.out();
    fuse_reply_ioctl(req, static_cast<int>(result), out.data(), out.size());
}

int set_string(int fs, const char* key, const std::string& value) {
    return ::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) == 0 ? 0 : errno;
}

int set_flag(int fs, const char* key) {
    return ::fsconfig(fs, FSCONFIG_SET_FLAG, key, nullptr, 0) == 0 ? 0 : errno;
}

}  // namespace

VcpuFiles::VcpuFiles(kvm::System& system, Options options)
    : system_(system), options_(std::move(options)), files_(std::make_shared<Files>()),
      io_(options_.io_mode, "vCPU files") {}

VcpuFiles::~VcpuFiles() { stop(); }

int VcpuFiles::start() {
    UniqueFd dev(::open(options_.fuse_path.c_str(), O_RDWR | O_CLOEXEC));
    if (!dev) {
        const int e = errno;
        spdlog::error("vCPU files: cannot open {}: {} (load the fuse module: modprobe fuse)",
                      options_.fuse_path, std::strerror(e));
        return e;
    }
    // A detached mount: reachable through mount_ (and the files opened from it) only.
    UniqueFd fs(::fsopen("fuse", FSOPEN_CLOEXEC));
    int e = fs ? 0 : errno;
    if (e == 0) e = set_string(fs.get(), "source", "kvmemud");
    if (e == 0) e = set_string(fs.get(), "fd", std::to_string(dev.get()));
    if (e == 0) e = set_string(fs.get(), "rootmode", "40000");
    if (e == 0) e = set_string(fs.get(), "user_id", "0");
    if (e == 0) e = set_string(fs.get(), "group_id", "0");
    if (e == 0) e = set_flag(fs.get(), "allow_other");  // programs of any user use their fds
    if (e == 0) e = set_flag(fs.get(), "default_permissions");
    if (e == 0 && ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) e = errno;
    if (e == 0) {
        mount_.reset(::fsmount(fs.get(), FSMOUNT_CLOEXEC,
                               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
        if (!mount_) e = errno;
    }
    if (e != 0) {
        spdlog::error("vCPU files: cannot mount a FUSE filesystem: {}{}", std::strerror(e),
                      e == EPERM ? " (kvmemud needs CAP_SYS_ADMIN)" : "");
        mount_.reset();
        return e;
    }
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o{};
        o.init = op_init;
        o.lookup = op_lookup;
        o.getattr = op_getattr;
        o.open = op_open;
        o.read = op_read;
        o.write = op_write;
        o.flush = op_ok;
        o.release = op_ok;
        o.fsync = op_fsync;
        o.ioctl = op_ioctl;
        return o;
    }();
    static const fuse_custom_io custom_io = [] {
        fuse_custom_io c{};
        c.read = tr_read_request;
        c.writev = tr_write_reply;
        return c;
    }();
    char arg0[] = "kvmemud";
    char* argv[] = {arg0, nullptr};
    fuse_args args = FUSE_ARGS_INIT(1, argv);
    session_ = fuse_session_new(&args, &ops, sizeof ops, this);
    fuse_opt_free_args(&args);
    if (session_ == nullptr) {
        spdlog::error("vCPU files: cannot create the FUSE session");
        mount_.reset();
        return ENOMEM;
    }
    // Installing the I/O hands the device fd to the session (fuse_session_destroy closes it).
    if (const int r = fuse_session_custom_io(session_, &custom_io, dev.get()); r != 0) {
        spdlog::error("vCPU files: cannot install the session's I/O: {}", std::strerror(-r));
        fuse_session_destroy(session_);
        session_ = nullptr;
        mount_.reset();
        return -r;
    }
    (void)dev.release();
    // Replies may wait for the next read from the start: the kernel's INIT request is answered
    // by the io_uring submission that reads the next request, and nothing waits for it sooner.
    io_.defer_replies();
    loop_.start(session_, "vCPU files");
    // Only now: the kernel holds every request, this stat's GETATTR too, until INIT is answered.
    struct stat st {};
    if (::fstat(mount_.get(), &st) != 0) {
        e = errno;
        spdlog::error("vCPU files: cannot stat the mount: {}", std::strerror(e));
        stop();
        return e;
    }
    dev_ = st.st_dev;
    spdlog::info("vCPU files: a private FUSE mount (device {}:{}) serves vCPU fds",
                 major(dev_), minor(dev_));
    return 0;
}

void VcpuFiles::stop() {
    if (session_ == nullptr) return;
    std::list<ElsewhereCall> calls;
    {
        const std::lock_guard lock(calls_mu_);
        stopping_ = true;
        calls.splice(calls.end(), calls_);
    }
    // A call still waiting elsewhere may be a KVM_RUN (one that came here, not through the
    // supervisor): ask it to return. The loop keeps serving meanwhile (writeback may need it).
    for (auto& c : calls) {
        if (!c.done) system_.kick_thread(c.tid);
        c.thread.join();
    }
    loop_.stop();
    fuse_session_destroy(session_);  // closes /dev/fuse: the files now fail with ENOTCONN
    session_ = nullptr;
    mount_.reset();
}

Expected<kvm::RunArea> VcpuFiles::make_run_area() {
    if (!mount_) return Errno{ENODEV};
    fuse_ino_t ino = 0;
    {
        const std::lock_guard lock(files_->mu);
        ino = files_->next_ino++;
        files_->content.emplace(ino, std::vector<std::byte>(kFileSize));
    }
    auto files = files_;
    auto forget = [files, ino] {
        const std::lock_guard lock(files->mu);
        files->content.erase(ino);
    };
    UniqueFd fd(::openat(mount_.get(), name_of(ino).c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        const int e = errno;
        forget();
        spdlog::error("vCPU files: cannot open file {}: {}", ino, std::strerror(e));
        return Errno{e};
    }
    Mapping map = Mapping::map(kFileSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd.get());
    if (!map.valid()) {
        const int e = errno;
        forget();
        spdlog::error("vCPU files: cannot map file {}: {}", ino, std::strerror(e));
        return Errno{e};
    }
    // Resident for good: a dropped page would be read back through FUSE (correct, but slow).
    if (::mlock(map.data(), map.size()) != 0)
        spdlog::debug("vCPU files: cannot mlock file {}: {}", ino, std::strerror(errno));
    return kvm::RunArea(std::move(fd), std::move(map), std::move(forget));
}

void VcpuFiles::on_ioctl(void* request, std::uint64_t ino, std::uint32_t cmd, std::uint64_t arg,
                         std::span<const std::byte> in, std::size_t out_size) {
    auto* req = static_cast<fuse_req_t>(request);
    auto ref = system_.find_vcpu(dev_, static_cast<ino_t>(ino));
    if (!ref.vcpu) {  // its VM is gone (the file outlived it in some process)
        fuse_reply_err(req, EIO);
        return;
    }
    const pid_t tid = fuse_req_ctx(req)->pid;
    const pid_t owner = ref.vm->owner();
    // kvm_vcpu_ioctl(): only the VM's process may use its vCPUs (EIO otherwise). One system
    // call (tgkill with the null signal), half the cost of a /proc lookup.
    const kvm::Caller caller{tid, supervisor::sys::thread_in_group(owner, tid) == 0 ? owner : 0};
    if (caller.tgid == 0)
        spdlog::debug("vCPU files: ioctl {:#x} on a vCPU of pid {} from thread {} of another "
                      "process: EIO", cmd, owner, tid);
    FuseIoctlIo io(arg, in, out_size);
    const auto r = ref.vm->try_vcpu_ioctl(*ref.vcpu, caller, cmd, arg, io);
    if (r) {
        reply(req, *r, io);
        return;
    }
    call_elsewhere(req, std::move(ref), caller, cmd, arg, std::move(io));
}

void VcpuFiles::call_elsewhere(void* request, kvm::System::VcpuRef ref, kvm::Caller caller,
                               std::uint32_t cmd, std::uint64_t arg, FuseIoctlIo io) {
    auto* req = static_cast<fuse_req_t>(request);
    const std::lock_guard lock(calls_mu_);
    reap_finished_calls_locked();
    if (stopping_) {
        fuse_reply_err(req, EINTR);
        return;
    }
    auto& call = calls_.emplace_back();
    call.system = &system_;
    call.tid = caller.tid;
    // The caller got a signal: a KVM_RUN returns -EINTR (KVM_EXIT_INTR); others just finish.
    fuse_req_interrupt_func(
        req,
        [](fuse_req_t, void* data) {
            const auto* c = static_cast<const ElsewhereCall*>(data);
            c->system->kick_thread(c->tid);
        },
        &call);
    call.thread = std::thread([req, ref = std::move(ref), caller, cmd, arg, io = std::move(io),
                               &call]() mutable {
        const long r = ref.vm->vcpu_ioctl(*ref.vcpu, caller, cmd, arg, io);
        reply(req, r, io);
        call.done = true;
    });
}

void VcpuFiles::reap_finished_calls_locked() {
    for (auto it = calls_.begin(); it != calls_.end();) {
        if (it->done) {
            it->thread.join();
            it = calls_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace kvmemu::daemon
