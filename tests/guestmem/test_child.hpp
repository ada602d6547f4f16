// TestChild: a forked child process that maps memory on command and reports addresses and
// checks over pipes -- the "client" whose address space the guestmem tests reach into.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "common/unique_fd.hpp"

namespace kvmemu::guestmem::test {

enum class MapKind : std::uint64_t {
    Small,       // anonymous, MADV_NOHUGEPAGE, touched
    Thp,         // anonymous, 2 MiB aligned, MADV_HUGEPAGE, touched
    Hugetlb2M,   // MAP_HUGETLB | MAP_HUGE_2MB, touched
    Hugetlb1G,   // MAP_HUGETLB | MAP_HUGE_1GB, touched
    Untouched,   // anonymous, never touched
};

// The byte at offset i of a region filled with `seed`.
constexpr std::uint8_t pattern(std::uint64_t seed, std::uint64_t i) {
    return static_cast<std::uint8_t>((seed * 131 + i * 7 + (i >> 12)) & 0xff);
}

class TestChild {
public:
    TestChild();  // forks; the child serves commands until Exit or its parent goes away
    ~TestChild();  // kills and reaps it if still there
    TestChild(const TestChild&) = delete;
    TestChild& operator=(const TestChild&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }

    // Address of a new mapping of `len` bytes, or 0 (mmap failed in the child).
    std::uint64_t map(MapKind kind, std::size_t len);
    void unmap(std::uint64_t addr, std::size_t len);
    // mprotect in the child; returns its result (0 or -1).
    int protect(std::uint64_t addr, std::size_t len, int prot);
    // Writes pattern(seed, i) over [addr, addr + len).
    void fill(std::uint64_t addr, std::size_t len, std::uint64_t seed);
    // Number of bytes of [addr, addr + len) that differ from pattern(seed, i).
    std::uint64_t check(std::uint64_t addr, std::size_t len, std::uint64_t seed);
    // One byte read / written by the child itself.
    std::uint8_t peek(std::uint64_t addr);
    void poke(std::uint64_t addr, std::uint8_t value);

    // Makes the child exit; reap = false leaves it a zombie until reap().
    void exit(bool reap = true);
    void reap();

private:
    std::uint64_t call(std::uint64_t op, std::uint64_t a = 0, std::uint64_t b = 0,
                       std::uint64_t c = 0);

    pid_t pid_ = -1;
    bool reaped_ = false;
    UniqueFd to_child_;
    UniqueFd from_child_;
};

}  // namespace kvmemu::guestmem::test
