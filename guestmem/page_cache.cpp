// PageCache: slot storage in 64-frame chunks, first-touch loads (one batch per call), dirty list
// and the coalescing write-back.
#include "guestmem/page_cache.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kvmemu::guestmem {

namespace {
constexpr std::uint64_t kPageMask = PageCache::kPageSize - 1;
}  // namespace

PageCache::PageCache(const ProcessMemory& memory, WriteBack mode)
    : memory_(memory), mode_(mode) {}

std::uint8_t* PageCache::frame(std::size_t slot) noexcept {
    return chunks_[slot / kFramesPerChunk][slot % kFramesPerChunk].bytes.data();
}

std::uint8_t* PageCache::snapshot(std::size_t slot) {
    while (slot / kFramesPerChunk >= snapshots_.size())
        snapshots_.push_back(std::make_unique_for_overwrite<Frame[]>(kFramesPerChunk));
    return snapshots_[slot / kFramesPerChunk][slot % kFramesPerChunk].bytes.data();
}

// First write access since the load (or the last flush): remember the page as the client has it.
void PageCache::mark_dirty(std::uint32_t slot) {
    slots_[slot].dirty = true;
    dirty_.push_back(slot);
    if (mode_ == WriteBack::ChangedBytes) std::memcpy(snapshot(slot), frame(slot), kPageSize);
}

std::size_t PageCache::add_runs(std::uint32_t s) {
    const std::uint64_t page = slots_[s].page;
    std::uint8_t* cur = frame(s);
    if (mode_ == WriteBack::WholePages) {
        local_.push_back({cur, kPageSize});
        if (!remote_.empty() &&
            reinterpret_cast<std::uint64_t>(remote_.back().iov_base) + remote_.back().iov_len == page) {
            remote_.back().iov_len += kPageSize;
        } else {
            remote_.push_back({reinterpret_cast<void*>(page), kPageSize});
        }
        return kPageSize;
    }
    // Runs of bytes that differ from the snapshot, found 8 bytes at a time.
    const std::uint8_t* old = snapshot(s);
    std::size_t total = 0;
    std::size_t i = 0;
    while (i < kPageSize) {
        std::uint64_t a;
        std::uint64_t b;
        std::memcpy(&a, cur + i, 8);
        std::memcpy(&b, old + i, 8);
        if (a == b) {
            i += 8;
            continue;
        }
        while (cur[i] == old[i]) ++i;
        std::size_t j = i + 1;
        while (j < kPageSize && cur[j] != old[j]) ++j;
        local_.push_back({cur + i, j - i});
        remote_.push_back({reinterpret_cast<void*>(page + i), j - i});
        total += j - i;
        i = j;
    }
    return total;
}

std::size_t PageCache::new_slot(std::uint64_t page) {
    const std::size_t slot = slots_.size();
    if (slot / kFramesPerChunk >= chunks_.size())
        chunks_.push_back(std::make_unique_for_overwrite<Frame[]>(kFramesPerChunk));
    slots_.push_back({page, false});
    return slot;
}

// Reads pages [first_page, first_page + count * 4K) -- none of them cached -- into new slots in
// one batch. Slots of pages that could not be read are given back.
int PageCache::load(std::uint64_t first_page, std::size_t count) {
    const std::size_t first_slot = slots_.size();
    local_.clear();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t slot = new_slot(first_page + i * kPageSize);
        local_.push_back({frame(slot), kPageSize});
    }
    const iovec remote{reinterpret_cast<void*>(first_page), count * kPageSize};
    const IoResult r = memory_.read_batch_unconfirmed(local_, {&remote, 1});
    reads_unconfirmed_ = true;
    ++stats_.read_calls;
    const std::size_t loaded = r.error == 0 ? count : r.bytes / kPageSize;
    slots_.resize(first_slot + loaded);
    for (std::size_t i = 0; i < loaded; ++i) {
        index_.emplace((first_page >> 12) + i, static_cast<std::uint32_t>(first_slot + i));
    }
    stats_.loads += loaded;
    return r.error;
}

std::uint8_t* PageCache::page(std::uint64_t hva, bool for_write) {
    const std::uint64_t page = hva & ~kPageMask;
    std::uint32_t slot;
    if (page == last_page_) {
        slot = last_slot_;
    } else if (auto it = index_.find(page >> 12); it != index_.end()) {
        slot = it->second;
    } else {
        if (int e = load(page, 1); e != 0) {
            error_ = e;
            return nullptr;
        }
        slot = static_cast<std::uint32_t>(slots_.size() - 1);
    }
    last_page_ = page;
    last_slot_ = slot;
    if (for_write && !slots_[slot].dirty) mark_dirty(slot);
    return frame(slot);
}

int PageCache::prefetch(std::uint64_t hva, std::size_t len) {
    if (len == 0) return 0;
    const std::uint64_t end = (hva + len + kPageMask) & ~kPageMask;
    std::uint64_t p = hva & ~kPageMask;
    while (p < end) {
        // Next run of missing pages.
        while (p < end && index_.count(p >> 12) != 0) p += kPageSize;
        std::uint64_t q = p;
        while (q < end && index_.count(q >> 12) == 0) q += kPageSize;
        if (q > p) {
            if (int e = load(p, (q - p) / kPageSize); e != 0) {
                error_ = e;
                return e;
            }
        }
        p = q;
    }
    return 0;
}

int PageCache::confirm_reads() {
    if (!reads_unconfirmed_) return 0;
    if (memory_.process().exited()) {
        error_ = ESRCH;
        return ESRCH;
    }
    reads_unconfirmed_ = false;
    return 0;
}

int PageCache::flush() {
    if (dirty_.empty()) return confirm_reads();
    ++stats_.flushes;
    std::sort(dirty_.begin(), dirty_.end(),
              [this](std::uint32_t a, std::uint32_t b) { return slots_[a].page < slots_[b].page; });
    local_.clear();
    remote_.clear();
    std::vector<std::size_t>& sizes = run_bytes_;
    sizes.clear();
    std::size_t want = 0;
    for (const std::uint32_t s : dirty_) {
        sizes.push_back(add_runs(s));
        want += sizes.back();
    }
    IoResult r;
    if (want > 0) {
        r = memory_.write_batch(local_, remote_);
        ++stats_.write_calls;
    }
    // Pages whose runs were all written are clean; the rest stay dirty (with their snapshot).
    std::size_t done = 0;
    std::size_t clean = 0;
    std::size_t changed = 0;
    while (clean < dirty_.size() && (r.error == 0 || done + sizes[clean] <= r.bytes)) {
        done += sizes[clean];
        changed += sizes[clean] != 0;
        slots_[dirty_[clean]].dirty = false;
        ++clean;
    }
    dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(clean));
    stats_.pages_written += changed;
    stats_.bytes_written += done;
    if (r.error != 0) error_ = r.error;
    // A write batch checks the pidfd before and after; none ran if every page came out unchanged.
    if (want == 0) return confirm_reads();
    if (r.error != ESRCH) reads_unconfirmed_ = false;
    return r.error;
}

void PageCache::invalidate() noexcept {
    slots_.clear();
    index_.clear();
    dirty_.clear();
    last_page_ = ~std::uint64_t{0};
}

}  // namespace kvmemu::guestmem
