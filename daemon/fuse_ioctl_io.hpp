// FuseIoctlIo: the caller's memory as a restricted FUSE ioctl presents it: the kernel copied in
// the _IOC_SIZE bytes at `arg` (for _IOW requests) and copies out what the reply carries (for
// _IOR). Anything outside that range is out of reach (EFAULT): requests that reach further
// (KVM_SET_CPUID2, KVM_GET_MSRS, ...) are served by the supervisor instead.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/user_io.hpp"

namespace kvmemu::daemon {

class FuseIoctlIo final : public UserIo {
public:
    // `in` is copied (libfuse's buffer does not outlive the callback).
    FuseIoctlIo(std::uint64_t arg, std::span<const std::byte> in, std::size_t out_size)
        : arg_(arg), in_(in.begin(), in.end()), out_(out_size) {}

    int read(std::uint64_t addr, std::span<std::byte> dst) override {
        const auto at = offset(addr, dst.size(), in_.size());
        if (at < 0) return EFAULT;
        std::memcpy(dst.data(), in_.data() + at, dst.size());
        return 0;
    }
    int write(std::uint64_t addr, std::span<const std::byte> src) override {
        const auto at = offset(addr, src.size(), out_.size());
        if (at < 0) return EFAULT;
        std::memcpy(out_.data() + at, src.data(), src.size());
        return 0;
    }

    // What goes back to the caller (all out_size bytes: unwritten ones are zero).
    [[nodiscard]] std::span<const std::byte> out() const { return out_; }

private:
    // Offset of [addr, addr + len) inside [arg, arg + size), or -1.
    [[nodiscard]] long offset(std::uint64_t addr, std::size_t len, std::size_t size) const {
        if (addr < arg_ || addr - arg_ > size || len > size - (addr - arg_)) return -1;
        return static_cast<long>(addr - arg_);
    }

    std::uint64_t arg_;
    std::vector<std::byte> in_;
    std::vector<std::byte> out_;
};

}  // namespace kvmemu::daemon
