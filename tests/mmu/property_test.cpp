// Property test (CI): fixed seeds, bounded steps; see property_driver.cpp for the invariants.
// mmu_bench runs the same driver much longer.
#include <gtest/gtest.h>

#include "tests/mmu/property_driver.hpp"

namespace kvmemu::mmu::testing {
namespace {

TEST(Property, RandomSequencesKeepInvariants) {
    for (std::uint64_t seed : {1u, 2u, 3u, 20261125u}) {
        const PropertyResult r = run_property(PropertyConfig{seed, 4000});
        EXPECT_TRUE(r.ok()) << "seed " << seed << ": " << r.error;
        EXPECT_EQ(r.steps_done, 4000u);
        EXPECT_GT(r.mapped, 1000u);
        EXPECT_GT(r.nx_splits_seen, 0u);
        EXPECT_GT(r.recovered, 0u);
    }
}

}  // namespace
}  // namespace kvmemu::mmu::testing
