// ProcessMemory: reads and writes of the client's address space (guest memory lives there) with
// process_vm_readv/writev, batched, short transfers resumed, pid reuse caught through the pidfd.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "guestmem/client_process.hpp"

namespace kvmemu::guestmem {

// Outcome of a batch: `bytes` moved (in order, from the start of the batch) before `error`
// stopped it; error 0 means everything was moved.
struct IoResult {
    std::size_t bytes = 0;
    int error = 0;
};

// Errors (positive errno):
//   EFAULT  part of the client range is not mapped (e.g. the client munmap'd its guest memory)
//           or not accessible that way (a write to a read-only mapping);
//   ESRCH   the client process has exited (checked through the pidfd after every batch, so a
//           process that reuses the pid is never reported as the client; except by
//           read_batch_unconfirmed(), whose caller checks later);
//   EPERM   the daemon may not access the client (no CAP_SYS_PTRACE over it);
//   ENOMEM  the kernel could not pin the pages.
// A batch that ends with the client exited is reported as ESRCH whatever it moved: read data is
// then meaningless. Writes check the pidfd before and after; the remaining window (the client
// exits, is reaped and its pid reused between the check and the syscall) needs a full pid wrap.
// Thread-safe: the methods are const and keep no state besides the pidfd.
class ProcessMemory {
public:
    explicit ProcessMemory(ClientProcess process) : process_(std::move(process)) {}

    [[nodiscard]] const ClientProcess& process() const noexcept { return process_; }

    // Exactly out.size() bytes from client address hva. 0 or an errno above.
    [[nodiscard]] int read(std::uint64_t hva, std::span<std::byte> out) const;
    // Exactly in.size() bytes to client address hva. 0 or an errno above.
    [[nodiscard]] int write(std::uint64_t hva, std::span<const std::byte> in) const;

    // Scatter/gather: the concatenation of `remote` (client ranges, iov_base = client address)
    // is moved to/from the concatenation of `local` (daemon buffers); the totals must be equal
    // (EINVAL otherwise). Any number of elements: split into IOV_MAX pieces, short transfers
    // resumed where they stopped. One pidfd check per call.
    [[nodiscard]] IoResult read_batch(std::span<const iovec> local,
                                      std::span<const iovec> remote) const;
    [[nodiscard]] IoResult write_batch(std::span<const iovec> local,
                                       std::span<const iovec> remote) const;
    // read_batch() without the pidfd check: cheaper by one system call, but what it returns may
    // come from a process that reused the pid of a client that exited and was reaped. Before
    // anything read this way leaves the daemon (reaches a client), process().exited() must say
    // the client is still there (PageCache::flush() does).
    [[nodiscard]] IoResult read_batch_unconfirmed(std::span<const iovec> local,
                                                  std::span<const iovec> remote) const;

private:
    [[nodiscard]] IoResult transfer(bool write, std::span<const iovec> local,
                                    std::span<const iovec> remote, bool confirm = true) const;

    ClientProcess process_;
};

}  // namespace kvmemu::guestmem
