// PhysBus: how the engine reaches guest-physical memory. The daemon implements it over the VM's
// memslots / MMU; every guest-physical access the engine makes goes through page().
#pragma once

#include <cstdint>

namespace kvmemu::cpu {

enum class Access : uint8_t { Read, Write, Exec };

// The 4 KiB host page holding a guest-physical address, or none (=> MMIO exit for data accesses;
// fetch from there => INTERNAL_ERROR). `host` points at the start of the page containing gpa and
// must stay valid until run() returns or Engine::flush_tlb() is called, whichever comes first.
struct PhysPage {
    uint8_t* host = nullptr;
    [[nodiscard]] bool present() const noexcept { return host != nullptr; }
};

class PhysBus {
public:
    virtual ~PhysBus() = default;
    // gpa is any address inside the page; Write may legitimately fail where Read succeeds
    // (read-only memslot), the engine then reports an MMIO write exit.
    virtual PhysPage page(uint64_t gpa, Access access) = 0;
};

}  // namespace kvmemu::cpu
