// CuseDevice: libfuse3 CUSE session, its loop thread, and the open/release/ioctl callbacks with
// the unrestricted-ioctl retry protocol kept as explicit per-call state.
#define FUSE_USE_VERSION 31
#include "daemon/cuse_device.hpp"

#include <cuse_lowlevel.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include "caps/proc_task.hpp"
#include "daemon/process_refs.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::daemon {

namespace u = uapi;

struct CuseDevice::Request {
    fuse_req_t req;
    fuse_file_info* fi;
    std::uint32_t cmd = 0;
    std::uint64_t arg = 0;
    std::span<const std::byte> in;
    std::size_t out_size = 0;
    unsigned flags = 0;
};

namespace {

CuseDevice& device_of(fuse_req_t req) { return *static_cast<CuseDevice*>(fuse_req_userdata(req)); }

void tr_init_done(void* userdata) { static_cast<CuseDevice*>(userdata)->on_init_done(); }
void tr_open(fuse_req_t req, fuse_file_info* fi) {
    CuseDevice::Request r{req, fi};
    device_of(req).on_open(r);
}
void tr_release(fuse_req_t req, fuse_file_info* fi) {
    CuseDevice::Request r{req, fi};
    device_of(req).on_release(r);
}
void tr_read(fuse_req_t req, size_t, off_t, fuse_file_info*) { fuse_reply_err(req, EINVAL); }
void tr_write(fuse_req_t req, const char*, size_t, off_t, fuse_file_info*) {
    fuse_reply_err(req, EINVAL);
}
void tr_ioctl(fuse_req_t req, int cmd, void* arg, fuse_file_info* fi, unsigned flags,
              const void* in_buf, size_t in_bufsz, size_t out_bufsz) {
    CuseDevice::Request r{req, fi};
    r.cmd = static_cast<std::uint32_t>(cmd);
    r.arg = reinterpret_cast<std::uintptr_t>(arg);
    r.in = {static_cast<const std::byte*>(in_buf), in_bufsz};
    r.out_size = out_bufsz;
    r.flags = flags;
    device_of(req).on_ioctl(r);
}

ssize_t tr_read_request(int fd, void* buf, size_t len, void* userdata) {
    return static_cast<CuseDevice*>(userdata)->io().read(fd, buf, len);
}
ssize_t tr_write_reply(int fd, iovec* iov, int count, void* userdata) {
    return static_cast<CuseDevice*>(userdata)->io().writev(fd, iov, count);
}

std::vector<iovec> to_iovecs(const std::vector<IoRegion>& regions) {
    std::vector<iovec> v;
    v.reserve(regions.size());
    for (const auto& r : regions)
        v.push_back({reinterpret_cast<void*>(static_cast<std::uintptr_t>(r.addr)), r.len});
    return v;
}

constexpr std::size_t kMaxPendingPlans = 4096;

}  // namespace

CuseDevice::CuseDevice(kvm::System& system, Options options)
    : system_(system), options_(std::move(options)), io_(options_.io_mode, "CUSE") {}

CuseDevice::~CuseDevice() { stop(); }

