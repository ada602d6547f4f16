// FuseRingIo: how a FUSE or CUSE loop reads requests from its device and writes replies. With
// io_uring, a reply is held back and written in the same io_uring_enter that reads the next
// request, so a request costs the daemon one system call instead of two (read, then writev).
// Without io_uring (or with --cuse-io=syscalls) it is plain read() and writev().
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace kvmemu::daemon {

enum class CuseIoMode { ring, syscalls };

class FuseRingIo {
public:
    // `label` starts the log lines ("CUSE", "vCPU files").
    FuseRingIo(CuseIoMode mode, std::string label);
    ~FuseRingIo();
    FuseRingIo(const FuseRingIo&) = delete;
    FuseRingIo& operator=(const FuseRingIo&) = delete;

    // libfuse's custom I/O contract: a byte count, or -1 with errno set. read() is called on the
    // loop thread only; it blocks until a request arrives, and a signal interrupts it with EINTR
    // (a read already queued stays queued and a later read() returns its result). writev() may
    // also be called on other threads (a reply made elsewhere): those are written at once.
    ssize_t read(int fd, void* buf, std::size_t len);
    ssize_t writev(int fd, const iovec* iov, int count);

    // From now on replies are deferred to the next read(). Until
    // then every reply is written at once: the CUSE INIT reply must reach the kernel before the
    // device node can appear.
    void defer_replies() { deferring_ = true; }

    // What is in use (the ring is set up by the first read(); before that, the mode asked for).
    [[nodiscard]] bool using_ring() const noexcept { return ring_ != nullptr; }

private:
    struct Ring;
    bool set_up_ring(int fd);
    ssize_t read_with_ring(int fd, void* buf, std::size_t len);

    CuseIoMode mode_;
    const std::string label_;
    std::atomic<std::thread::id> loop_thread_{};  // the thread that reads (set by read())
    bool plain_ = false;  // decided: read() and writev() (not asked for a ring, or none to be had)
    bool deferring_ = false;
    // Buffers the kernel may still write or read while an operation is in flight: declared
    // before ring_ so that they outlive it (destroying the ring cancels and waits).
    std::vector<std::byte> read_buf_;
    std::vector<std::byte> reply_;
    bool reply_pending_ = false;
    bool read_queued_ = false;   // a read submitted (or to be) whose completion is not reaped yet
    bool write_queued_ = false;  // likewise a reply's write (always linked in front of a read)
    std::unique_ptr<Ring> ring_;
};

}  // namespace kvmemu::daemon
