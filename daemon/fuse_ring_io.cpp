// FuseRingIo: a FUSE/CUSE loop's reads and replies, through io_uring when the kernel allows it.
#include "daemon/fuse_ring_io.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace kvmemu::daemon {

namespace {

constexpr std::uint64_t kReadTag = 1;
constexpr std::uint64_t kWriteTag = 2;
constexpr auto kCurrentPosition = static_cast<std::uint64_t>(-1);  // a stream: no offset

void report_failed_reply(const std::string& label, int err) {
    // ENOENT: the request was interrupted or its caller is gone; the kernel dropped it.
    if (err == ENOENT) spdlog::debug("{}: a reply found its request gone", label);
    else spdlog::error("{}: writing a reply failed: {}", label, std::strerror(err));
}

}  // namespace

struct FuseRingIo::Ring {
    io_uring ring{};
    bool live = false;
    Ring() = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring() {
        if (live) io_uring_queue_exit(&ring);
    }
};

FuseRingIo::FuseRingIo(CuseIoMode mode, std::string label) : mode_(mode), label_(std::move(label)) {}

FuseRingIo::~FuseRingIo() = default;

bool FuseRingIo::set_up_ring(int fd) {
    auto r = std::make_unique<Ring>();
    io_uring_params params{};
    // One thread submits and reaps: completions then run only when it waits for them.
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int e = io_uring_queue_init_params(4, &r->ring, &params);
    if (e == -EINVAL) {  // a kernel before 6.1
        params = {};
        e = io_uring_queue_init_params(4, &r->ring, &params);
    }
    if (e < 0) {
        spdlog::warn("{}: io_uring is unavailable ({}); each request costs a read and a writev",
                     label_, std::strerror(-e));
        return false;
    }
    r->live = true;
    // Non-blocking: io_uring then waits for a request by polling the device, in this thread,
    // instead of parking a kernel worker in a blocking read.
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        spdlog::warn("{}: cannot make {} non-blocking ({}); not using io_uring", label_, fd,
                     std::strerror(errno));
        return false;
    }
    ring_ = std::move(r);
    spdlog::info("{}: requests go through io_uring (a reply and the next read in one system call)",
                 label_);
    return true;
}

ssize_t FuseRingIo::read(int fd, void* buf, std::size_t len) {
    if (!ring_ && !plain_) {
        loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
        if (mode_ == CuseIoMode::syscalls) {
            spdlog::info("{}: requests are read with read() and answered with writev()", label_);
            plain_ = true;
        } else if (!set_up_ring(fd)) {
            plain_ = true;
        }
    }
    if (!ring_) return ::read(fd, buf, len);
    return read_with_ring(fd, buf, len);
}

ssize_t FuseRingIo::read_with_ring(int fd, void* buf, std::size_t len) {
    io_uring* ring = &ring_->ring;
    const auto queue_read = [&] {
        io_uring_sqe* sqe = io_uring_get_sqe(ring);  // never null: at most two in a ring of four
        io_uring_prep_read(sqe, fd, read_buf_.data(), static_cast<unsigned>(read_buf_.size()),
                           kCurrentPosition);
        io_uring_sqe_set_data64(sqe, kReadTag);
        read_queued_ = true;
    };
    if (!read_queued_) {
        if (read_buf_.size() < len) read_buf_.resize(len);
        if (reply_pending_) {
            // The reply first, and the read linked behind it. Both post a completion and the
            // wait below is for both (the write's is there at once): one io_uring_enter. A
            // failed write cancels the read, which is queued anew below. (Not
            // IOSQE_CQE_SKIP_SUCCESS: a failing write with it cancels the read silently.)
            io_uring_sqe* sqe = io_uring_get_sqe(ring);
            io_uring_prep_write(sqe, fd, reply_.data(), static_cast<unsigned>(reply_.size()),
                                kCurrentPosition);
            io_uring_sqe_set_data64(sqe, kWriteTag);
            io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
            reply_pending_ = false;
            write_queued_ = true;
        }
        queue_read();
    }
    for (;;) {
        // Every operation still queued posts a completion: wait for all of them.
        const unsigned in_flight = unsigned{read_queued_} + unsigned{write_queued_};
        const int submitted = io_uring_submit_and_wait(ring, in_flight);
        if (submitted < 0) {
            if (submitted != -EINTR)
                spdlog::error("{}: io_uring_enter failed: {}", label_, std::strerror(-submitted));
            errno = -submitted;
            return -1;
        }
        bool have_read = false;
        int result = 0;
        io_uring_cqe* cqe = nullptr;
        while (io_uring_peek_cqe(ring, &cqe) == 0 && cqe != nullptr) {
            const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
            const int res = cqe->res;
            io_uring_cqe_seen(ring, cqe);
            if (tag == kWriteTag) {
                write_queued_ = false;
                if (res < 0) report_failed_reply(label_, -res);
            } else if (tag == kReadTag) {
                read_queued_ = false;
                have_read = true;
                result = res;
            }
        }
        if (!have_read) continue;
        if (result == -ECANCELED || result == -EAGAIN) {  // behind a failed reply; or spurious
            queue_read();
            continue;
        }
        if (result < 0) {
            errno = -result;
            return -1;
        }
        const auto n = static_cast<std::size_t>(result);
        if (n > len) {  // cannot happen: the read asked for at most what the caller offered
            spdlog::error("{}: a request of {} bytes does not fit libfuse's {}", label_, n, len);
            errno = EIO;
            return -1;
        }
        std::memcpy(buf, read_buf_.data(), n);
        return result;
    }
}

ssize_t FuseRingIo::writev(int fd, const iovec* iov, int count) {
    // A reply from another thread goes at once, touching nothing of the loop's (a write to the
    // device is one whole reply, whatever else is in flight).
    if (std::this_thread::get_id() != loop_thread_.load(std::memory_order_relaxed))
        return ::writev(fd, iov, count);
    // At once: before the device exists, or while the reply buffer may still be read by a write
    // in flight (a read interrupted by a signal and still queued).
    if (!ring_ || !deferring_ || write_queued_ || read_queued_) return ::writev(fd, iov, count);
    if (reply_pending_) {  // two replies without a read between: the older one goes first
        if (::write(fd, reply_.data(), reply_.size()) < 0) report_failed_reply(label_, errno);
        reply_pending_ = false;
    }
    std::size_t total = 0;
    for (int i = 0; i < count; ++i) total += iov[i].iov_len;
    reply_.resize(total);
    std::size_t at = 0;
    for (int i = 0; i < count; ++i) {
        if (iov[i].iov_len != 0) std::memcpy(reply_.data() + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    reply_pending_ = true;
    return static_cast<ssize_t>(total);
}

}  // namespace kvmemu::daemon