int CuseDevice::start(std::function<void()> on_ready) {
    on_ready_ = std::move(on_ready);

    static const cuse_lowlevel_ops ops = [] {
        cuse_lowlevel_ops o{};
        o.init_done = tr_init_done;
        o.open = tr_open;
        o.release = tr_release;
        o.read = tr_read;
        o.write = tr_write;
        o.ioctl = tr_ioctl;
        return o;
    }();
    const std::string devname = "DEVNAME=" + options_.name;
    const char* dev_info[] = {devname.c_str()};
    cuse_info ci{};
    ci.dev_info_argc = 1;
    ci.dev_info_argv = dev_info;
    ci.flags = CUSE_UNRESTRICTED_IOCTL;

    if (::access(options_.cuse_path.c_str(), R_OK | W_OK) != 0) {
        const int e = errno;
        spdlog::error("cannot open {}: {} (load the cuse module: modprobe cuse)", options_.cuse_path,
                      std::strerror(e));
        return e;
    }
    // -f: stay in the foreground; -s: one loop thread (handlers never block).
    std::vector<std::string> args = {"kvmemud", "-f", "-s"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    int multithreaded = 0;
    session_ = cuse_lowlevel_setup(static_cast<int>(argv.size()), argv.data(), &ci, &ops,
                                   &multithreaded, this);
    if (session_ == nullptr) {
        spdlog::error("CUSE setup failed for /dev/{}", options_.name);
        return ENODEV;
    }
    // libfuse installed handlers for SIGINT/SIGTERM/SIGHUP; the daemon's event loop owns those.
    fuse_remove_signal_handlers(session_);
    static const fuse_custom_io custom_io = [] {
        fuse_custom_io c{};
        c.read = tr_read_request;
        c.writev = tr_write_reply;
        return c;
    }();
    if (const int e = fuse_session_custom_io(session_, &custom_io, fuse_session_fd(session_)); e != 0) {
        spdlog::error("CUSE: cannot install the session's I/O: {}", std::strerror(-e));
        fuse_session_destroy(session_);
        session_ = nullptr;
        return -e;
    }
    loop_.start(session_, "CUSE");
    return 0;
}

void CuseDevice::stop() {
    if (session_ == nullptr) return;
    loop_.stop();
    // (cuse_lowlevel_teardown() would also remove libfuse's signal handlers, long gone.)
    fuse_session_destroy(session_);
    session_ = nullptr;
    files_.clear();
}

void CuseDevice::on_init_done() {
    struct stat st {};
    const std::string p = path();
    // devtmpfs or udev creates the node asynchronously; wait briefly for it.
    for (int i = 0; i < 200; ++i) {
        if (::stat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) break;
        ::usleep(10000);
    }
    if (!S_ISCHR(st.st_mode)) {
        spdlog::error("{} did not appear after CUSE init", p);
        return;
    }
    rdev_ = st.st_rdev;
    spdlog::info("serving {} (device {}:{})", p, major(st.st_rdev), minor(st.st_rdev));
    io_.defer_replies();
    if (on_ready_) on_ready_();
}

void CuseDevice::on_open(Request& r) {
    const std::uint64_t fh = next_fh_++;
    files_[fh] = OpenFile{};
    r.fi->fh = fh;
    r.fi->nonseekable = 1;
    fuse_reply_open(r.req, r.fi);
}

void CuseDevice::on_release(Request& r) {
    const auto it = files_.find(r.fi->fh);
    if (it != files_.end()) {
        if (const auto& vm = it->second.vm) {
            // KVM keeps a VM while its vCPU or stats fds exist; their files tell us.
            std::vector<FileId> ids;
            for (int fd : vm->held_files()) {
                struct stat st {};
                if (::fstat(fd, &st) == 0) ids.emplace_back(st.st_dev, st.st_ino);
            }
            if (process_holds_any(vm->owner(), ids)) {
                spdlog::info("VM fd of VM {} (pid {}) closed; its vCPU/stats fds keep it alive",
                             vm->id(), vm->owner());
            } else {
                spdlog::info("VM {} (pid {}) released: destroying it", vm->id(), vm->owner());
                system_.destroy_vm(vm->id());
            }
        }
        files_.erase(it);
    }
    std::erase_if(pending_plans_, [&](const auto& kv) { return std::get<1>(kv.first) == r.fi->fh; });
    fuse_reply_err(r.req, 0);
}

void CuseDevice::on_ioctl(Request& r) {
    const auto it = files_.find(r.fi->fh);
    if (it == files_.end()) {
        fuse_reply_err(r.req, EBADF);
        return;
    }
    if ((r.flags & FUSE_IOCTL_COMPAT) != 0) {
        fuse_reply_err(r.req, ENOTTY);  // no 32-bit compat ioctls, as KVM without compat
        return;
    }
    const pid_t tid = fuse_req_ctx(r.req)->pid;
    const PlanKey key{tid, r.fi->fh, r.cmd, r.arg};

    // The plan of this round: what we asked the kernel for last round, or nothing yet. The
    // handler runs first so that requests it refuses without reading memory (unknown or
    // wrong-scope ioctls) get the kernel's errno even with a bad pointer.
    IoPlan plan;
    if (auto p = pending_plans_.find(key); p != pending_plans_.end()) {
        if (!r.in.empty() || r.out_size != 0) plan = std::move(p->second);
        pending_plans_.erase(p);
    }

    CuseUserIo io(plan, r.in);
    const long result = dispatch(r, it->second, io);
    if (io.needs_retry()) {
        // The handler touches memory: ask for the _IOC-described argument at once as well, to
        // save rounds.
        IoPlan next = io.retry_plan();
        for (const auto& reg : initial_plan(r.cmd, r.arg).in)
            if (std::find(next.in.begin(), next.in.end(), reg) == next.in.end()) next.in.push_back(reg);
        for (const auto& reg : initial_plan(r.cmd, r.arg).out) {
            if (std::find(next.out.begin(), next.out.end(), reg) == next.out.end()) next.out.push_back(reg);
            if (std::find(next.in.begin(), next.in.end(), reg) == next.in.end()) next.in.push_back(reg);
        }
        if (pending_plans_.size() >= kMaxPendingPlans) pending_plans_.clear();
        const auto in = to_iovecs(next.in);
        const auto out = to_iovecs(next.out);
        if (in.size() + out.size() > FUSE_IOCTL_MAX_IOV) {
            fuse_reply_err(r.req, ENOMEM);
            return;
        }
        pending_plans_[key] = std::move(next);
        fuse_reply_ioctl_retry(r.req, in.data(), in.size(), out.data(), out.size());
        return;
    }
    const auto out = io.out_buffer();
    fuse_reply_ioctl(r.req, static_cast<int>(result), out.data(), out.size());
}

long CuseDevice::dispatch(Request& r, OpenFile& file, CuseUserIo& io) {
    const pid_t tid = fuse_req_ctx(r.req)->pid;
    if (u::ioc_type(r.cmd) == u::KVMEMU_PRIVATE_TYPE) return private_ioctl(r, file, io);

    kvm::Caller caller{tid, 0};
    if (!file.vm) {
        if (r.cmd == u::CREATE_VM) {
            if (create_vm_hints_.size() > 1024) create_vm_hints_.clear();
            if (create_vm_hints_[tid]++ == 0)
                spdlog::warn("thread {} called KVM_CREATE_VM on {} directly: a VM fd can only be "
                             "handed out under the launcher; run the program as "
                             "'kvmemu-run -- PROGRAM ARGS' (answered EOPNOTSUPP)",
                             tid, path());
        }
        return system_.ioctl(caller, r.cmd, r.arg, io);
    }
    // VM fd: the caller's process must be the VM's (EIO otherwise, as KVM).
    auto task = caps::ProcTask::open(tid);
    if (task) {
        if (auto tgid = task->tgid()) caller.tgid = *tgid;
    }
    return file.vm->ioctl(caller, r.cmd, r.arg, io);
}

bool CuseDevice::from_own_process(pid_t tid) const {
    const std::string p = "/proc/self/task/" + std::to_string(tid);
    struct stat st {};
    return tid > 0 && ::stat(p.c_str(), &st) == 0;
}

long CuseDevice::private_ioctl(Request& r, OpenFile& file, CuseUserIo& io) {
    const pid_t tid = fuse_req_ctx(r.req)->pid;
    if (!from_own_process(tid)) return -ENOTTY;  // does not exist for anyone else
    switch (r.cmd) {
        case u::KVMEMU_BIND_VM: {
            auto id = io.read_obj<std::uint64_t>(r.arg);
            if (!id) return -id.error();
            if (file.vm) return -EBUSY;
            auto vm = system_.find_vm(*id);
            if (!vm) return -ENOENT;
            file.vm = std::move(vm);
            return 0;
        }
        case u::KVMEMU_IDENTIFY_VM:
            if (!file.vm) return -ENOENT;
            return -io.write_obj<std::uint64_t>(r.arg, file.vm->id());
        default: return -ENOTTY;
    }
}

}  // namespace kvmemu::daemon
