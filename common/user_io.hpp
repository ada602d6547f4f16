// UserIo: how an ioctl handler reads and writes the caller's memory, whatever the transport
// (CUSE's staged buffers, or process_vm_readv/writev for the seccomp supervisor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "common/expected.hpp"

namespace kvmemu {

// Returned (like an errno) by a CUSE UserIo when the bytes asked for are not in the buffers of
// this round; the transport asks the kernel for them and calls the handler again. A handler
// must therefore do all its reads before it changes any state, and pass this value up unchanged.
inline constexpr int kRetryWithBuffers = 1 << 20;

class UserIo {
public:
    virtual ~UserIo() = default;
    // Each returns 0, or a positive errno (EFAULT for an address the caller cannot access), or
    // kRetryWithBuffers.
    virtual int read(std::uint64_t addr, std::span<std::byte> dst) = 0;
    virtual int write(std::uint64_t addr, std::span<const std::byte> src) = 0;

    template <class T>
    Expected<T> read_obj(std::uint64_t addr) {
        static_assert(std::is_trivially_copyable_v<T>);
        T v{};
        if (int e = read(addr, std::as_writable_bytes(std::span(&v, 1))); e != 0) return Errno{e};
        return v;
    }
    template <class T>
    int write_obj(std::uint64_t addr, const T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(addr, std::as_bytes(std::span(&v, 1)));
    }
};

}  // namespace kvmemu
