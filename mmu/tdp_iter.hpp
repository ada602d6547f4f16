// The one walker over the paging structure (after KVM's tdp_iter): a pre-order traversal of the
// SPTEs covering a GFN range, descending into present non-leaf SPTEs down to a minimum level.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "mmu/level.hpp"
#include "mmu/page_table.hpp"
#include "mmu/spte.hpp"

namespace kvmemu::mmu {

// Visits, in address order, every SPTE whose region intersects [start_gfn, end_gfn), parents
// before children. The walk re-reads the current SPTE before stepping down, so a caller that
// zaps the current SPTE skips its subtree, and one that links a new child table walks into it.
template <bool Const>
class BasicTdpIter {
    using Pool = std::conditional_t<Const, const TablePool, TablePool>;
    using SpteRef = std::conditional_t<Const, const std::uint64_t, std::uint64_t>;

  public:
    BasicTdpIter(Pool& pool, std::uint32_t root, std::uint64_t start_gfn, std::uint64_t end_gfn,
                 int min_level = 1)
        : pool_(pool),
          min_level_(min_level),
          level_(kRootLevel),
          next_gfn_(start_gfn),
          end_gfn_(end_gfn < kGfnLimit ? end_gfn : kGfnLimit) {
        valid_ = start_gfn < end_gfn_;
        if (!valid_) return;
        path_[kRootLevel] = root;
        gfn_ = level_base_gfn(start_gfn, level_);
        point_at(root);
    }

    bool valid() const { return valid_ && gfn_ < end_gfn_; }
    int level() const { return level_; }
    // First GFN of the region the current SPTE covers.
    std::uint64_t gfn() const { return gfn_; }
    std::uint64_t old_spte() const { return old_spte_; }
    // Id of the table that holds the current SPTE, and the SPTE's index in it.
    std::uint32_t table_id() const { return path_[level_]; }
    unsigned index() const { return spte_index(gfn_, level_); }
    // Whether the current SPTE's whole region lies in [start, end).
    bool region_within(std::uint64_t start, std::uint64_t end) const {
        return gfn_ >= start && gfn_ + pages_per_spte(level_) <= end;
    }

    template <bool C = Const, class = std::enable_if_t<!C>>
    void set_spte(std::uint64_t spte) {
        *sptep_ = spte;
        old_spte_ = spte;
    }

    void next() {
        if (try_step_down()) return;
        do {
            if (try_step_side()) return;
        } while (try_step_up());
        valid_ = false;
    }

  private:
    void point_at(std::uint32_t table) {
        sptep_ = &pool_.table(table).spte[spte_index(gfn_, level_)];
        old_spte_ = *sptep_;
    }

    bool try_step_down() {
        if (level_ == min_level_) return false;
        old_spte_ = *sptep_;
        if (!is_shadow_present_pte(old_spte_) || is_last_spte(old_spte_, level_)) return false;
        const std::uint32_t child = spte_to_child_table(old_spte_);
        --level_;
        path_[level_] = child;
        gfn_ = level_base_gfn(next_gfn_, level_);
        point_at(child);
        return true;
    }

    bool try_step_side() {
        if (spte_index(gfn_, level_) == kSptesPerTable - 1) return false;
        gfn_ += pages_per_spte(level_);
        next_gfn_ = gfn_;
        ++sptep_;
        old_spte_ = *sptep_;
        return true;
    }

    bool try_step_up() {
        if (level_ == kRootLevel) return false;
        ++level_;
        gfn_ = level_base_gfn(gfn_, level_);
        point_at(path_[level_]);
        return true;
    }

    Pool& pool_;
    std::array<std::uint32_t, kRootLevel + 1> path_{};
    int min_level_;
    int level_;
    std::uint64_t gfn_ = 0;
    std::uint64_t next_gfn_;
    std::uint64_t end_gfn_;
    SpteRef* sptep_ = nullptr;
    std::uint64_t old_spte_ = 0;
    bool valid_ = false;
};

using TdpIter = BasicTdpIter<false>;
using ConstTdpIter = BasicTdpIter<true>;

}  // namespace kvmemu::mmu
