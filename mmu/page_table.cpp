// TablePool: allocation and release of 4 KiB page tables and their metadata.
#include "mmu/page_table.hpp"

#include <cassert>

namespace kvmemu::mmu {

std::uint32_t TablePool::take_id(int level, std::uint64_t base_gfn, std::unique_ptr<PageTable> t) {
    std::uint32_t id;
    if (!free_ids_.empty()) {
        id = free_ids_.back();
        free_ids_.pop_back();
        tables_[id] = std::move(t);
    } else {
        id = static_cast<std::uint32_t>(tables_.size());
        assert(id != kNoTable);
        tables_.push_back(std::move(t));
        meta_.emplace_back();
    }
    meta_[id] = TableMeta{base_gfn, static_cast<std::uint8_t>(level), false};
    ++live_;
    return id;
}

std::uint32_t TablePool::alloc_zeroed(int level, std::uint64_t base_gfn) {
    return take_id(level, base_gfn, std::make_unique<PageTable>());
}

std::uint32_t TablePool::alloc_for_overwrite(int level, std::uint64_t base_gfn) {
    return take_id(level, base_gfn, std::make_unique_for_overwrite<PageTable>());
}

void TablePool::free(std::uint32_t id) {
    assert(is_live(id));
    tables_[id].reset();
    free_ids_.push_back(id);
    --live_;
}

std::size_t TablePool::memory_bytes() const {
    constexpr std::size_t kMallocHeader = 16;
    return live_ * (sizeof(PageTable) + kMallocHeader) +
           tables_.capacity() * sizeof(std::unique_ptr<PageTable>) +
           meta_.capacity() * sizeof(TableMeta) + free_ids_.capacity() * sizeof(std::uint32_t);
}

}  // namespace kvmemu::mmu
