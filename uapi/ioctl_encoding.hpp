// Linux _IOC request-number encoding (asm-generic layout, as on x86) as constexpr functions.
#pragma once

#include <cstdint>

namespace kvmemu::uapi {

inline constexpr unsigned IOC_NRBITS = 8;
inline constexpr unsigned IOC_TYPEBITS = 8;
inline constexpr unsigned IOC_SIZEBITS = 14;
inline constexpr unsigned IOC_NRSHIFT = 0;
inline constexpr unsigned IOC_TYPESHIFT = IOC_NRSHIFT + IOC_NRBITS;
inline constexpr unsigned IOC_SIZESHIFT = IOC_TYPESHIFT + IOC_TYPEBITS;
inline constexpr unsigned IOC_DIRSHIFT = IOC_SIZESHIFT + IOC_SIZEBITS;

inline constexpr unsigned IOC_NONE = 0;
inline constexpr unsigned IOC_WRITE = 1;  // userspace writes: data flows into the kernel
inline constexpr unsigned IOC_READ = 2;   // userspace reads: data flows out of the kernel

constexpr std::uint32_t ioc(unsigned dir, unsigned type, unsigned nr, unsigned size) {
    return (dir << IOC_DIRSHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) |
           (size << IOC_SIZESHIFT);
}
constexpr std::uint32_t io(unsigned type, unsigned nr) { return ioc(IOC_NONE, type, nr, 0); }
template <class T>
constexpr std::uint32_t ior(unsigned type, unsigned nr) {
    return ioc(IOC_READ, type, nr, sizeof(T));
}
template <class T>
constexpr std::uint32_t iow(unsigned type, unsigned nr) {
    return ioc(IOC_WRITE, type, nr, sizeof(T));
}
template <class T>
constexpr std::uint32_t iowr(unsigned type, unsigned nr) {
    return ioc(IOC_READ | IOC_WRITE, type, nr, sizeof(T));
}

constexpr unsigned ioc_dir(std::uint32_t cmd) { return (cmd >> IOC_DIRSHIFT) & 3U; }
constexpr unsigned ioc_type(std::uint32_t cmd) { return (cmd >> IOC_TYPESHIFT) & 0xffU; }
constexpr unsigned ioc_nr(std::uint32_t cmd) { return (cmd >> IOC_NRSHIFT) & 0xffU; }
constexpr unsigned ioc_size(std::uint32_t cmd) { return (cmd >> IOC_SIZESHIFT) & 0x3fffU; }

}  // namespace kvmemu::uapi
