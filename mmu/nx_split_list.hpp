// Age-ordered list of the page tables tracked as NX huge-page splits (KVM's
// possible_nx_huge_pages list): O(1) append, removal and oldest-first access, by table id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvmemu::mmu {

class NxSplitList {
  public:
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};

    void push_back(std::uint32_t id);
    void remove(std::uint32_t id);
    bool contains(std::uint32_t id) const { return id < links_.size() && links_[id].linked; }
    std::uint32_t front() const { return head_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::size_t memory_bytes() const { return links_.capacity() * sizeof(Link); }

    template <class F>
    void for_each(F&& f) const {
        for (std::uint32_t id = head_; id != kNone; id = links_[id].next) f(id);
    }

  private:
    struct Link {
        std::uint32_t prev = kNone;
        std::uint32_t next = kNone;
        bool linked = false;
    };
    std::vector<Link> links_;
    std::uint32_t head_ = kNone;
    std::uint32_t tail_ = kNone;
    std::size_t size_ = 0;
};

}  // namespace kvmemu::mmu
