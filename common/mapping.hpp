// Mapping: sole owner of one mmap()ed region, unmapped on destruction.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <span>
#include <utility>

namespace kvmemu {

class Mapping {
public:
    Mapping() noexcept = default;
    Mapping(void* addr, std::size_t len) noexcept : addr_(addr), len_(len) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping(Mapping&& o) noexcept
        : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept {
        if (this != &o) {
            reset();
            addr_ = std::exchange(o.addr_, nullptr);
            len_ = std::exchange(o.len_, 0);
        }
        return *this;
    }
    ~Mapping() { reset(); }

    // mmap() wrapper: an empty Mapping on failure (errno set).
    static Mapping map(std::size_t len, int prot, int flags, int fd, off_t off = 0) noexcept {
        void* p = ::mmap(nullptr, len, prot, flags, fd, off);
        if (p == MAP_FAILED) return {};
        return {p, len};
    }

    [[nodiscard]] void* data() const noexcept { return addr_; }
    [[nodiscard]] std::size_t size() const noexcept { return len_; }
    [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept {
        return {static_cast<std::byte*>(addr_), len_};
    }

    void reset() noexcept {
        if (addr_ != nullptr) ::munmap(addr_, len_);
        addr_ = nullptr;
        len_ = 0;
    }

private:
    void* addr_ = nullptr;
    std::size_t len_ = 0;
};

}  // namespace kvmemu
