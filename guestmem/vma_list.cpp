// VmaList: the smaps parser (header lines "start-end perms off dev inode [name]", then
// "Key: value [kB]" lines, VmFlags last) and the address search.
#include "guestmem/vma_list.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common/unique_fd.hpp"

namespace kvmemu::guestmem {

namespace {

bool parse_hex(std::string_view s, std::uint64_t& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "start-end perms offset dev inode   name" -> area with bounds and name.
bool parse_header(std::string_view line, Vma& vma) {
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return false;
    const std::string_view range = line.substr(0, sp);
    const std::size_t dash = range.find('-');
    if (dash == std::string_view::npos) return false;
    if (!parse_hex(range.substr(0, dash), vma.start) || !parse_hex(range.substr(dash + 1), vma.end))
        return false;
    if (vma.end <= vma.start) return false;
    // Skip four more fields (perms, offset, dev, inode); the rest is the name.
    std::string_view rest = line.substr(sp);
    for (int field = 0; field < 4; ++field) {
        rest = trim(rest);
        const std::size_t end = rest.find(' ');
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    }
    vma.name = std::string(trim(rest));
    return true;
}

// "Key:   123 kB" -> bytes.
std::uint64_t kb_value(std::string_view value) {
    value = trim(value);
    std::uint64_t n = 0;
    const auto r = std::from_chars(value.data(), value.data() + value.size(), n, 10);
    if (r.ec != std::errc()) return 0;
    return n * 1024;
}

bool has_flag(std::string_view flags, std::string_view flag) {
    while (!flags.empty()) {
        flags = trim(flags);
        const std::size_t end = flags.find(' ');
        if (flags.substr(0, end) == flag) return true;
        if (end == std::string_view::npos) break;
        flags.remove_prefix(end);
    }
    return false;
}

}  // namespace

VmaList::VmaList(std::vector<Vma> vmas) : vmas_(std::move(vmas)) {
    std::sort(vmas_.begin(), vmas_.end(),
              [](const Vma& a, const Vma& b) { return a.start < b.start; });
}

Expected<VmaList> VmaList::parse(std::string_view smaps) {
    std::vector<Vma> vmas;
    bool any_text = false;
    while (!smaps.empty()) {
        const std::size_t eol = smaps.find('\n');
        const std::string_view line = smaps.substr(0, eol);
        smaps.remove_prefix(eol == std::string_view::npos ? smaps.size() : eol + 1);
        if (line.empty()) continue;
        any_text = true;
        const std::size_t colon = line.find(':');
        const std::size_t space = line.find(' ');
        // Key lines have a colon before any space; header lines have the range first.
        if (colon != std::string_view::npos && (space == std::string_view::npos || colon < space)) {
            if (vmas.empty()) continue;
            Vma& v = vmas.back();
            const std::string_view key = line.substr(0, colon);
            const std::string_view value = line.substr(colon + 1);
            if (key == "KernelPageSize") {
                const std::uint64_t b = kb_value(value);
                if (b != 0) v.kernel_page_size = b;
            } else if (key == "AnonHugePages") {
                v.anon_huge_bytes = kb_value(value);
            } else if (key == "ShmemPmdMapped") {
                v.shmem_huge_bytes = kb_value(value);
            } else if (key == "VmFlags") {
                v.hugetlb = has_flag(value, "ht");
            }
            continue;
        }
        Vma v;
        if (parse_header(line, v)) vmas.push_back(std::move(v));
    }
    if (any_text && vmas.empty()) return Errno{EINVAL};
    return VmaList(std::move(vmas));
}

Expected<VmaList> VmaList::read(int proc_dir) {
    UniqueFd fd(::openat(proc_dir, "smaps", O_RDONLY | O_CLOEXEC));
    if (!fd) return Errno{errno == ENOENT ? ESRCH : errno};
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Errno{errno};
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    // A live process always has areas (at least its stack); an exited one reads empty.
    if (text.empty()) return Errno{ESRCH};
    return parse(text);
}

const Vma* VmaList::find(std::uint64_t addr) const noexcept {
    auto it = std::upper_bound(vmas_.begin(), vmas_.end(), addr,
                               [](std::uint64_t a, const Vma& v) { return a < v.start; });
    if (it == vmas_.begin()) return nullptr;
    --it;
    return it->contains(addr) ? &*it : nullptr;
}

}  // namespace kvmemu::guestmem
