// DetectingHostLevel against real children: 4K small pages, 2M/1G hugetlb (the test grows the
// hugetlb pool and restores it), THP via MADV_HUGEPAGE (cross-checked with smaps), caching,
// invalidation, a vanished client.
#include "guestmem/detecting_host_level.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>

#include <string>
#include <vector>

#include "tests/guestmem/sysctl_guard.hpp"
#include "tests/guestmem/test_child.hpp"

namespace kvmemu::guestmem {
namespace {

using mmu::Level;
using test::MapKind;
using test::SysctlGuard;
using test::TestChild;

constexpr std::uint64_t k4K = 4096;
constexpr std::uint64_t k2M = std::uint64_t{1} << 21;
constexpr std::uint64_t k1G = std::uint64_t{1} << 30;

struct Logged {
    std::vector<std::string> lines;
    HostLevelLog sink() {
        return [this](std::string_view l) { lines.emplace_back(l); };
    }
};

DetectingHostLevel detector(const TestChild& child, Logged& log) {
    return DetectingHostLevel(ClientProcess::open(child.pid()), log.sink());
}

// The child's area containing `addr`, as smaps shows it now.
Vma child_vma(const TestChild& child, std::uint64_t addr) {
    auto p = ClientProcess::open(child.pid());
    if (!p) return {};
    auto dir = p->open_proc_dir();
    if (!dir) return {};
    auto list = VmaList::read(dir->get());
    if (!list) return {};
    const Vma* v = list->find(addr);
    return v ? *v : Vma{};
}

TEST(DetectingHostLevel, SmallPagesAre4K) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, 4 * k2M);
    ASSERT_NE(a, 0u);
    Logged log;
    auto d = detector(child, log);
    for (std::uint64_t off = 0; off < 4 * k2M; off += k2M / 2)
        EXPECT_EQ(d.host_level(a + off), Level::k4K) << off;
    EXPECT_EQ(d.stats().errors, 0u) << (log.lines.empty() ? "" : log.lines.front());
    EXPECT_EQ(d.stats().vma_reads, 1u);
    EXPECT_TRUE(log.lines.empty());
}

TEST(DetectingHostLevel, UnmappedAndUntouchedAre4KAndNotCached) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Untouched, 4 * k2M);
    ASSERT_NE(a, 0u);
    Logged log;
    auto d = detector(child, log);
    EXPECT_EQ(d.host_level(0x1000), Level::k4K);
    EXPECT_EQ(d.stats().unmapped, 1u);
    EXPECT_EQ(d.host_level(0x2000), Level::k4K);  // same region: no second smaps read
    EXPECT_EQ(d.stats().vma_reads, 1u);
    EXPECT_EQ(d.stats().unmapped, 1u);
    EXPECT_EQ(d.cached_regions(), 1u);  // the unmapped region
    const std::uint64_t region = (a + k2M - 1) & ~(k2M - 1);  // a whole region inside the area
    EXPECT_EQ(d.host_level(region + 5 * k4K), Level::k4K);
    EXPECT_EQ(d.stats().not_present, 1u);
    EXPECT_EQ(d.cached_regions(), 1u);  // not-present answers are not kept
    child.poke(region + 5 * k4K, 1);  // now present (small: MADV_NOHUGEPAGE)
    EXPECT_EQ(d.host_level(region + 5 * k4K), Level::k4K);
    EXPECT_EQ(d.stats().not_present, 1u);
    EXPECT_EQ(d.cached_regions(), 2u);
    EXPECT_EQ(d.stats().errors, 0u);
}

// Grows a hugetlb pool by `pages`; nullopt (with the reason) if the kernel will not.
std::optional<std::string> grow_pool(SysctlGuard& guard, long pages) {
    if (!guard.saved()) return "cannot read the pool size";
    const auto got = guard.set(*guard.saved() + pages);
    if (!got || *got < *guard.saved() + pages)
        return "the kernel granted " + std::to_string(got.value_or(-1)) + " of " +
               std::to_string(*guard.saved() + pages) + " huge pages";
    return std::nullopt;
}

