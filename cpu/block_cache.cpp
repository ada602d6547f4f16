// Decoded-block cache: lookup by guest RIP (jump cache) and by guest-physical address, block
// building, and invalidation on guest writes to cached code or code changed between runs.
#include "cpu/internal/block_cache.hpp"

#include <algorithm>
#include <cstring>

#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {

void BlockCache::new_run(uint64_t epoch) {
    epoch_ = epoch;
    flush_jump_cache();
}

void BlockCache::flush_jump_cache() { ++gen_; }  // O(1): entries of older generations are stale

void BlockCache::clear() {
    flush_jump_cache();
    for (auto& [gpa, b] : blocks_) graveyard_.push_back(std::move(b));
    blocks_.clear();
    pages_.clear();
}

void BlockCache::drop(Block* b) {
    const uint64_t page = b->gpa & ~0xfffULL;
    auto pit = pages_.find(page);
    if (pit != pages_.end()) {
        auto& v = pit->second;
        v.erase(std::remove(v.begin(), v.end(), b), v.end());
        if (v.empty()) pages_.erase(pit);
    }
    auto it = blocks_.find(b->gpa);
    if (it != blocks_.end() && it->second.get() == b) {
        graveyard_.push_back(std::move(it->second));
        blocks_.erase(it);
    }
    flush_jump_cache();
}

bool BlockCache::on_write(Core& c, uint64_t gpa, unsigned len) {
    (void)c;
    auto pit = pages_.find(gpa & ~0xfffULL);
    if (pit == pages_.end()) return false;
    std::vector<Block*> hit;
    for (Block* b : pit->second)
        if (gpa < b->gpa + b->length && b->gpa < gpa + len) hit.push_back(b);
    for (Block* b : hit) drop(b);
    return !hit.empty();
}

Block* BlockCache::build(Core& c, uint64_t gpa, uint8_t* page) {
    auto b = std::make_unique<Block>();
    b->gpa = gpa;
    b->verified_epoch = epoch_;
    unsigned off = gpa & 0xfff;
    const unsigned start = off;
    while (b->insns.size() < kMaxBlockInsns) {
        Insn insn;
        bool ends = false;
        if (!decode_one(c, page + off, 0x1000 - off, insn, ends)) {
            if (!b->insns.empty()) break;
            // A lone instruction crossing into the next page: decode from both pages, uncached.
            uint8_t buf[15];
            const uint64_t rip = c.st->rip;
            read_slow(c, rip, buf, 15, Access::Exec);
            (void)decode_one(c, buf, 15, insn, ends);
            b->insns.push_back(insn);
            b->cacheable = false;
            b->length = 0x1000 - start;
            crossing_ = std::move(b);
            return crossing_.get();
        }
        b->insns.push_back(insn);
        off += insn.len;
        if (ends || off >= 0x1000) break;
    }
    b->length = off - start;
    b->bytes.assign(page + start, page + off);
    Block* raw = b.get();
    const uint64_t gpage = gpa & ~0xfffULL;
    auto& list = pages_[gpage];
    if (list.empty()) tlb_drop_writes_to(c, gpage);
    list.push_back(raw);
    blocks_[gpa] = std::move(b);
    return raw;
}

Block* BlockCache::lookup(Core& c) {
    const uint64_t rip = c.st->rip;
    JumpEntry& j = jump_[(rip ^ (rip >> 12)) & (kJumpCacheSize - 1)];
    if (j.rip == rip && j.gen == gen_ && j.cpl3 == c.cpl3) return j.block;

    const TlbEntry& e = c.tlb[(rip >> 12) & (kTlbSize - 1)];
    uint8_t* page;
    uint64_t gpa;
    if (e.tag_x == tag_of(c, rip)) {
        page = e.host_x;
        gpa = e.gpa | (rip & 0xfff);
    } else {
        page = translate_host(c, rip, Access::Exec, gpa);
        if (page == nullptr) internal_error(c, "instruction fetch from guest-physical address without memory");
    }
    Block* b = nullptr;
    auto it = blocks_.find(gpa);
    if (it != blocks_.end()) {
        b = it->second.get();
        if (b->verified_epoch != epoch_) {
            if (std::memcmp(page + (gpa & 0xfff), b->bytes.data(), b->bytes.size()) != 0) {
                drop(b);
                b = nullptr;
            } else {
                b->verified_epoch = epoch_;
            }
        }
    }
    if (b == nullptr) b = build(c, gpa, page);
    if (b->cacheable) {
        j.rip = rip;
        j.cpl3 = c.cpl3;
        j.gen = gen_;
        j.block = b;
    }
    return b;
}

}  // namespace kvmemu::cpu
