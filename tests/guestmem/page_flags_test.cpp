// classify_region on synthetic pagemap entries and kpageflags: what counts as one PMD-sized THP.
#include "guestmem/page_flags.hpp"

#include <gtest/gtest.h>

#include <array>

namespace kvmemu::guestmem {
namespace {

constexpr std::uint64_t bit(unsigned b) { return std::uint64_t{1} << b; }

struct Region {
    std::array<std::uint64_t, kPagesPer2M> entries{};
    std::array<std::uint64_t, kPagesPer2M> flags{};

    // Present, PFN-contiguous from pfn0, one compound THP: head + tails.
    explicit Region(std::uint64_t pfn0 = 0x40000) {
        for (unsigned i = 0; i < kPagesPer2M; ++i) {
            entries[i] = kPmPresent | (pfn0 + i);
            flags[i] = bit(kKpfThp) | bit(i == 0 ? kKpfCompoundHead : kKpfCompoundTail);
        }
    }
    RegionBacking classify(unsigned probe = 7) const {
        return classify_region(entries.data(), flags.data(), probe);
    }
};

TEST(ClassifyRegion, OneCompoundThpIs2M) { EXPECT_EQ(Region().classify(), RegionBacking::Thp2M); }

TEST(ClassifyRegion, ProbedPageNotPresent) {
    Region r;
    r.entries[7] = 0;
    EXPECT_EQ(r.classify(7), RegionBacking::NotPresent);
    r.entries[7] = kPmSwapped | 123;
    EXPECT_EQ(r.classify(7), RegionBacking::NotPresent);
    EXPECT_EQ(r.classify(8), RegionBacking::Small);  // another page of the region: not all there
}

TEST(ClassifyRegion, MisalignedOrScatteredFramesAreSmall) {
    EXPECT_EQ(Region(0x40001).classify(), RegionBacking::Small);
    Region r;
    r.entries[300] = kPmPresent | 0x99999;
    EXPECT_EQ(r.classify(), RegionBacking::Small);
}

TEST(ClassifyRegion, MthpRunIsSmall) {
    Region r;  // 32 contiguous 64 KiB folios: a head every 16 frames
    for (unsigned i = 0; i < kPagesPer2M; i += 16)
        r.flags[i] = bit(kKpfThp) | bit(kKpfCompoundHead);
    EXPECT_EQ(r.classify(), RegionBacking::Small);
}

TEST(ClassifyRegion, OrdinaryPagesAndHugetlbAreNotThp) {
    Region plain;
    plain.flags.fill(0);
    EXPECT_EQ(plain.classify(), RegionBacking::Small);
    Region huge;
    for (auto& f : huge.flags) f |= bit(kKpfHuge);
    EXPECT_EQ(huge.classify(), RegionBacking::Small);
    Region notail;
    notail.flags[511] = bit(kKpfThp);
    EXPECT_EQ(notail.classify(), RegionBacking::Small);
}

TEST(ClassifyRegion, HugeZeroPage) {
    Region r;
    for (auto& f : r.flags) f |= bit(kKpfZeroPage);
    EXPECT_EQ(r.classify(), RegionBacking::HugeZero);
}

TEST(ClassifyRegion, NoFlagsMeansSmall) {
    Region r;
    EXPECT_EQ(classify_region(r.entries.data(), nullptr, 0), RegionBacking::Small);
}

}  // namespace
}  // namespace kvmemu::guestmem
