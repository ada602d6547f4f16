// ProcessMemory: the process_vm_readv/writev loop (IOV_MAX pieces, short counts resumed) and
// the pidfd checks around it.
#include "guestmem/process_memory.hpp"

#include <climits>

#include <algorithm>
#include <array>
#include <cerrno>

namespace kvmemu::guestmem {

namespace {

std::size_t total(std::span<const iovec> v) {
    std::size_t n = 0;
    for (const iovec& e : v) n += e.iov_len;
    return n;
}

// A position inside an iovec array that can take the next up-to-IOV_MAX elements from there.
class Cursor {
public:
    explicit Cursor(std::span<const iovec> v) : v_(v) { skip_empty(); }

    // Fills `out` with the remaining elements (the first one trimmed by the offset), returns
    // how many were written.
    std::size_t fill(std::span<iovec> out) const {
        std::size_t n = 0;
        std::size_t off = off_;
        for (std::size_t i = idx_; i < v_.size() && n < out.size(); ++i) {
            if (v_[i].iov_len == off) {  // empty element
                off = 0;
                continue;
            }
            out[n].iov_base = static_cast<char*>(v_[i].iov_base) + off;
            out[n].iov_len = v_[i].iov_len - off;
            off = 0;
            ++n;
        }
        return n;
    }

    void advance(std::size_t bytes) {
        while (bytes > 0 && idx_ < v_.size()) {
            const std::size_t left = v_[idx_].iov_len - off_;
            if (bytes < left) {
                off_ += bytes;
                return;
            }
            bytes -= left;
            ++idx_;
            off_ = 0;
        }
        skip_empty();
    }

private:
    void skip_empty() {
        while (idx_ < v_.size() && v_[idx_].iov_len == off_) {
            ++idx_;
            off_ = 0;
        }
    }

    std::span<const iovec> v_;
    std::size_t idx_ = 0;
    std::size_t off_ = 0;
};

}  // namespace

IoResult ProcessMemory::transfer(bool write, std::span<const iovec> local,
                                 std::span<const iovec> remote, bool confirm) const {
    const std::size_t want = total(local);
    if (want != total(remote)) return {0, EINVAL};
    if (write && process_.exited()) return {0, ESRCH};

    IoResult r;
    Cursor lc(local);
    Cursor rc(remote);
    // The caller's arrays go to the kernel as they are while they fit and nothing has moved;
    // after a short transfer (or for longer arrays) trimmed copies of the rest are built.
    const bool direct = local.size() <= IOV_MAX && remote.size() <= IOV_MAX;
    std::array<iovec, IOV_MAX> lv;  // NOLINT: filled before use
    std::array<iovec, IOV_MAX> rv;  // NOLINT: filled before use
    while (r.bytes < want) {
        const iovec* lp = local.data();
        const iovec* rp = remote.data();
        std::size_t ln = local.size();
        std::size_t rn = remote.size();
        if (!direct || r.bytes > 0) {
            ln = lc.fill(lv);
            rn = rc.fill(rv);
            lp = lv.data();
            rp = rv.data();
        }
        const ssize_t n = write ? ::process_vm_writev(process_.pid(), lp, ln, rp, rn, 0)
                                : ::process_vm_readv(process_.pid(), lp, ln, rp, rn, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            r.error = errno;
            break;
        }
        if (n == 0) {  // nothing moved without an error: the next remote page is not there
            r.error = EFAULT;
            break;
        }
        r.bytes += static_cast<std::size_t>(n);
        lc.advance(static_cast<std::size_t>(n));
        rc.advance(static_cast<std::size_t>(n));
    }
    if (confirm && process_.exited()) r.error = ESRCH;
    return r;
}

IoResult ProcessMemory::read_batch(std::span<const iovec> local,
                                   std::span<const iovec> remote) const {
    return transfer(false, local, remote);
}

IoResult ProcessMemory::read_batch_unconfirmed(std::span<const iovec> local,
                                               std::span<const iovec> remote) const {
    return transfer(false, local, remote, false);
}

IoResult ProcessMemory::write_batch(std::span<const iovec> local,
                                    std::span<const iovec> remote) const {
    return transfer(true, local, remote);
}

int ProcessMemory::read(std::uint64_t hva, std::span<std::byte> out) const {
    const iovec l{out.data(), out.size()};
    const iovec r{reinterpret_cast<void*>(hva), out.size()};
    return transfer(false, {&l, 1}, {&r, 1}).error;
}

int ProcessMemory::write(std::uint64_t hva, std::span<const std::byte> in) const {
    const iovec l{const_cast<std::byte*>(in.data()), in.size()};
    const iovec r{reinterpret_cast<void*>(hva), in.size()};
    return transfer(true, {&l, 1}, {&r, 1}).error;
}

}  // namespace kvmemu::guestmem
