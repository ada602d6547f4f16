// Guest paging (4-level walk with A/D updates and #PF error codes), the software TLB, and the slow
// paths of guest memory access (page-crossing, MMIO, writes to pages holding decoded code).
#include <algorithm>
#include <cstring>

#include "cpu/internal/block_cache.hpp"
#include "cpu/internal/core.hpp"
#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

constexpr uint64_t kP = 1, kW = 2, kU = 4, kA = 0x20, kD = 0x40, kPS = 0x80;
constexpr uint64_t kNX = 1ULL << 63;
constexpr uint64_t kAddr = 0x000ffffffffff000ULL;

bool canonical(uint64_t va) {
    const auto s = static_cast<int64_t>(va);
    return (s >> 47) == 0 || (s >> 47) == -1;
}

uint64_t* pte_ptr(Core& c, uint64_t gpa) {
    const PhysPage p = c.bus->page(gpa, Access::Read);
    if (!p.present()) internal_error(c, "guest page table outside guest memory");
    return reinterpret_cast<uint64_t*>(p.host + (gpa & 0xff8));
}

void set_bits(Core& c, uint64_t gpa, uint64_t bits) {
    const PhysPage p = c.bus->page(gpa, Access::Write);
    if (!p.present()) return;  // read-only page table: leave A/D alone
    auto* q = reinterpret_cast<uint64_t*>(p.host + (gpa & 0xff8));
    __atomic_fetch_or(q, bits, __ATOMIC_RELAXED);
}

[[noreturn]] void page_fault(Core& c, uint64_t va, uint32_t err) {
    c.st->cr2 = va;
    raise(14, err);
}

struct Walk {
    uint64_t gpa;
};

// Walks the guest tables for one access; raises #PF / #GP. Sets A (and D for writes).
uint64_t walk(Core& c, uint64_t va, Access acc) {
    CpuState& s = *c.st;
    if (!canonical(va)) raise(13, 0);
    if ((s.cr0 & (1u << 31)) == 0) return va;
    const bool write = acc == Access::Write;
    const bool fetch = acc == Access::Exec;
    const bool user = c.cpl3 != 0;
    const bool nxe = (s.efer & (1u << 11)) != 0;
    const uint64_t rsvd_hi = c.eng->rsvd_mask | (nxe ? 0 : kNX);
    uint32_t err = (write ? 2u : 0u) | (user ? 4u : 0u) |
                   (fetch && (nxe || (s.cr4 & (1u << 20)) != 0) ? 16u : 0u);

    uint64_t table = s.cr3 & kAddr;
    bool w_ok = true, u_ok = true, nx = false;
    uint64_t entry_gpa[4];
    uint64_t entries[4];
    int levels = 0;
    uint64_t gpa = 0;
    for (int level = 4; level >= 1; --level) {
        const unsigned shift = 12 + 9 * (level - 1);
        const uint64_t eg = table + ((va >> shift) & 0x1ff) * 8;
        const uint64_t e = __atomic_load_n(pte_ptr(c, eg), __ATOMIC_RELAXED);
        if ((e & kP) == 0) page_fault(c, va, err);
        bool rsvd = (e & rsvd_hi) != 0;
        const bool large = (e & kPS) != 0 && (level == 2 || level == 3);
        if (level == 4 && (e & kPS) != 0) rsvd = true;
        if (large && level == 3 && (e & 0x3fffe000ULL) != 0) rsvd = true;
        if (large && level == 2 && (e & 0x1fe000ULL) != 0) rsvd = true;
        if (rsvd) page_fault(c, va, err | 1u | 8u);
        w_ok = w_ok && (e & kW) != 0;
        u_ok = u_ok && (e & kU) != 0;
        nx = nx || (e & kNX) != 0;
        entry_gpa[levels] = eg;
        entries[levels] = e;
        ++levels;
        if (large || level == 1) {
            const uint64_t mask = (1ULL << shift) - 1;
            gpa = ((e & kAddr) & ~mask) | (va & mask);
            break;
        }
        table = e & kAddr;
    }
    if (user && !u_ok) page_fault(c, va, err | 1u);
    if (write && !w_ok && (user || (s.cr0 & (1u << 16)) != 0)) page_fault(c, va, err | 1u);
    if (fetch && nx && nxe) page_fault(c, va, err | 1u);
    for (int i = 0; i < levels; ++i) {
        uint64_t bits = (entries[i] & kA) == 0 ? kA : 0;
        if (i == levels - 1 && write && (entries[i] & kD) == 0) bits |= kD;
        if (bits != 0) set_bits(c, entry_gpa[i], bits);
    }
    return gpa;
}

}  // namespace

[[noreturn]] void raise(uint8_t vector) { throw GuestFault{vector, false, 0}; }
[[noreturn]] void raise(uint8_t vector, uint32_t error) { throw GuestFault{vector, true, error}; }

