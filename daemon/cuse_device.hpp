// CuseDevice: the /dev/NAME character device through CUSE. Each open file is a system fd or,
// once the supervisor binds it, a VM fd; ioctls go to the KVM object model.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "daemon/fuse_loop.hpp"
#include "daemon/fuse_ring_io.hpp"
#include "daemon/cuse_user_io.hpp"
#include "kvm/system.hpp"

struct fuse_session;

namespace kvmemu::daemon {

class CuseDevice {
public:
    struct Options {
        std::string name = "kvm";  // /dev/<name>
        std::string cuse_path = "/dev/cuse";
        CuseIoMode io_mode = CuseIoMode::ring;
    };

    CuseDevice(kvm::System& system, Options options);
    ~CuseDevice();
    CuseDevice(const CuseDevice&) = delete;
    CuseDevice& operator=(const CuseDevice&) = delete;

    // Creates the device and starts serving on a thread of its own. `on_ready` runs (on that
    // thread) once the kernel has created the device node. Returns 0 or a positive errno.
    int start(std::function<void()> on_ready);
    // Stops serving; open files then fail with ENODEV. Idempotent.
    void stop();

    [[nodiscard]] std::string path() const { return "/dev/" + options_.name; }
    // st_rdev of the device: how the supervisor recognises our files in other processes.
    [[nodiscard]] dev_t rdev() const { return rdev_.load(); }

    // Called by the low-level callbacks (public for the C trampolines only).
    struct Request;
    void on_init_done();
    void on_open(Request& req);
    void on_release(Request& req);
    void on_ioctl(Request& req);
    FuseRingIo& io() { return io_; }

private:
    struct OpenFile {
        std::shared_ptr<kvm::Vm> vm;  // null: a system fd
    };
    using PlanKey = std::tuple<pid_t, std::uint64_t, std::uint32_t, std::uint64_t>;

    long dispatch(Request& req, OpenFile& file, CuseUserIo& io);
    long private_ioctl(Request& req, OpenFile& file, CuseUserIo& io);
    bool from_own_process(pid_t tid) const;

    kvm::System& system_;
    Options options_;
    fuse_session* session_ = nullptr;
    FuseLoop loop_;
    std::function<void()> on_ready_;
    std::atomic<dev_t> rdev_{0};
    FuseRingIo io_;  // the loop thread's reads and replies

    // Touched only on the loop thread.
    std::uint64_t next_fh_ = 1;
    std::map<std::uint64_t, OpenFile> files_;
    std::map<PlanKey, IoPlan> pending_plans_;  // ioctls waiting for the kernel's retry
    std::map<pid_t, unsigned> create_vm_hints_;  // processes told to use kvmemu-run
};

}  // namespace kvmemu::daemon
