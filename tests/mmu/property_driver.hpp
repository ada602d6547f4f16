// Random-sequence property run over several VMs' MMUs: faults, zaps, slot changes, parameter
// and capability changes, recoveries, with every invariant checked after each step.
// Shared by the unit test (short, fixed seed) and mmu_bench (long run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kvmemu::mmu::testing {

struct PropertyConfig {
    std::uint64_t seed = 1;
    std::size_t steps = 10000;
};

struct PropertyResult {
    std::size_t steps_done = 0;
    std::size_t faults = 0;
    std::size_t mapped = 0;
    std::size_t nx_splits_seen = 0;  // exec faults that left a tracked split
    std::size_t recovered = 0;
    std::string error;  // empty when every invariant held
    bool ok() const { return error.empty(); }
};

PropertyResult run_property(const PropertyConfig& config);

}  // namespace kvmemu::mmu::testing
