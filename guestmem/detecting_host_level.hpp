// DetectingHostLevel: the MMU's host-mapping oracle for one client process, from its real
// mapping (hugetlb page size from smaps, PMD-sized THP from pagemap + kpageflags), cached.
//
// The daemon option --host-mapping-level (parsed by kvm/config.hpp) chooses the oracle:
//   detect  this class: 1G/2M where the client's area is hugetlb of that size, 2M where the
//           2 MiB region is one THP, else 4K (details below);
//   4k      mmu::FixedHostLevel(k4K): never huge, every address is 4 KiB-backed;
//   2m      mmu::FixedHostLevel(k2M): every address treated as 2 MiB-backed (UML: no huge pages);
//   1g      mmu::FixedHostLevel(k1G): every address treated as 1 GiB-backed.
// In every case memslot bounds/alignment, dirty logging and the NX rule still cap the level.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "guestmem/client_process.hpp"
#include "guestmem/page_flags.hpp"
#include "guestmem/vma_list.hpp"
#include "mmu/host_mapping.hpp"

namespace kvmemu::guestmem {

// Receives one line per kind of problem (first occurrence only); may be empty.
using HostLevelLog = std::function<void(std::string_view message)>;

struct HostLevelStats {
    std::uint64_t queries = 0;
    std::uint64_t region_hits = 0;    // answered from the per-2M cache
    std::uint64_t vma_reads = 0;      // smaps read and parsed
    std::uint64_t region_probes = 0;  // pagemap (+ kpageflags) read for a 2M region
    std::uint64_t not_present = 0;    // probed page not in memory -> 4K, not cached
    std::uint64_t unmapped = 0;       // no area at the address even after a fresh smaps -> 4K
    std::uint64_t errors = 0;         // /proc unreadable, no PFNs, process gone... -> 4K
};

// Answers, per address:
//   - no area in the client at hva (after re-reading smaps once): 4K, cached for the region;
//   - hugetlb area (smaps KernelPageSize): its page size, 1G or 2M, whether or not the page is
//     populated yet (KVM's GUP would fault the huge page in);
//   - other areas: 2M when the aligned 2 MiB region around hva lies inside the area and
//     pagemap/kpageflags show one compound THP there (head + 511 tails, PFN-aligned, mapped in
//     order: what a PMD mapping needs; mTHP runs or PTE-mapped pieces fail the test); 4K when
//     the page is present and that is not so; 4K, uncached, when the page is not present. KVM
//     maps what the host has at fault time after faulting the page in: a caller that wants the
//     same answer touches the page first (e.g. loads it through PageCache, which faults it in).
// Errors never escape: the answer is 4K, stats().errors counts, the log hears of it once. A
// client that has exited, or whose smaps cannot be read, gets 4K for every address from then on
// (invalidate() retries a live one).
// Cache: the area list (re-read when an address is not in it, and after invalidate*()) and one
// answer per 2 MiB region for non-hugetlb areas. Call invalidate_range() when a memslot is
// added, moved or deleted, and invalidate() when SPTEs are zapped for host reasons.
// Not thread-safe: the MMU calls host_level() under the VM's lock; call invalidate*() under it.
class DetectingHostLevel final : public mmu::HostMappingOracle {
public:
    // A ClientProcess, or the error of opening one (then every answer is 4K, the log says why).
    explicit DetectingHostLevel(Expected<ClientProcess> process, HostLevelLog log = {});
    // Opens the process by pid; if that fails every answer is 4K (and the log says why).
    // Fits kvm::HostOracleFactory: [](pid_t owner) { return DetectingHostLevel::for_pid(owner); }
    static std::unique_ptr<DetectingHostLevel> for_pid(pid_t tgid, HostLevelLog log = {});

    mmu::Level host_level(std::uint64_t hva) override;

    // Forgets the area list and every cached answer.
    void invalidate();
    // Forgets the answers of the 2 MiB regions overlapping [hva, hva + len) and the area list.
    void invalidate_range(std::uint64_t hva, std::uint64_t len);

    [[nodiscard]] const HostLevelStats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t cached_regions() const noexcept { return regions_.size(); }

private:
    void open_sources();
    bool refresh_vmas();
    mmu::Level probe_region(const Vma& vma, std::uint64_t hva);
    void error(std::string_view what, int err);

    std::optional<ClientProcess> process_;
    HostLevelLog log_;
    UniqueFd proc_dir_;
    std::optional<PageFlags> flags_;
    VmaList vmas_;
    bool vmas_loaded_ = false;
    bool dead_ = false;  // the process is gone (or could not be opened): 4K from now on
    std::unordered_map<std::uint64_t, mmu::Level> regions_;  // 2M region number -> answer
    std::unordered_set<std::string> logged_;
    HostLevelStats stats_;
};

}  // namespace kvmemu::guestmem
