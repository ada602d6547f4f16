// DetectingHostLevel: area lookup, hugetlb answer, per-2M THP probe and cache, error policy.
#include "guestmem/detecting_host_level.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace kvmemu::guestmem {

namespace {

constexpr std::uint64_t k2M = std::uint64_t{1} << 21;
constexpr std::uint64_t k1G = std::uint64_t{1} << 30;
// Bound on cached region answers (16 bytes-ish each): 4 TiB of guest memory worth.
constexpr std::size_t kMaxRegions = std::size_t{1} << 21;

}  // namespace

DetectingHostLevel::DetectingHostLevel(Expected<ClientProcess> process, HostLevelLog log)
    : log_(std::move(log)) {
    if (!process) {
        dead_ = true;
        error("cannot open the client process", process.error());
        return;
    }
    process_.emplace(std::move(*process));
    open_sources();
}

std::unique_ptr<DetectingHostLevel> DetectingHostLevel::for_pid(pid_t tgid, HostLevelLog log) {
    return std::make_unique<DetectingHostLevel>(ClientProcess::open(tgid), std::move(log));
}

void DetectingHostLevel::open_sources() {
    auto dir = process_->open_proc_dir();
    if (!dir) {
        dead_ = true;
        error("cannot open /proc/<pid> of the client", dir.error());
        return;
    }
    proc_dir_ = std::move(*dir);
    auto flags = PageFlags::open(proc_dir_.get());
    if (!flags) {
        error("cannot open the client's pagemap: THP is not detected", flags.error());
        return;
    }
    flags_.emplace(std::move(*flags));
    if (!flags_->thp_available())
        error("cannot open /proc/kpageflags: THP is not detected", EACCES);
}

void DetectingHostLevel::error(std::string_view what, int err) {
    ++stats_.errors;
    std::string line = "host mapping level: ";
    line += what;
    if (err != 0) {
        line += ": ";
        line += std::strerror(err);
    }
    if (process_) line += " (pid " + std::to_string(process_->pid()) + ")";
    if (log_ && logged_.insert(std::string(what)).second) log_(line);
}

bool DetectingHostLevel::refresh_vmas() {
    ++stats_.vma_reads;
    auto list = VmaList::read(proc_dir_.get());
    if (!list) {
        // Gone, or unreadable: 4K from now on (until invalidate() if the process lives).
        dead_ = true;
        error("cannot read the client's smaps", list.error());
        return false;
    }
    vmas_ = std::move(*list);
    vmas_loaded_ = true;
    return true;
}

mmu::Level DetectingHostLevel::host_level(std::uint64_t hva) {
    ++stats_.queries;
    if (dead_) return mmu::Level::k4K;
    const Vma* vma = vmas_loaded_ ? vmas_.find(hva) : nullptr;
    if (vma == nullptr) {
        // A region already found unmapped since the last invalidate*(): no second smaps read.
        if (auto it = regions_.find(hva / k2M); it != regions_.end()) {
            ++stats_.region_hits;
            return it->second;
        }
        if (!refresh_vmas()) return mmu::Level::k4K;
        vma = vmas_.find(hva);
        if (vma == nullptr) {
            ++stats_.unmapped;
            regions_.emplace(hva / k2M, mmu::Level::k4K);
            return mmu::Level::k4K;
        }
    }
    if (vma->kernel_page_size >= k1G) return mmu::Level::k1G;
    if (vma->kernel_page_size >= k2M) return mmu::Level::k2M;
    if (auto it = regions_.find(hva / k2M); it != regions_.end()) {
        ++stats_.region_hits;
        return it->second;
    }
    return probe_region(*vma, hva);
}

mmu::Level DetectingHostLevel::probe_region(const Vma& vma, std::uint64_t hva) {
    if (regions_.size() >= kMaxRegions) regions_.clear();
    const std::uint64_t base = hva & ~(k2M - 1);
    // A PMD mapping needs the whole aligned region inside one area.
    if (base < vma.start || base + k2M > vma.end || !flags_) {
        regions_.emplace(hva / k2M, mmu::Level::k4K);
        return mmu::Level::k4K;
    }
    ++stats_.region_probes;
    auto backing = flags_->region(base, hva);
    if (!backing) {
        if (process_->exited()) dead_ = true;
        error(backing.error() == EPERM ? "pagemap shows no PFNs (needs CAP_SYS_ADMIN)"
              : backing.error() == ENOTSUP ? "no /proc/kpageflags: THP is not detected"
                                           : "cannot read the client's pagemap/kpageflags",
              backing.error());
        return mmu::Level::k4K;
    }
    switch (*backing) {
        case RegionBacking::NotPresent: ++stats_.not_present; return mmu::Level::k4K;
        case RegionBacking::HugeZero: return mmu::Level::k2M;  // replaced on the first write
        case RegionBacking::Small: regions_.emplace(hva / k2M, mmu::Level::k4K); return mmu::Level::k4K;
        case RegionBacking::Thp2M: regions_.emplace(hva / k2M, mmu::Level::k2M); return mmu::Level::k2M;
    }
    return mmu::Level::k4K;
}

void DetectingHostLevel::invalidate() {
    if (dead_ && process_ && proc_dir_ && !process_->exited()) dead_ = false;
    regions_.clear();
    vmas_ = VmaList();
    vmas_loaded_ = false;
}

void DetectingHostLevel::invalidate_range(std::uint64_t hva, std::uint64_t len) {
    vmas_ = VmaList();
    vmas_loaded_ = false;
    if (len == 0) return;
    const std::uint64_t first = hva / k2M;
    const std::uint64_t last = (hva + len - 1) / k2M;
    if (last - first >= regions_.size()) {
        for (auto it = regions_.begin(); it != regions_.end();) {
            it = (it->first >= first && it->first <= last) ? regions_.erase(it) : std::next(it);
        }
        return;
    }
    for (std::uint64_t r = first; r <= last; ++r) regions_.erase(r);
}

}  // namespace kvmemu::guestmem
