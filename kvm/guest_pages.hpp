// GuestPages: how a vCPU reaches guest memory that lives in its VMM's process, page by page,
// with the coherence protocol of KVM_RUN (invalidate at entry, flush before every exit).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace kvmemu::kvm {

class GuestPages {
public:
    virtual ~GuestPages() = default;
    // A local view of the 4 KiB client page holding `hva`, valid until invalidate(); for_write
    // marks it to be written back. nullptr on failure, with error() = EFAULT (no client memory
    // there) or ESRCH (client gone).
    virtual std::uint8_t* page(std::uint64_t hva, bool for_write) = 0;
    [[nodiscard]] virtual int error() const = 0;
    // Writes every page written since the last flush back to the client: 0 or an errno.
    virtual int flush() = 0;
    // Forgets every local view (the next access re-reads the client's memory).
    virtual void invalidate() = 0;
};

// Makes the GuestPages of one vCPU of a VM owned by process `owner`.
using GuestPagesFactory = std::function<std::unique_ptr<GuestPages>(pid_t owner)>;

// The VMM's memory is this process's own memory: for tests that run guest code in-process.
class LocalGuestPages final : public GuestPages {
public:
    std::uint8_t* page(std::uint64_t hva, bool /*for_write*/) override {
        return reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(hva & ~0xfffULL));
    }
    [[nodiscard]] int error() const override { return 0; }
    int flush() override { return 0; }
    void invalidate() override {}
};

}  // namespace kvmemu::kvm
