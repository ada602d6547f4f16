// PageCache: daemon-local 4 KiB copies of the client's guest pages for one vCPU's runs, loaded on
// first touch, written back when dirty: how the CPU engine sees memory that lives in the client.
//
// Coherence protocol (issue 4, "memory coherence"), for the vCPU thread that owns the cache:
//   KVM_RUN entry:   invalidate() -- the cache is empty, so every write the client made while the
//                    vCPU was stopped is seen (pages are read from the client on first touch);
//   during the run:  page(hva, for_write) for every page the engine touches; write accesses only
//                    through a pointer obtained with for_write = true (that marks the page dirty);
//   every exit to userspace (IO, MMIO, HLT, SHUTDOWN, INTR, errors), before the exit is
//                    reported (so before the client sees kvm_run for a port-I/O exit): flush() --
//                    the client's memory then holds every guest write of the run.
// Cost per run: one process_vm_readv (+ one pidfd poll) per page first touched in the run, and
// one process_vm_writev (+ two polls) per flush for all changed bytes together (one iovec per
// changed run; WholePages: client-adjacent pages share a remote iovec); none if nothing changed.
// Measured (guestmem/README.md): ~3.5-4.5 us CPU per page touched, ~3 us per flush; prefetch()
// of a contiguous range brings the per-page load cost to ~1.2-1.6 us.
// Write-back (WriteBack below): ChangedBytes (default) snapshots a page when it is first taken
// for writing and flush() writes only the byte runs that differ from the snapshot, so a client
// thread writing other bytes of the same page during the run (an I/O thread filling a ring) keeps
// its write; WholePages writes dirty pages whole (no snapshot copy, no compare).
// Limits: vCPUs do not see each other's writes until the writer's exit and the reader's next
// KVM_RUN (no cross-vCPU coherence during concurrent runs); a byte both the guest and the client
// write during one run ends with the guest's value.
// Thread-safety: none; one PageCache per vCPU, used by that vCPU's thread only.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "guestmem/process_memory.hpp"

namespace kvmemu::guestmem {

struct PageCacheStats {
    std::uint64_t loads = 0;         // pages read from the client
    std::uint64_t read_calls = 0;    // read batches (one process_vm_readv each, usually)
    std::uint64_t flushes = 0;       // flush() calls that had dirty pages
    std::uint64_t pages_written = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t write_calls = 0;   // write batches
};

enum class WriteBack : std::uint8_t { ChangedBytes, WholePages };

class PageCache {
public:
    static constexpr std::size_t kPageSize = 4096;

    // `memory` must outlive the cache.
    explicit PageCache(const ProcessMemory& memory, WriteBack mode = WriteBack::ChangedBytes);

    // The daemon-local copy of the client page holding `hva` (pointer to the page's first byte),
    // read from the client on first touch since the last invalidate(); for_write marks it dirty.
    // Stays valid until invalidate(). nullptr on failure, error() then says why (EFAULT: the
    // client has no memory there; ESRCH: the client is gone).
    [[nodiscard]] std::uint8_t* page(std::uint64_t hva, bool for_write);
    // Loads the missing pages of [hva, hva + len) in one batch (e.g. before a rep movs over
    // them). 0 or an errno; pages before a failing one stay loaded.
    [[nodiscard]] int prefetch(std::uint64_t hva, std::size_t len);
    [[nodiscard]] int error() const noexcept { return error_; }

    // Writes every dirty page back to the client, which then become clean. 0 or an errno
    // (pages not written stay dirty). Also the check that the pages read since the last flush
    // came from the client: loads skip the pidfd check (one system call per page first
    // touched), so ESRCH here means the client is gone and nothing read may be used.
    [[nodiscard]] int flush();
    // Drops every copy (dirty ones too: flush() first). Keeps the storage for the next run.
    void invalidate() noexcept;

    [[nodiscard]] std::size_t cached_pages() const noexcept { return slots_.size(); }
    [[nodiscard]] std::size_t dirty_pages() const noexcept { return dirty_.size(); }
    [[nodiscard]] const PageCacheStats& stats() const noexcept { return stats_; }

private:
    struct alignas(kPageSize) Frame {
        std::array<std::uint8_t, kPageSize> bytes;
    };
    static constexpr std::size_t kFramesPerChunk = 64;
    struct Slot {
        std::uint64_t page;  // client page address (hva & ~0xfff)
        bool dirty;
    };

    std::uint8_t* frame(std::size_t slot) noexcept;
    std::uint8_t* snapshot(std::size_t slot);
    std::size_t new_slot(std::uint64_t page);
    int load(std::uint64_t first_page, std::size_t count);
    // ESRCH if pages were loaded since the last check and the client has exited since; else 0.
    int confirm_reads();
    void mark_dirty(std::uint32_t slot);
    // Appends the client ranges to write for dirty slot `s`; returns their byte count.
    std::size_t add_runs(std::uint32_t s);

    const ProcessMemory& memory_;
    const WriteBack mode_;
    std::vector<std::unique_ptr<Frame[]>> chunks_;  // stable addresses; reused after invalidate
    std::vector<std::unique_ptr<Frame[]>> snapshots_;  // same layout, ChangedBytes only
    std::vector<Slot> slots_;
    std::unordered_map<std::uint64_t, std::uint32_t> index_;  // page >> 12 -> slot
    std::vector<std::uint32_t> dirty_;
    std::uint64_t last_page_ = ~std::uint64_t{0};  // one-entry lookaside
    std::uint32_t last_slot_ = 0;
    int error_ = 0;
    bool reads_unconfirmed_ = false;  // loaded since the last check that the client is there
    PageCacheStats stats_;
    std::vector<iovec> local_;   // scratch for batches
    std::vector<iovec> remote_;
    std::vector<std::size_t> run_bytes_;
};

}  // namespace kvmemu::guestmem
