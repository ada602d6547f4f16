// BlockCache: decoded basic blocks keyed by the guest-physical address of their first byte, a
// per-run jump cache keyed by guest RIP, and invalidation when the guest writes cached code.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cpu/internal/core.hpp"

namespace kvmemu::cpu {

struct Block {
    uint64_t gpa = 0;        // first byte
    uint32_t length = 0;     // bytes covered (within one page)
    uint64_t verified_epoch = 0;
    bool cacheable = true;   // false for a lone page-crossing instruction
    std::vector<uint8_t> bytes;  // copy of the code, to detect changes made between runs
    std::vector<Insn> insns;
    // Direct successors (block chaining), valid while chain_gen equals BlockCache::generation().
    uint64_t chain_gen = 0;
    uint64_t chain_rip[2] = {~0ULL, ~0ULL};
    Block* chain[2] = {nullptr, nullptr};
};

class BlockCache {
public:
    static constexpr unsigned kJumpCacheSize = 4096;

    // The block starting at guest RIP (translating and decoding as needed). Raises #PF on fetch.
    Block* lookup(Core& c);

    // A guest write hit [gpa, gpa+len): drop blocks overlapping it. True if any was dropped.
    bool on_write(Core& c, uint64_t gpa, unsigned len);
    [[nodiscard]] bool is_code_page(uint64_t gpa_page) const {
        return pages_.find(gpa_page) != pages_.end();
    }
    void new_run(uint64_t epoch);   // empties the jump cache (translations may have changed)
    void flush_jump_cache();
    // The successor of `from` at the current RIP: chained if known, else lookup() and chain it.
    Block* next(Core& c, Block* from) {
        const uint64_t rip = c.st->rip;
        if (from->chain_gen == gen_) {
            if (from->chain_rip[0] == rip) return from->chain[0];
            if (from->chain_rip[1] == rip) return from->chain[1];
        } else {
            from->chain_gen = gen_;
            from->chain_rip[0] = from->chain_rip[1] = ~0ULL;
        }
        Block* b = lookup(c);
        if (b->cacheable) {
            const unsigned slot = from->chain_rip[0] == ~0ULL ? 0 : 1;
            from->chain_rip[slot] = rip;
            from->chain[slot] = b;
        }
        return b;
    }
    void invalidate_chains() { ++gen_; }
    void clear();                   // drops everything
    void collect_garbage() { graveyard_.clear(); }

private:
    struct JumpEntry {
        uint64_t rip = ~0ULL;
        uint64_t cpl3 = 0;
        uint64_t gen = 0;  // valid while equal to gen_
        Block* block = nullptr;
    };
    void drop(Block* b);
    Block* build(Core& c, uint64_t gpa, uint8_t* page);

    std::vector<JumpEntry> jump_ = std::vector<JumpEntry>(kJumpCacheSize);
    std::unordered_map<uint64_t, std::unique_ptr<Block>> blocks_;
    std::unordered_map<uint64_t, std::vector<Block*>> pages_;  // gpa page -> blocks on it
    std::vector<std::unique_ptr<Block>> graveyard_;  // dropped while possibly executing
    std::unique_ptr<Block> crossing_;               // uncached page-crossing instruction
    uint64_t epoch_ = 0;
    uint64_t gen_ = 1;
};

// Decodes one instruction at rip from `bytes` (up to `avail` bytes) into `out`; returns false
// when the instruction needs more bytes than available. Sets `ends_block` for control transfers
// and instructions that change translation or mode.
bool decode_one(Core& c, const uint8_t* bytes, unsigned avail, Insn& out, bool& ends_block);

}  // namespace kvmemu::cpu