uint64_t translate(Core& c, uint64_t va, Access acc) { return walk(c, va, acc); }

void tlb_flush(Core& c) {
    if (++c.tlb_gen < kTlbGens) return;  // O(1): old tags no longer match
    c.tlb_gen = 0;
    for (auto& e : c.tlb) e = TlbEntry{};
}

void tlb_flush_page(Core& c, uint64_t va) {
    // A large page may cover many TLB slots; flush everything (invlpg is rare in hot loops).
    (void)va;
    tlb_flush(c);
    c.eng->blocks.flush_jump_cache();
}

void tlb_drop_writes_to(Core& c, uint64_t gpa_page) {
    for (auto& e : c.tlb)
        if (e.gpa == gpa_page) e.tag_w = ~0ULL;
}

uint8_t* translate_host(Core& c, uint64_t va, Access acc, uint64_t& gpa) {
    gpa = walk(c, va, acc);
    const uint64_t gpage = gpa & ~0xfffULL;
    const PhysPage p = c.bus->page(gpage, acc);
    if (!p.present()) return nullptr;
    TlbEntry& e = c.tlb[(va >> 12) & (kTlbSize - 1)];
    const uint64_t tag = tag_of(c, va);
    if (e.gpa != gpage || (e.tag_r != tag && e.tag_w != tag && e.tag_x != tag)) {
        e = TlbEntry{};
        e.gpa = gpage;
    }
    switch (acc) {
        case Access::Read: e.tag_r = tag; e.host_r = p.host; break;
        case Access::Exec: e.tag_x = tag; e.host_x = p.host; break;
        case Access::Write:
            if (!c.eng->blocks.is_code_page(gpage)) {
                e.tag_w = tag;
                e.host_w = p.host;
            }
            break;
    }
    return p.host;
}

namespace {

void read_chunk(Core& c, uint64_t va, uint8_t* dst, unsigned len, Access acc) {
    uint64_t gpa;
    uint8_t* host = translate_host(c, va, acc, gpa);
    if (host != nullptr) {
        std::memcpy(dst, host + (va & 0xfff), len);
        return;
    }
    if (acc == Access::Exec) internal_error(c, "instruction fetch from guest-physical address without memory");
    // MMIO read in pieces of at most 8 bytes; replay completed ones.
    for (unsigned done = 0; done < len;) {
        const unsigned n = std::min(8u, len - done);
        if (!c.mmio_reads_done.empty()) {
            const MmioExit m = c.mmio_reads_done.front();
            if (m.gpa == gpa + done && m.len == n) {
                c.mmio_reads_done.pop_front();
                std::memcpy(dst + done, m.data.data(), n);
                done += n;
                continue;
            }
            c.mmio_reads_done.clear();
        }
        c.result->reason = ExitReason::Mmio;
        c.result->mmio = MmioExit{gpa + done, static_cast<uint8_t>(n), false, {}};
        c.eng->pending_mmio_read = true;
        c.eng->pending_read = c.result->mmio;
        throw ExitNow{};
    }
}

void write_chunk(Core& c, uint64_t va, const uint8_t* src, unsigned len) {
    uint64_t gpa;
    uint8_t* host = translate_host(c, va, Access::Write, gpa);
    if (host != nullptr) {
        if (c.eng->blocks.is_code_page(gpa & ~0xfffULL)) {
            if (c.eng->blocks.on_write(c, gpa, len)) c.stop = true;
        }
        std::memcpy(host + (va & 0xfff), src, len);
        return;
    }
    for (unsigned done = 0; done < len;) {
        const unsigned n = std::min(8u, len - done);
        MmioExit m{gpa + done, static_cast<uint8_t>(n), true, {}};
        std::memcpy(m.data.data(), src + done, n);
        c.mmio_writes.push_back(m);
        done += n;
    }
    c.stop = true;
}

}  // namespace

void read_slow(Core& c, uint64_t va, void* dst, unsigned len, Access acc) {
    auto* d = static_cast<uint8_t*>(dst);
    const unsigned first = std::min<unsigned>(len, 0x1000 - (va & 0xfff));
    read_chunk(c, va, d, first, acc);
    if (first < len) read_chunk(c, va + first, d + first, len - first, acc);
}

void write_slow(Core& c, uint64_t va, const void* src, unsigned len) {
    const auto* s = static_cast<const uint8_t*>(src);
    const unsigned first = std::min<unsigned>(len, 0x1000 - (va & 0xfff));
    if (first < len) {
        // Check both pages before writing either, so a fault leaves memory untouched.
        (void)walk(c, va, Access::Write);
        (void)walk(c, va + first, Access::Write);
    }
    write_chunk(c, va, s, first);
    if (first < len) write_chunk(c, va + first, s + first, len - first);
}

}  // namespace kvmemu::cpu
