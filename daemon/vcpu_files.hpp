// VcpuFiles: the files behind vCPU fds. A private FUSE filesystem of the daemon, mounted
// detached (fsmount(): no path reaches it; only fds the supervisor hands out), holds one regular
// file of KVM_GET_VCPU_MMAP_SIZE bytes per vCPU: its run area. A program's mmap() of its vCPU fd
// shares kvm_run with the daemon's own (mlocked) mapping through the page cache, and the vCPU
// ioctls whose argument has a fixed size reach the daemon here, through FUSE's restricted ioctl,
// without the seccomp supervisor.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"
#include "daemon/fuse_ioctl_io.hpp"
#include "daemon/fuse_loop.hpp"
#include "daemon/fuse_ring_io.hpp"
#include "kvm/run_area.hpp"
#include "kvm/system.hpp"

struct fuse_session;

namespace kvmemu::daemon {

class VcpuFiles {
public:
    struct Options {
        std::string fuse_path = "/dev/fuse";
        CuseIoMode io_mode = CuseIoMode::ring;
    };

    VcpuFiles(kvm::System& system, Options options);
    ~VcpuFiles();
    VcpuFiles(const VcpuFiles&) = delete;
    VcpuFiles& operator=(const VcpuFiles&) = delete;

    // Mounts the filesystem and serves it on a thread of its own. 0 or a positive errno (EPERM:
    // no CAP_SYS_ADMIN to mount; ENODEV: no FUSE in the kernel).
    int start();
    // Stops serving: calls still waiting here get an answer first; afterwards the files fail
    // with ENOTCONN. Idempotent. The supervisor must be stopped first (it ends running KVM_RUNs,
    // which calls waiting here may be queued behind).
    void stop();

    // A run area for a new vCPU: a new file, opened and mapped (mlocked) by the daemon. Never
    // call it on the loop thread (it waits for the loop to answer the open and the reads).
    Expected<kvm::RunArea> make_run_area();
    // st_dev of the files: how the supervisor recognises them.
    [[nodiscard]] dev_t dev() const { return dev_; }

    // Called by the low-level callbacks (public for the C trampolines only).
    struct Files;  // what the loop and the run areas share (outlives this object if need be)
    void on_ioctl(void* req, std::uint64_t ino, std::uint32_t cmd, std::uint64_t arg,
                  std::span<const std::byte> in, std::size_t out_size);
    [[nodiscard]] Files& files() { return *files_; }
    FuseRingIo& io() { return io_; }

private:
    // Runs a call that would wait on a thread of its own, which replies.
    void call_elsewhere(void* req, kvm::System::VcpuRef ref, kvm::Caller caller, std::uint32_t cmd,
                        std::uint64_t arg, FuseIoctlIo io);
    void reap_finished_calls_locked();

    kvm::System& system_;
    Options options_;
    std::shared_ptr<Files> files_;
    UniqueFd mount_;  // the detached mount
    dev_t dev_ = 0;
    fuse_session* session_ = nullptr;
    FuseRingIo io_;
    FuseLoop loop_;

    struct ElsewhereCall {
        kvm::System* system = nullptr;
        pid_t tid = 0;  // the caller (kicked when the call is interrupted)
        std::thread thread;
        std::atomic<bool> done{false};
    };
    std::mutex calls_mu_;
    std::list<ElsewhereCall> calls_;
    bool stopping_ = false;  // guarded by calls_mu_
};

}  // namespace kvmemu::daemon
