// Page tables of 512 SPTEs (exactly 4 KiB each, one heap block per table, no per-SPTE objects)
// and the pool that owns them; tables are named by a 32-bit id stored in non-leaf SPTEs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mmu/level.hpp"

namespace kvmemu::mmu {

struct PageTable {
    std::array<std::uint64_t, kSptesPerTable> spte;
};
static_assert(sizeof(PageTable) == 4096, "a page table is one 4 KiB page");

// What KVM keeps in struct kvm_mmu_page for a table, reduced to what this MMU needs.
struct TableMeta {
    std::uint64_t base_gfn = 0;            // first GFN covered by the table
    std::uint8_t level = 0;                // level of the SPTEs it holds (1 = PT ... 4 = PML4)
    bool nx_huge_page_disallowed = false;  // created by an exec fault under the NX mitigation
};

class TablePool {
  public:
    static constexpr std::uint32_t kNoTable = ~std::uint32_t{0};

    // A table whose SPTEs are all zero (non-present), or one left for the caller to fill.
    std::uint32_t alloc_zeroed(int level, std::uint64_t base_gfn);
    std::uint32_t alloc_for_overwrite(int level, std::uint64_t base_gfn);
    void free(std::uint32_t id);

    PageTable& table(std::uint32_t id) { return *tables_[id]; }
    const PageTable& table(std::uint32_t id) const { return *tables_[id]; }
    TableMeta& meta(std::uint32_t id) { return meta_[id]; }
    const TableMeta& meta(std::uint32_t id) const { return meta_[id]; }
    bool is_live(std::uint32_t id) const { return id < tables_.size() && tables_[id] != nullptr; }

    std::size_t live_tables() const { return live_; }
    std::size_t id_capacity() const { return tables_.size(); }
    // Bytes held: the tables (plus glibc's 16-byte block header each) and the bookkeeping vectors.
    std::size_t memory_bytes() const;

  private:
    std::uint32_t take_id(int level, std::uint64_t base_gfn, std::unique_ptr<PageTable> t);

    std::vector<std::unique_ptr<PageTable>> tables_;
    std::vector<TableMeta> meta_;
    std::vector<std::uint32_t> free_ids_;
    std::size_t live_ = 0;
};

}  // namespace kvmemu::mmu
