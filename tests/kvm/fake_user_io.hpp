// FakeUserIo: a caller address space made of one buffer at a fixed base; anything else is EFAULT.
#pragma once

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/user_io.hpp"

namespace kvmemu::test {

class FakeUserIo final : public UserIo {
public:
    static constexpr std::uint64_t kBase = 0x10000;
    explicit FakeUserIo(std::size_t size = 65536) : mem_(size) {}

    int read(std::uint64_t addr, std::span<std::byte> dst) override {
        if (!inside(addr, dst.size())) return EFAULT;
        std::memcpy(dst.data(), mem_.data() + (addr - kBase), dst.size());
        ++reads;
        return 0;
    }
    int write(std::uint64_t addr, std::span<const std::byte> src) override {
        if (!inside(addr, src.size())) return EFAULT;
        std::memcpy(mem_.data() + (addr - kBase), src.data(), src.size());
        ++writes;
        return 0;
    }
    template <class T>
    void put(std::uint64_t addr, const T& v) {
        std::memcpy(mem_.data() + (addr - kBase), &v, sizeof v);
    }
    template <class T>
    T get(std::uint64_t addr) const {
        T v;
        std::memcpy(&v, mem_.data() + (addr - kBase), sizeof v);
        return v;
    }
    int reads = 0;
    int writes = 0;

private:
    bool inside(std::uint64_t addr, std::size_t len) const {
        return addr >= kBase && addr - kBase <= mem_.size() && len <= mem_.size() - (addr - kBase);
    }
    std::vector<std::byte> mem_;
};

}  // namespace kvmemu::test
