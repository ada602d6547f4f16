// ProcessGuestPages: an adapter from guestmem::PageCache to kvm::GuestPages.
#include "daemon/process_guest_pages.hpp"

#include <spdlog/spdlog.h>

#include <cstring>
#include <optional>

#include "guestmem/client_process.hpp"
#include "guestmem/page_cache.hpp"
#include "guestmem/process_memory.hpp"

namespace kvmemu::daemon {
namespace {

class ProcessGuestPages final : public kvm::GuestPages {
public:
    explicit ProcessGuestPages(guestmem::ClientProcess process)
        : memory_(std::move(process)), cache_(memory_) {}
    std::uint8_t* page(std::uint64_t hva, bool for_write) override {
        return cache_.page(hva, for_write);
    }
    [[nodiscard]] int error() const override { return cache_.error(); }
    int flush() override { return cache_.flush(); }
    void invalidate() override { cache_.invalidate(); }

private:
    guestmem::ProcessMemory memory_;
    guestmem::PageCache cache_;
};

class UnreachableGuestPages final : public kvm::GuestPages {
public:
    explicit UnreachableGuestPages(int error) : error_(error) {}
    std::uint8_t* page(std::uint64_t, bool) override { return nullptr; }
    [[nodiscard]] int error() const override { return error_; }
    int flush() override { return 0; }
    void invalidate() override {}

private:
    int error_;
};

}  // namespace

std::unique_ptr<kvm::GuestPages> make_process_guest_pages(pid_t owner) {
    auto process = guestmem::ClientProcess::open(owner);
    if (!process) {
        spdlog::warn("cannot open process {} for guest memory access: {}", owner,
                     std::strerror(process.error()));
        return std::make_unique<UnreachableGuestPages>(process.error());
    }
    return std::make_unique<ProcessGuestPages>(std::move(*process));
}

}  // namespace kvmemu::daemon