TEST(DetectingHostLevel, Hugetlb2MIs2M) {
    const std::string pool = "/proc/sys/vm/nr_hugepages";
    const auto before = test::read_long(pool);
    {
        SysctlGuard guard(pool);
        if (auto why = grow_pool(guard, 4)) GTEST_SKIP() << "no 2M hugetlb pages: " << *why;
        TestChild child;
        const std::uint64_t a = child.map(MapKind::Hugetlb2M, 2 * k2M);
        ASSERT_NE(a, 0u) << "MAP_HUGETLB mmap failed in the child";
        ASSERT_EQ(child_vma(child, a).kernel_page_size, k2M);
        Logged log;
        auto d = detector(child, log);
        EXPECT_EQ(d.host_level(a), Level::k2M);
        EXPECT_EQ(d.host_level(a + k2M + 12345), Level::k2M);
        EXPECT_EQ(d.host_level(a + 2 * k2M - 1), Level::k2M);
        EXPECT_EQ(d.stats().errors, 0u);
        // The area list is cached: after munmap the answer stays until invalidated.
        child.unmap(a, 2 * k2M);
        EXPECT_EQ(d.host_level(a), Level::k2M);
        d.invalidate_range(a, 2 * k2M);
        EXPECT_EQ(d.host_level(a), Level::k4K);
        EXPECT_EQ(d.stats().unmapped, 1u);
    }
    EXPECT_EQ(test::read_long(pool), before) << "nr_hugepages not restored";
}

TEST(DetectingHostLevel, Hugetlb1GIs1G) {
    const std::string pool = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
    const auto before = test::read_long(pool);
    {
        SysctlGuard guard(pool);
        if (auto why = grow_pool(guard, 1)) GTEST_SKIP() << "no 1G hugetlb page: " << *why;
        TestChild child;
        const std::uint64_t a = child.map(MapKind::Hugetlb1G, k1G);
        ASSERT_NE(a, 0u) << "MAP_HUGE_1GB mmap failed in the child";
        Logged log;
        auto d = detector(child, log);
        EXPECT_EQ(d.host_level(a), Level::k1G);
        EXPECT_EQ(d.host_level(a + k1G - 1), Level::k1G);
        EXPECT_EQ(d.stats().errors, 0u);
    }
    EXPECT_EQ(test::read_long(pool), before) << "1G pool not restored";
}

TEST(DetectingHostLevel, ThpIs2MWhereSmapsCountsIt) {
    TestChild child;
    const std::size_t len = 8 * k2M;
    const std::uint64_t a = child.map(MapKind::Thp, len);
    ASSERT_NE(a, 0u);
    ASSERT_EQ(a % k2M, 0u);
    const Vma vma = child_vma(child, a);
    if (vma.anon_huge_bytes == 0)
        GTEST_SKIP() << "MADV_HUGEPAGE produced no THP here (AnonHugePages 0; THP setting or "
                        "fragmentation)";
    Logged log;
    auto d = detector(child, log);
    std::uint64_t huge_bytes = 0;
    for (std::uint64_t r = a; r < a + len; r += k2M) {
        const Level l = d.host_level(r + 7 * k4K + 3);
        EXPECT_NE(l, Level::k1G);
        if (l == Level::k2M) huge_bytes += k2M;
        // Every page of a region has the region's answer.
        EXPECT_EQ(d.host_level(r), l);
        EXPECT_EQ(d.host_level(r + k2M - 1), l);
    }
    EXPECT_EQ(d.stats().errors, 0u) << (log.lines.empty() ? "" : log.lines.front());
    // Exactly the PMD-mapped THP that smaps counts are reported as 2M.
    EXPECT_EQ(huge_bytes, child_vma(child, a).anon_huge_bytes);
    EXPECT_EQ(d.stats().region_probes, len / k2M);
    EXPECT_EQ(d.stats().region_hits, 2 * len / k2M);
}

TEST(DetectingHostLevel, RegionAnswersAreCachedUntilInvalidated) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Thp, 2 * k2M);
    ASSERT_NE(a, 0u);
    if (child_vma(child, a).anon_huge_bytes == 0) GTEST_SKIP() << "no THP from MADV_HUGEPAGE";
    Logged log;
    auto d = detector(child, log);
    std::uint64_t region = a;
    if (d.host_level(region) != Level::k2M) region += k2M;
    ASSERT_EQ(d.host_level(region), Level::k2M);
    // Replace the THP by small pages in place: the cache still answers 2M...
    child.unmap(region, k2M);
    EXPECT_EQ(d.host_level(region + k4K), Level::k2M);
    // ...until the VM invalidates the range (memslot change); then the truth.
    d.invalidate_range(region + 100, 1);
    EXPECT_EQ(d.host_level(region + k4K), Level::k4K);
    EXPECT_EQ(d.stats().unmapped, 1u);
    d.invalidate();
    EXPECT_EQ(d.cached_regions(), 0u);
}

