// Helpers shared by the MMU unit tests: sizes, slot construction, a VM with a fixed host level.
#pragma once

#include <cstdint>

#include "mmu/host_mapping.hpp"
#include "mmu/mmu.hpp"

namespace kvmemu::mmu::testing {

inline constexpr std::uint64_t k4KiB = 4096;
inline constexpr std::uint64_t k2MiB = std::uint64_t{2} << 20;
inline constexpr std::uint64_t k1GiB = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kHvaBase = std::uint64_t{0x7f00} << 32;  // 1G-aligned client address

inline Memslot make_slot(std::uint32_t id, std::uint64_t gpa, std::uint64_t size, std::uint64_t hva,
                         std::uint32_t flags = 0) {
    return Memslot{id, gpa >> 12, size >> 12, hva, flags};
}

// One VM: its own host oracle (fixed level) and MMU, nx_huge_pages on by default.
struct TestVm {
    explicit TestVm(Level host_level = Level::k2M, bool nx_huge_pages = true)
        : host(host_level), mmu(host, nx_huge_pages) {}
    FixedHostLevel host;
    Mmu mmu;
};

}  // namespace kvmemu::mmu::testing
