// PageFlags: one 4 KiB pread of pagemap and one of kpageflags per 2 MiB region probed.
#include "guestmem/page_flags.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace kvmemu::guestmem {

namespace {

// Reads exactly `len` bytes at `off`; errno on failure, EIO when short.
int pread_all(int fd, void* buf, std::size_t len, off_t off) {
    auto* p = static_cast<char*>(buf);
    std::size_t done = 0;
    while (done < len) {
        const ssize_t n = ::pread(fd, p + done, len - done, off + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        done += static_cast<std::size_t>(n);
    }
    return 0;
}

// PAGEMAP_SCAN ABI (include/uapi/linux/fs.h, Linux 6.7); Debian 12's headers predate it.
struct PageRegion {
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t categories;
};
struct PmScanArg {
    std::uint64_t size;
    std::uint64_t flags;
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t walk_end;
    std::uint64_t vec;
    std::uint64_t vec_len;
    std::uint64_t max_pages;
    std::uint64_t category_inverted;
    std::uint64_t category_mask;
    std::uint64_t category_anyof_mask;
    std::uint64_t return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr std::uint64_t kPageIsPresent = 1u << 3;
constexpr std::uint64_t kPageIsHuge = 1u << 6;

}  // namespace

RegionBacking classify_region(const std::uint64_t* entries, const std::uint64_t* flags,
                              unsigned probe) {
    if (!pm_present(entries[probe])) return RegionBacking::NotPresent;
    const std::uint64_t pfn0 = pm_pfn(entries[0]);
    if (!pm_present(entries[0]) || pfn0 % kPagesPer2M != 0) return RegionBacking::Small;
    for (unsigned i = 1; i < kPagesPer2M; ++i) {
        if (!pm_present(entries[i]) || pm_pfn(entries[i]) != pfn0 + i) return RegionBacking::Small;
    }
    if (flags == nullptr) return RegionBacking::Small;
    // One compound page: head at frame 0, 511 tails, all THP (not hugetlb). A run of smaller
    // (mTHP) folios would show more heads.
    if (!kpf(flags[0], kKpfCompoundHead) || !kpf(flags[0], kKpfThp) || kpf(flags[0], kKpfHuge))
        return RegionBacking::Small;
    for (unsigned i = 1; i < kPagesPer2M; ++i) {
        if (!kpf(flags[i], kKpfCompoundTail) || kpf(flags[i], kKpfCompoundHead) ||
            !kpf(flags[i], kKpfThp))
            return RegionBacking::Small;
    }
    return kpf(flags[0], kKpfZeroPage) ? RegionBacking::HugeZero : RegionBacking::Thp2M;
}

Expected<PageFlags> PageFlags::open(int proc_dir) {
    UniqueFd pagemap(::openat(proc_dir, "pagemap", O_RDONLY | O_CLOEXEC));
    if (!pagemap) return Errno{errno == ENOENT ? ESRCH : errno};
    UniqueFd kpageflags(::open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
    return PageFlags(std::move(pagemap), std::move(kpageflags));
}

Expected<bool> PageFlags::mapped_huge(std::uint64_t base) const {
    constexpr std::uint64_t k2M = std::uint64_t{kPagesPer2M} << 12;
    std::array<PageRegion, 4> vec{};
    PmScanArg arg{};
    arg.size = sizeof arg;
    arg.start = base;
    arg.end = base + k2M;
    arg.vec = reinterpret_cast<std::uint64_t>(vec.data());
    arg.vec_len = vec.size();
    arg.return_mask = kPageIsPresent | kPageIsHuge;
    int n;
    do {
        n = ::ioctl(pagemap_.get(), kPagemapScan, &arg);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Errno{errno};
    // Pages with equal categories come back merged: one region covering all of it, or not.
    return n == 1 && vec[0].start == base && vec[0].end == base + k2M &&
           (vec[0].categories & (kPageIsPresent | kPageIsHuge)) == (kPageIsPresent | kPageIsHuge);
}

Expected<RegionBacking> PageFlags::region(std::uint64_t base, std::uint64_t hva) {
    std::array<std::uint64_t, kPagesPer2M> entries;  // NOLINT: filled by pread
    const unsigned probe = static_cast<unsigned>((hva - base) >> 12);
    if (int e = pread_all(pagemap_.get(), entries.data(), sizeof entries,
                          static_cast<off_t>((base >> 12) * 8));
        e != 0) {
        // An exited process's pagemap reads as 0 bytes (EIO here) or fails with ESRCH.
        return Errno{e};
    }
    if (pm_present(entries[probe]) && pm_pfn(entries[probe]) == 0) return Errno{EPERM};
    if (!pm_present(entries[probe])) return RegionBacking::NotPresent;
    // Only a PFN-contiguous, aligned run can be one THP: the frames' flags decide.
    bool contiguous = pm_present(entries[0]) && pm_pfn(entries[0]) % kPagesPer2M == 0;
    for (unsigned i = 1; contiguous && i < kPagesPer2M; ++i)
        contiguous = pm_present(entries[i]) && pm_pfn(entries[i]) == pm_pfn(entries[0]) + i;
    if (!contiguous) return RegionBacking::Small;
    if (!kpageflags_) return Errno{ENOTSUP};
    std::array<std::uint64_t, kPagesPer2M> flags;  // NOLINT: filled by pread
    if (int e = pread_all(kpageflags_.get(), flags.data(), sizeof flags,
                          static_cast<off_t>(pm_pfn(entries[0]) * 8));
        e != 0)
        return Errno{e};
    const RegionBacking backing = classify_region(entries.data(), flags.data(), probe);
    if (backing == RegionBacking::Small || !scan_available_) return backing;
    auto huge = mapped_huge(base);
    if (!huge) {
        if (huge.error() != ENOTTY && huge.error() != EINVAL) return Errno{huge.error()};
        scan_available_ = false;  // older kernel: kpageflags alone decides
        return backing;
    }
    return *huge ? backing : RegionBacking::Small;
}

}  // namespace kvmemu::guestmem
