// NxSplitList: the intrusive doubly linked list behind NX split tracking.
#include "mmu/nx_split_list.hpp"

#include <cassert>

namespace kvmemu::mmu {

void NxSplitList::push_back(std::uint32_t id) {
    if (id >= links_.size()) links_.resize(std::size_t{id} + 1);
    Link& l = links_[id];
    assert(!l.linked);
    l = Link{tail_, kNone, true};
    if (tail_ != kNone)
        links_[tail_].next = id;
    else
        head_ = id;
    tail_ = id;
    ++size_;
}

void NxSplitList::remove(std::uint32_t id) {
    assert(contains(id));
    Link& l = links_[id];
    if (l.prev != kNone)
        links_[l.prev].next = l.next;
    else
        head_ = l.next;
    if (l.next != kNone)
        links_[l.next].prev = l.prev;
    else
        tail_ = l.prev;
    l = Link{};
    --size_;
}

}  // namespace kvmemu::mmu
