// VmaList: the client's memory areas as /proc/PID/smaps describes them (bounds, kernel page
// size, THP counters), parsed once and searched by address.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace kvmemu::guestmem {

struct Vma {
    std::uint64_t start = 0;  // [start, end)
    std::uint64_t end = 0;
    std::uint64_t kernel_page_size = 4096;  // KernelPageSize: 2M/1G for hugetlb areas
    std::uint64_t anon_huge_bytes = 0;      // AnonHugePages: PMD-mapped anonymous THP
    std::uint64_t shmem_huge_bytes = 0;     // ShmemPmdMapped: PMD-mapped shmem/memfd THP
    bool hugetlb = false;                   // VmFlags "ht"
    std::string name;                       // path or [heap]/[stack]/..., empty if anonymous

    [[nodiscard]] bool contains(std::uint64_t a) const noexcept { return a >= start && a < end; }
};

class VmaList {
public:
    VmaList() = default;
    explicit VmaList(std::vector<Vma> vmas);

    // smaps text -> areas sorted by start. Malformed lines are ignored; EINVAL only when the
    // text is not empty and holds no area at all.
    static Expected<VmaList> parse(std::string_view smaps);
    // Reads and parses <proc_dir>/smaps (proc_dir from ClientProcess::open_proc_dir()). ESRCH
    // when the process is gone (its smaps reads empty).
    static Expected<VmaList> read(int proc_dir);

    // The area containing `addr`, or nullptr.
    [[nodiscard]] const Vma* find(std::uint64_t addr) const noexcept;
    [[nodiscard]] const std::vector<Vma>& vmas() const noexcept { return vmas_; }

private:
    std::vector<Vma> vmas_;
};

}  // namespace kvmemu::guestmem
