// Engine::Impl: everything an Engine keeps between run() calls.
#pragma once

#include <cstdint>
#include <string>

#include "cpu/engine.hpp"
#include "cpu/internal/block_cache.hpp"
#include "cpu/internal/core.hpp"

namespace kvmemu::cpu {

struct Engine::Impl {
    EngineConfig config;
    CpuidTable cpuid;
    UnsupportedHook unsupported;
    Core core;
    BlockCache blocks;
    PendingIn pending_in;
    bool pending_mmio_read = false;
    MmioExit pending_read{};
    std::array<uint8_t, kMaxPioInBytes> completion{};
    uint64_t epoch = 0;
    uint64_t rsvd_mask = 0;  // physical-address bits above MAXPHYADDR (reserved in PTEs)
};

[[noreturn]] void internal_error(Core& c, std::string why);

// Exceptions / interrupts (exceptions.cpp).
void deliver_event(Core& c, uint8_t vector, bool has_error, uint32_t error, bool software,
                   uint64_t return_rip);
void load_cs_ss_for_cpl(Core& c);
void do_iret(Core& c);
void do_far_ret(Core& c, unsigned osz, uint64_t extra);
void do_far_transfer(Core& c, uint64_t target_addr, unsigned osz, bool call, uint64_t return_rip);

// System (ops_system.cpp).
uint64_t guest_tsc(const Core& c);
bool msr_read(const Core& c, uint32_t index, uint64_t& value);
bool msr_write(Core& c, uint32_t index, uint64_t value);

}  // namespace kvmemu::cpu
