// Page-frame facts for one client process: /proc/PID/pagemap entries (present, PFN) and
// /proc/kpageflags bits, and the "is this 2 MiB region one PMD-sized THP" test built on them.
#pragma once

#include <cstdint>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::guestmem {

// pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
inline constexpr std::uint64_t kPmPresent = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kPmSwapped = std::uint64_t{1} << 62;
inline constexpr std::uint64_t kPmPfnMask = (std::uint64_t{1} << 55) - 1;
constexpr bool pm_present(std::uint64_t e) { return (e & kPmPresent) != 0; }
constexpr std::uint64_t pm_pfn(std::uint64_t e) { return e & kPmPfnMask; }

// kpageflags bits (include/uapi/linux/kernel-page-flags.h).
inline constexpr unsigned kKpfCompoundHead = 15;
inline constexpr unsigned kKpfCompoundTail = 16;
inline constexpr unsigned kKpfHuge = 17;  // hugetlb
inline constexpr unsigned kKpfNoPage = 20;
inline constexpr unsigned kKpfThp = 22;   // any large anon/shmem folio (mTHP too), huge zero page
inline constexpr unsigned kKpfZeroPage = 24;
constexpr bool kpf(std::uint64_t flags, unsigned bit) { return ((flags >> bit) & 1) != 0; }

inline constexpr unsigned kPagesPer2M = 512;

// What one 2 MiB-aligned region of the client is backed by.
enum class RegionBacking : std::uint8_t {
    NotPresent,  // the probed page is not in memory (never touched, swapped, unmapped)
    Small,       // present, and not one PMD-sized THP
    Thp2M,       // one compound THP page of 512 frames, PFN-aligned, mapped in order
    HugeZero,    // the huge zero page (read-only THP-eligible memory never written)
};

// Classifies 512 pagemap entries of a 2 MiB-aligned region and the kpageflags of their frames
// (`flags` may be null when the entries already rule THP out). `probe` is the index of the page
// that was asked about. Pure: the unit tests feed it synthetic entries.
RegionBacking classify_region(const std::uint64_t* entries, const std::uint64_t* flags,
                              unsigned probe);

class PageFlags {
public:
    // Opens <proc_dir>/pagemap and /proc/kpageflags (root only). ESRCH/EACCES... from pagemap;
    // a kpageflags that cannot be opened is reported by thp_available() == false, not an error.
    static Expected<PageFlags> open(int proc_dir);

    [[nodiscard]] bool thp_available() const noexcept { return kpageflags_.valid(); }
    // Whether the kernel answers PAGEMAP_SCAN (Linux 6.7+); false after the first refusal.
    [[nodiscard]] bool scan_available() const noexcept { return scan_available_; }

    // Backing of the 2 MiB region at `base` (2 MiB aligned), asked for address `hva` in it.
    // A region kpageflags calls one THP is confirmed PMD-mapped with PAGEMAP_SCAN's PAGE_IS_HUGE
    // where the kernel has it (a THP split to PTEs by a partial mprotect/munmap is then Small,
    // as KVM's host page-table walk would see it).
    // EPERM when pagemap shows present pages without PFNs (no CAP_SYS_ADMIN), ENOTSUP without
    // kpageflags, ESRCH when the process is gone, EIO for short reads.
    [[nodiscard]] Expected<RegionBacking> region(std::uint64_t base, std::uint64_t hva);
    // PAGEMAP_SCAN: is all of [base, base + 2 MiB) present and mapped huge (PMD or hugetlb)?
    // ENOTTY/EINVAL from kernels without the ioctl.
    [[nodiscard]] Expected<bool> mapped_huge(std::uint64_t base) const;

private:
    PageFlags(UniqueFd pagemap, UniqueFd kpageflags)
        : pagemap_(std::move(pagemap)), kpageflags_(std::move(kpageflags)) {}

    UniqueFd pagemap_;
    UniqueFd kpageflags_;
    bool scan_available_ = true;
};

}  // namespace kvmemu::guestmem