// A THP whose PMD mapping is split (mprotect of one 4 KiB page inside it, then back, so that the
// area is whole again) is still one compound page for kpageflags, but KVM would see 4 KiB host
// PTEs: PAGEMAP_SCAN tells them apart.
TEST(DetectingHostLevel, SplitThpIs4K) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Thp, 2 * k2M);
    ASSERT_NE(a, 0u);
    if (child_vma(child, a).anon_huge_bytes == 0) GTEST_SKIP() << "no THP from MADV_HUGEPAGE";
    Logged log;
    auto d = detector(child, log);
    std::uint64_t region = a;
    if (d.host_level(region) != Level::k2M) region += k2M;
    ASSERT_EQ(d.host_level(region), Level::k2M);
    ASSERT_EQ(child.protect(region + 17 * k4K, k4K, PROT_READ), 0);
    d.invalidate();
    EXPECT_EQ(d.host_level(region + 100 * k4K), Level::k4K);  // area split: no PMD possible
    ASSERT_EQ(child.protect(region + 17 * k4K, k4K, PROT_READ | PROT_WRITE), 0);
    const Vma merged = child_vma(child, region);
    ASSERT_LE(merged.start, region);
    ASSERT_GE(merged.end, region + k2M) << "areas did not merge back";
    d.invalidate();
    EXPECT_EQ(d.host_level(region + 100 * k4K), Level::k4K);
    EXPECT_EQ(d.host_level(region + 17 * k4K), Level::k4K);
    EXPECT_EQ(d.stats().errors, 0u) << (log.lines.empty() ? "" : log.lines.front());
}

TEST(PageFlags, MappedHugeSeesPmdMappings) {
    TestChild child;
    const std::uint64_t thp = child.map(MapKind::Thp, 2 * k2M);
    const std::uint64_t small = child.map(MapKind::Small, 2 * k2M);
    ASSERT_NE(thp, 0u);
    ASSERT_NE(small, 0u);
    auto p = ClientProcess::open(child.pid());
    ASSERT_TRUE(p);
    auto dir = p->open_proc_dir();
    ASSERT_TRUE(dir);
    auto flags = PageFlags::open(dir->get());
    ASSERT_TRUE(flags);
    auto probe = flags->mapped_huge(thp);
    if (!probe && (probe.error() == ENOTTY || probe.error() == EINVAL))
        GTEST_SKIP() << "kernel without PAGEMAP_SCAN";
    ASSERT_TRUE(probe);
    const std::uint64_t small_region = (small + k2M - 1) & ~(k2M - 1);
    if (small_region + k2M <= small + 2 * k2M) {
        auto s = flags->mapped_huge(small_region);
        ASSERT_TRUE(s);
        EXPECT_FALSE(*s);
    }
    const std::uint64_t huge = child_vma(child, thp).anon_huge_bytes;
    std::uint64_t seen = 0;
    for (std::uint64_t r = thp; r < thp + 2 * k2M; r += k2M) {
        auto h = flags->mapped_huge(r);
        ASSERT_TRUE(h);
        seen += *h ? k2M : 0;
    }
    EXPECT_EQ(seen, huge);
}

TEST(DetectingHostLevel, GoneClientIs4KWithOneLogLine) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, k2M);
    ASSERT_NE(a, 0u);
    Logged log;
    auto d = detector(child, log);
    child.exit();
    EXPECT_EQ(d.host_level(a), Level::k4K);
    EXPECT_EQ(d.host_level(a + k4K), Level::k4K);
    EXPECT_GE(d.stats().errors, 1u);
    EXPECT_EQ(log.lines.size(), 1u);
    for (const auto& l : log.lines) EXPECT_NE(l.find("host mapping level"), std::string::npos);
}

TEST(DetectingHostLevel, UnopenableClientIs4K) {
    Logged log;
    auto d = DetectingHostLevel::for_pid(0, log.sink());
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->host_level(0x400000), Level::k4K);
    EXPECT_EQ(d->stats().errors, 1u);
    ASSERT_EQ(log.lines.size(), 1u);
    EXPECT_NE(log.lines[0].find("cannot open the client process"), std::string::npos);
}

}  // namespace
}  // namespace kvmemu::guestmem
