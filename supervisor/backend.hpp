// The contract between the seccomp supervisor (a transport) and whoever answers trapped ioctls
// (the daemon, on top of the KVM object model). The supervisor knows nothing of KVM semantics.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

#include "common/unique_fd.hpp"
#include "common/user_io.hpp"

namespace kvmemu::supervisor {

// One ioctl() the traced program made that the filter trapped.
struct TrappedIoctl {
    pid_t tid = 0;   // calling thread, in the daemon's pid namespace
    pid_t tgid = 0;  // its process
    int fd = -1;     // the fd number in the caller
    std::uint32_t cmd = 0;
    std::uint64_t arg = 0;
};

// The caller's fd: what stat() of it says (read through /proc/<tgid>/task/<tid>/fd/<fd>, no
// copy of the fd needed), and on request a duplicate of it in the daemon (pidfd_getfd).
class TargetFd {
  public:
    TargetFd() = default;
    // `pidfd` (on the caller's process) must stay open while this object is used.
    TargetFd(const struct stat& what, int pidfd, int number) : st(what), pidfd_(pidfd), number_(number) {}

    struct stat st {};

    // The caller's fd duplicated into the daemon, fetched on first use and checked to still be
    // the file `st` describes; -errno if it cannot be had (ESTALE: the caller replaced it).
    int get();

  private:
    int pidfd_ = -1;
    int number_ = -1;
    UniqueFd fd_;
    int error_ = 0;
};

// What to answer. Continue lets the call proceed into the kernel as if never trapped.
struct Reply {
    enum class Kind { Continue, Value, Error, InjectFd };
    Kind kind = Kind::Continue;
    long value = 0;      // Kind::Value: the ioctl's return value (>= 0)
    int error = 0;       // Kind::Error: positive errno
    UniqueFd fd;         // Kind::InjectFd: installed in the caller; its number is the result
    bool cloexec = true; // Kind::InjectFd: O_CLOEXEC on the installed fd

    static Reply cont() { return {}; }
    static Reply val(long v) { Reply r; r.kind = Kind::Value; r.value = v; return r; }
    static Reply err(int e) { Reply r; r.kind = Kind::Error; r.error = e; return r; }
    static Reply inject(UniqueFd f, bool cloexec) {
        Reply r; r.kind = Kind::InjectFd; r.fd = std::move(f); r.cloexec = cloexec; return r;
    }
};

// Threading: handle() runs concurrently on several supervisor threads (each session's receive
// thread, and the per-caller-thread workers of blocking calls); calls of one traced thread
// arrive in order. Every method must be thread-safe.
class Backend {
public:
    virtual ~Backend() = default;
    // Answers one trapped call. Runs on a supervisor thread; may block for long (KVM_RUN) when
    // may_block(cmd) said so, in which case it runs on a thread of its own. `mem` reads and
    // writes the caller's memory. Anything that is not ours must answer Reply::cont() quickly
    // (the filter traps request numbers on every fd).
    virtual Reply handle(const TrappedIoctl& call, TargetFd& target, UserIo& mem) = 0;
    // True for requests that can take unbounded time (KVM_RUN): never run them inline.
    virtual bool may_block(std::uint32_t cmd) const = 0;
    // Asks a call running in handle() on behalf of `tid` to return soon (its caller got a
    // signal or died, or the daemon is stopping). Called only while that handle() runs, at
    // most once per call, from another thread; it must not wait for handle() to return.
    virtual void interrupt(pid_t tid) = 0;
    // The traced process `tgid` has exited (its pidfd, or the listener's POLLHUP, said so):
    // drop what it owned. Called once per process that made a trapped call, after all its
    // calls returned; not called when the supervisor itself stops.
    virtual void process_gone(pid_t tgid) = 0;
};

}  // namespace kvmemu::supervisor
