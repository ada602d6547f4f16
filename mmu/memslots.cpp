// MemslotSet: sorted-vector storage and GFN lookup of memslots.
#include "mmu/memslots.hpp"

#include <algorithm>
#include <cerrno>

#include "mmu/level.hpp"
#include "mmu/spte.hpp"

namespace kvmemu::mmu {

const Memslot* MemslotSet::find(std::uint64_t gfn) const {
    std::size_t hint = 0;
    return find(gfn, hint);
}

const Memslot* MemslotSet::find(std::uint64_t gfn, std::size_t& hint) const {
    if (hint < slots_.size() && slots_[hint].contains(gfn)) return &slots_[hint];
    // First slot whose base is > gfn; the candidate is the one before it.
    auto it = std::upper_bound(slots_.begin(), slots_.end(), gfn,
                               [](std::uint64_t g, const Memslot& s) { return g < s.base_gfn; });
    if (it == slots_.begin()) return nullptr;
    --it;
    if (!it->contains(gfn)) return nullptr;
    hint = static_cast<std::size_t>(it - slots_.begin());
    return &*it;
}

const Memslot* MemslotSet::find_id(std::uint32_t id) const {
    auto it =
        std::find_if(slots_.begin(), slots_.end(), [id](const Memslot& s) { return s.id == id; });
    return it == slots_.end() ? nullptr : &*it;
}

bool MemslotSet::has_id(std::uint32_t id) const {
    return std::binary_search(ids_.begin(), ids_.end(), id);
}

// The slots are sorted and disjoint: only the last slot starting before `s` and the slots
// starting inside `s` can overlap it.
bool MemslotSet::overlaps_other(const Memslot& s, std::uint32_t ignore_id) const {
    auto pos = std::lower_bound(slots_.begin(), slots_.end(), s.base_gfn,
                                [](const Memslot& o, std::uint64_t g) { return o.base_gfn < g; });
    for (auto it = pos; it != slots_.begin();) {
        --it;
        if (it->id == ignore_id) continue;
        if (it->end_gfn() > s.base_gfn) return true;
        break;
    }
    for (auto it = pos; it != slots_.end() && it->base_gfn < s.end_gfn(); ++it) {
        if (it->id != ignore_id) return true;
    }
    return false;
}

namespace {
bool slot_in_range(const Memslot& s) {
    return s.npages != 0 && s.base_gfn < kGfnLimit && s.npages <= kGfnLimit - s.base_gfn &&
           (s.userspace_addr & 0xfff) == 0 && (s.userspace_addr >> 12) <= kMaxPfn &&
           s.npages <= kMaxPfn + 1 - (s.userspace_addr >> 12);
}
}  // namespace

Expected<Memslot> MemslotSet::insert(const Memslot& slot) {
    if (!slot_in_range(slot)) return Errno{EINVAL};
    if (has_id(slot.id) || overlaps_other(slot, slot.id)) return Errno{EEXIST};
    if (slots_.size() >= kMaxMemslots) return Errno{ENOSPC};
    ids_.insert(std::lower_bound(ids_.begin(), ids_.end(), slot.id), slot.id);
    auto pos = std::lower_bound(slots_.begin(), slots_.end(), slot.base_gfn,
                                [](const Memslot& s, std::uint64_t g) { return s.base_gfn < g; });
    slots_.insert(pos, slot);
    return slot;
}

Expected<Memslot> MemslotSet::erase(std::uint32_t id) {
    auto it =
        std::find_if(slots_.begin(), slots_.end(), [id](const Memslot& s) { return s.id == id; });
    if (it == slots_.end()) return Errno{ENOENT};
    Memslot old = *it;
    slots_.erase(it);
    ids_.erase(std::lower_bound(ids_.begin(), ids_.end(), id));
    return old;
}

Expected<Memslot> MemslotSet::replace(std::uint32_t id, const Memslot& slot) {
    if (!has_id(id)) return Errno{ENOENT};
    if (slot.id != id || !slot_in_range(slot)) return Errno{EINVAL};
    if (overlaps_other(slot, id)) return Errno{EEXIST};
    auto it =
        std::find_if(slots_.begin(), slots_.end(), [id](const Memslot& s) { return s.id == id; });
    const Memslot old = *it;
    slots_.erase(it);
    auto pos = std::lower_bound(slots_.begin(), slots_.end(), slot.base_gfn,
                                [](const Memslot& s, std::uint64_t g) { return s.base_gfn < g; });
    slots_.insert(pos, slot);
    return old;
}

}  // namespace kvmemu::mmu
