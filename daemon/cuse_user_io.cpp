// CuseUserIo: mapping caller addresses onto the in/out buffers of one CUSE ioctl round.
#include "daemon/cuse_user_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "uapi/ioctl_encoding.hpp"

namespace kvmemu::daemon {

namespace u = uapi;

IoPlan initial_plan(std::uint32_t cmd, std::uint64_t arg) {
    IoPlan plan;
    const unsigned size = u::ioc_size(cmd);
    if (size == 0) return plan;
    if ((u::ioc_dir(cmd) & u::IOC_WRITE) != 0) plan.in.push_back({arg, size});
    if ((u::ioc_dir(cmd) & u::IOC_READ) != 0) plan.out.push_back({arg, size});
    return plan;
}

namespace {

// Offset of [addr, addr+len) inside the concatenation of `regions`, if one region covers it.
bool locate(const std::vector<IoRegion>& regions, std::uint64_t addr, std::uint64_t len,
            std::size_t& offset) {
    std::size_t base = 0;
    for (const auto& r : regions) {
        if (addr >= r.addr && len <= r.len && addr - r.addr <= r.len - len) {
            offset = base + (addr - r.addr);
            return true;
        }
        base += r.len;
    }
    return false;
}

void add_region(std::vector<IoRegion>& regions, std::uint64_t addr, std::uint64_t len) {
    const IoRegion r{addr, len};
    if (std::find(regions.begin(), regions.end(), r) == regions.end()) regions.push_back(r);
}

std::size_t total(const std::vector<IoRegion>& regions) {
    std::size_t n = 0;
    for (const auto& r : regions) n += r.len;
    return n;
}

}  // namespace

CuseUserIo::CuseUserIo(IoPlan plan, std::span<const std::byte> in)
    : plan_(std::move(plan)), in_(in), out_(total(plan_.out)), next_(plan_) {
    // The kernel copies every out region back whole: start each from the caller's own bytes
    // (they are in regions too, see write()) so that bytes a handler leaves alone stay as they
    // were, e.g. nent of KVM_GET_SUPPORTED_CPUID on E2BIG.
    std::size_t base = 0;
    for (const auto& r : plan_.out) {
        std::size_t off = 0;
        if (locate(plan_.in, r.addr, r.len, off) && off + r.len <= in_.size())
            std::memcpy(out_.data() + base, in_.data() + off, r.len);
        base += r.len;
    }
}

int CuseUserIo::read(std::uint64_t addr, std::span<std::byte> dst) {
    if (dst.empty()) return 0;
    if (addr + dst.size() < addr) return EFAULT;
    std::size_t off = 0;
    if (locate(plan_.in, addr, dst.size(), off) && off + dst.size() <= in_.size()) {
        std::memcpy(dst.data(), in_.data() + off, dst.size());
        return 0;
    }
    // Bytes the handler wrote earlier in this round read back as written (kernel semantics).
    if (locate(plan_.out, addr, dst.size(), off)) {
        std::memcpy(dst.data(), out_.data() + off, dst.size());
        return 0;
    }
    add_region(next_.in, addr, dst.size());
    needs_retry_ = true;
    return kRetryWithBuffers;
}

int CuseUserIo::write(std::uint64_t addr, std::span<const std::byte> src) {
    if (src.empty()) return 0;
    if (addr + src.size() < addr) return EFAULT;
    std::size_t off = 0;
    if (locate(plan_.out, addr, src.size(), off)) {
        std::memcpy(out_.data() + off, src.data(), src.size());
        return 0;
    }
    add_region(next_.out, addr, src.size());
    add_region(next_.in, addr, src.size());  // to preserve what the handler does not write
    needs_retry_ = true;
    return kRetryWithBuffers;
}

}  // namespace kvmemu::daemon
