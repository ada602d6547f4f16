// SysctlGuard: sets a /proc/sys or /sys value for the duration of a test and restores the value
// it found in every case (used for vm.nr_hugepages and the 1 GiB hugetlb pool).
#pragma once

#include <fstream>
#include <optional>
#include <string>

namespace kvmemu::guestmem::test {

inline std::optional<long> read_long(const std::string& path) {
    std::ifstream in(path);
    long v = 0;
    if (!(in >> v)) return std::nullopt;
    return v;
}

inline bool write_long(const std::string& path, long value) {
    std::ofstream out(path);
    out << value << '\n';
    out.flush();
    return static_cast<bool>(out);
}

class SysctlGuard {
public:
    explicit SysctlGuard(std::string path) : path_(std::move(path)), saved_(read_long(path_)) {}
    ~SysctlGuard() {
        if (saved_ && changed_) write_long(path_, *saved_);
    }
    SysctlGuard(const SysctlGuard&) = delete;
    SysctlGuard& operator=(const SysctlGuard&) = delete;

    [[nodiscard]] std::optional<long> saved() const { return saved_; }
    // Writes `value`; returns the value read back (the kernel may grant less).
    std::optional<long> set(long value) {
        changed_ = true;
        write_long(path_, value);
        return read_long(path_);
    }

private:
    std::string path_;
    std::optional<long> saved_;
    bool changed_ = false;
};

}  // namespace kvmemu::guestmem::test
