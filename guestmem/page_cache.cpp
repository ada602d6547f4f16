// PageCache: slot storage in 64-frame chunks, first-touch loads (one batch per call), dirty list
// and the coalescing write-back.
#include "guestmem/page_cache.hpp"

#include <algorithm>
#include <cerrno>

namespace kvmemu::guestmem {

namespace {
constexpr std::uint64_t kPageMask = PageCache::kPageSize - 1;
}  // namespace

PageCache::PageCache(const ProcessMemory& memory) : memory_(memory) {}

std::uint8_t* PageCache::frame(std::size_t slot) noexcept {
    return chunks_[slot / kFramesPerChunk][slot % kFramesPerChunk].bytes.data();
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
    const IoResult r = memory_.read_batch(local_, {&remote, 1});
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
    if (for_write && !slots_[slot].dirty) {
        slots_[slot].dirty = true;
        dirty_.push_back(slot);
    }
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

int PageCache::flush() {
    if (dirty_.empty()) return 0;
    ++stats_.flushes;
    std::sort(dirty_.begin(), dirty_.end(),
              [this](std::uint32_t a, std::uint32_t b) { return slots_[a].page < slots_[b].page; });
    local_.clear();
    remote_.clear();
    for (const std::uint32_t s : dirty_) {
        local_.push_back({frame(s), kPageSize});
        const std::uint64_t page = slots_[s].page;
        if (!remote_.empty() &&
            reinterpret_cast<std::uint64_t>(remote_.back().iov_base) + remote_.back().iov_len == page) {
            remote_.back().iov_len += kPageSize;
        } else {
            remote_.push_back({reinterpret_cast<void*>(page), kPageSize});
        }
    }
    const IoResult r = memory_.write_batch(local_, remote_);
    ++stats_.write_calls;
    const std::size_t written = r.error == 0 ? dirty_.size() : r.bytes / kPageSize;
    for (std::size_t i = 0; i < written; ++i) slots_[dirty_[i]].dirty = false;
    dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(written));
    stats_.pages_written += written;
    if (r.error != 0) error_ = r.error;
    return r.error;
}

void PageCache::invalidate() noexcept {
    slots_.clear();
    index_.clear();
    dirty_.clear();
    last_page_ = ~std::uint64_t{0};
}

}  // namespace kvmemu::guestmem
