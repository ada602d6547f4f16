// msr_io(): arch/x86/kvm/x86.c's msr_io() and __msr_io().
#include "kvm/msr_io.hpp"

#include <cerrno>
#include <span>
#include <vector>

namespace kvmemu::kvm {

namespace u = uapi;

long msr_io(std::uint64_t arg, UserIo& io, bool copy_back,
            const std::function<bool(u::kvm_msr_entry&)>& handle) {
    constexpr std::uint32_t kMaxIoMsrs = 256;  // MAX_IO_MSRS
    auto hdr = io.read_obj<u::kvm_msrs>(arg);
    if (!hdr) return -hdr.error();
    if (hdr->nmsrs >= kMaxIoMsrs) return -E2BIG;
    std::vector<u::kvm_msr_entry> entries(hdr->nmsrs);
    const std::uint64_t at = arg + sizeof(u::kvm_msrs);
    if (int e = io.read(at, std::as_writable_bytes(std::span(entries))); e != 0) return -e;
    long done = 0;
    for (auto& e : entries) {
        if (!handle(e)) break;
        ++done;
    }
    if (copy_back) {
        if (int e = io.write(at, std::as_bytes(std::span(entries))); e != 0) return -e;
    }
    return done;
}

}  // namespace kvmemu::kvm
