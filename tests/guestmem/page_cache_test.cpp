// PageCache against a real child: first-touch loads, dirty tracking, flush write-back (batched),
// invalidate, coherence in both directions across simulated KVM_RUNs, errors.
#include "guestmem/page_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "tests/guestmem/test_child.hpp"

namespace kvmemu::guestmem {
namespace {

using test::MapKind;
using test::pattern;
using test::TestChild;

constexpr std::size_t kPage = PageCache::kPageSize;

class PageCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto p = ClientProcess::open(child_.pid());
        if (!p) throw std::runtime_error("ClientProcess::open");
        memory_ = std::make_unique<ProcessMemory>(std::move(*p));
        cache_ = std::make_unique<PageCache>(*memory_);
    }

    TestChild child_;
    std::unique_ptr<ProcessMemory> memory_;
    std::unique_ptr<PageCache> cache_;
};

bool page_matches(const std::uint8_t* p, std::uint64_t seed, std::uint64_t from) {
    for (std::size_t i = 0; i < kPage; ++i)
        if (p[i] != pattern(seed, from + i)) return false;
    return true;
}

TEST_F(PageCacheTest, LoadsOnFirstTouchOnly) {
    const std::uint64_t a = child_.map(MapKind::Small, 4 * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, 4 * kPage, 1);
    std::uint8_t* p = cache_->page(a + kPage + 100, false);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kPage, 0u);
    EXPECT_TRUE(page_matches(p, 1, kPage));
    EXPECT_EQ(cache_->page(a + kPage, false), p);
    EXPECT_EQ(cache_->page(a + 2 * kPage - 1, true), p);
    EXPECT_EQ(cache_->stats().loads, 1u);
    EXPECT_EQ(cache_->stats().read_calls, 1u);
    EXPECT_EQ(cache_->cached_pages(), 1u);
    // The client's later write is not seen until invalidate() (the next KVM_RUN entry).
    child_.poke(a + kPage, 0xab);
    EXPECT_EQ(cache_->page(a + kPage, false)[0], pattern(1, kPage));
    cache_->invalidate();
    EXPECT_EQ(cache_->cached_pages(), 0u);
    EXPECT_EQ(cache_->page(a + kPage, false)[0], 0xab);
    EXPECT_EQ(cache_->stats().loads, 2u);
}

TEST_F(PageCacheTest, WritesReachTheClientAtFlush) {
    const std::uint64_t a = child_.map(MapKind::Small, 2 * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, 2 * kPage, 2);
    std::uint8_t* p = cache_->page(a, true);
    ASSERT_NE(p, nullptr);
    p[10] = 0x42;
    EXPECT_EQ(cache_->dirty_pages(), 1u);
    EXPECT_EQ(child_.peek(a + 10), pattern(2, 10));  // not yet
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(child_.peek(a + 10), 0x42);
    EXPECT_EQ(cache_->dirty_pages(), 0u);
    EXPECT_EQ(cache_->stats().pages_written, 1u);
    // The rest of the page is what it was; the other page was never written.
    child_.poke(a + 10, pattern(2, 10));
    EXPECT_EQ(child_.check(a, 2 * kPage, 2), 0u);
    // Nothing dirty: flush() makes no call.
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(cache_->stats().write_calls, 1u);
}

TEST_F(PageCacheTest, CleanPagesAreNeverWrittenBack) {
    const std::uint64_t a = child_.map(MapKind::Small, 2 * kPage);
    ASSERT_NE(a, 0u);
    ASSERT_NE(cache_->page(a, false), nullptr);
    std::uint8_t* w = cache_->page(a + kPage, true);
    ASSERT_NE(w, nullptr);
    w[0] = 1;
    child_.poke(a + 5, 0x77);  // client writes a page the vCPU only read
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(child_.peek(a + 5), 0x77);
    EXPECT_EQ(child_.peek(a + kPage), 1);
}

TEST_F(PageCacheTest, FlushBatchesDirtyPagesInOneCall) {
    const std::size_t n = 64;
    const std::uint64_t a = child_.map(MapKind::Small, n * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, n * kPage, 3);
    // Dirty 8 adjacent pages, then 5 scattered ones, in a shuffled order.
    const std::size_t pages[] = {12, 7, 5, 9, 6, 8, 11, 10, 40, 20, 63, 0, 33};
    for (const std::size_t i : pages) {
        std::uint8_t* p = cache_->page(a + i * kPage, true);
        ASSERT_NE(p, nullptr);
        for (std::size_t j = 0; j < kPage; ++j) p[j] = pattern(4, i * kPage + j);
    }
    EXPECT_EQ(cache_->dirty_pages(), std::size(pages));
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(cache_->stats().write_calls, 1u);
    EXPECT_EQ(cache_->stats().pages_written, std::size(pages));
    for (std::size_t i = 0; i < n; ++i) {
        const bool written = std::find(std::begin(pages), std::end(pages), i) != std::end(pages);
        std::uint64_t bad = 0;
        for (std::size_t j = 0; j < kPage; j += 509)
            bad += child_.peek(a + i * kPage + j) != pattern(written ? 4 : 3, i * kPage + j);
        EXPECT_EQ(bad, 0u) << "page " << i;
    }
}

TEST_F(PageCacheTest, PointersStayValidAcrossManyLoads) {
    const std::size_t n = 300;  // several storage chunks
    const std::uint64_t a = child_.map(MapKind::Small, n * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, n * kPage, 5);
    std::vector<std::uint8_t*> ptrs;
    for (std::size_t i = 0; i < n; ++i) {
        ptrs.push_back(cache_->page(a + i * kPage, false));
        ASSERT_NE(ptrs.back(), nullptr);
    }
    for (std::size_t i = 0; i < n; ++i) {
        EXPECT_TRUE(page_matches(ptrs[i], 5, i * kPage)) << i;
        EXPECT_EQ(cache_->page(a + i * kPage, false), ptrs[i]);
    }
    EXPECT_EQ(cache_->stats().loads, n);
}

TEST_F(PageCacheTest, PrefetchLoadsMissingPagesInOneCall) {
    const std::size_t n = 16;
    const std::uint64_t a = child_.map(MapKind::Small, n * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, n * kPage, 6);
    ASSERT_NE(cache_->page(a + 3 * kPage, false), nullptr);  // one already there
    ASSERT_EQ(cache_->prefetch(a + 10, n * kPage - 20), 0);
    EXPECT_EQ(cache_->stats().loads, n);
    EXPECT_EQ(cache_->stats().read_calls, 3u);  // the first page, then [0,3) and [4,16)
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t* p = cache_->page(a + i * kPage, false);
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(page_matches(p, 6, i * kPage));
    }
    EXPECT_EQ(cache_->stats().loads, n);
}

TEST_F(PageCacheTest, PrefetchKeepsPagesBeforeAHole) {
    const std::uint64_t a = child_.map(MapKind::Small, 4 * kPage);
    ASSERT_NE(a, 0u);
    child_.unmap(a + 2 * kPage, kPage);
    EXPECT_EQ(cache_->prefetch(a, 4 * kPage), EFAULT);
    EXPECT_EQ(cache_->cached_pages(), 2u);
    EXPECT_EQ(cache_->page(a + 2 * kPage, false), nullptr);
    EXPECT_EQ(cache_->error(), EFAULT);
    EXPECT_NE(cache_->page(a + 3 * kPage, false), nullptr);
}

// Two simulated KVM_RUNs with the protocol of the header: the guest's writes are in the client
// when the run returns; the client's writes between runs are seen by the next run.
TEST_F(PageCacheTest, CoherenceAcrossRuns) {
    const std::uint64_t a = child_.map(MapKind::Small, 8 * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, 8 * kPage, 7);

    // Run 1: the guest reads page 0, increments a counter in page 5.
    cache_->invalidate();
    ASSERT_NE(cache_->page(a, false), nullptr);
    std::uint8_t* counter = cache_->page(a + 5 * kPage, true);
    ASSERT_NE(counter, nullptr);
    counter[0] = static_cast<std::uint8_t>(counter[0] + 1);
    ASSERT_EQ(cache_->flush(), 0);  // exit to userspace
    EXPECT_EQ(child_.peek(a + 5 * kPage), static_cast<std::uint8_t>(pattern(7, 5 * kPage) + 1));

    // Between runs the client changes page 0 and the counter.
    child_.poke(a, 0x31);
    child_.poke(a + 5 * kPage, 0x90);

    // Run 2 sees both, and its own write lands again.
    cache_->invalidate();
    EXPECT_EQ(cache_->page(a, false)[0], 0x31);
    counter = cache_->page(a + 5 * kPage, true);
    ASSERT_NE(counter, nullptr);
    EXPECT_EQ(counter[0], 0x90);
    counter[0] = static_cast<std::uint8_t>(counter[0] + 1);
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(child_.peek(a + 5 * kPage), 0x91);
}

// A client thread writing other bytes of a page the guest writes during the run keeps its
// write (ChangedBytes, the default); WholePages would put the old bytes back.
TEST_F(PageCacheTest, ChangedBytesKeepsTheClientsConcurrentWrites) {
    const std::uint64_t a = child_.map(MapKind::Small, kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, kPage, 8);
    std::uint8_t* p = cache_->page(a, true);
    ASSERT_NE(p, nullptr);
    p[100] = static_cast<std::uint8_t>(~pattern(8, 100));
    p[101] = static_cast<std::uint8_t>(~pattern(8, 101));
    p[4095] = static_cast<std::uint8_t>(~pattern(8, 4095));
    child_.poke(a + 200, static_cast<std::uint8_t>(~pattern(8, 200)));  // the client, meanwhile
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(child_.peek(a + 100), static_cast<std::uint8_t>(~pattern(8, 100)));
    EXPECT_EQ(child_.peek(a + 4095), static_cast<std::uint8_t>(~pattern(8, 4095)));
    EXPECT_EQ(child_.peek(a + 200), static_cast<std::uint8_t>(~pattern(8, 200)));
    EXPECT_EQ(child_.check(a, kPage, 8), 4u);
    EXPECT_EQ(cache_->stats().bytes_written, 3u);
    EXPECT_EQ(cache_->stats().write_calls, 1u);
}

TEST_F(PageCacheTest, WholePagesWriteTheWholePage) {
    PageCache whole(*memory_, WriteBack::WholePages);
    const std::uint64_t a = child_.map(MapKind::Small, 2 * kPage);
    ASSERT_NE(a, 0u);
    child_.fill(a, 2 * kPage, 9);
    std::uint8_t* p = whole.page(a, true);
    ASSERT_NE(p, nullptr);
    p[100] = 0;
    ASSERT_NE(whole.page(a + kPage, true), nullptr);  // taken for writing, left unchanged
    child_.poke(a + 200, static_cast<std::uint8_t>(~pattern(9, 200)));
    ASSERT_EQ(whole.flush(), 0);
    EXPECT_EQ(child_.peek(a + 100), 0);
    EXPECT_EQ(child_.peek(a + 200), pattern(9, 200));  // the client's write is gone
    EXPECT_EQ(whole.stats().bytes_written, 2 * kPage);
    EXPECT_EQ(whole.stats().write_calls, 1u);
}

TEST_F(PageCacheTest, UnchangedWritablePagesCostNothing) {
    const std::uint64_t a = child_.map(MapKind::Small, 2 * kPage);
    ASSERT_NE(a, 0u);
    std::uint8_t* p = cache_->page(a, true);
    ASSERT_NE(p, nullptr);
    p[7] = p[7];  // a store of the same value
    EXPECT_EQ(cache_->dirty_pages(), 1u);
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(cache_->dirty_pages(), 0u);
    EXPECT_EQ(cache_->stats().write_calls, 0u);
    EXPECT_EQ(cache_->stats().pages_written, 0u);
    // Dirty again after a flush: a new snapshot, so only the new change is written.
    p = cache_->page(a, true);
    p[9] = static_cast<std::uint8_t>(p[9] + 1);
    child_.poke(a + 7, 0x44);
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(cache_->stats().bytes_written, 1u);
    EXPECT_EQ(child_.peek(a + 7), 0x44);
}

TEST_F(PageCacheTest, DirtyCopiesDroppedByInvalidateAreLost) {
    const std::uint64_t a = child_.map(MapKind::Small, kPage);
    ASSERT_NE(a, 0u);
    child_.poke(a, 0x10);
    std::uint8_t* p = cache_->page(a, true);
    ASSERT_NE(p, nullptr);
    p[0] = 0x20;
    cache_->invalidate();  // without flush()
    EXPECT_EQ(cache_->dirty_pages(), 0u);
    ASSERT_EQ(cache_->flush(), 0);
    EXPECT_EQ(child_.peek(a), 0x10);
}

TEST_F(PageCacheTest, ErrorsForUnmappedMemoryAndAGoneClient) {
    const std::uint64_t a = child_.map(MapKind::Small, 2 * kPage);
    ASSERT_NE(a, 0u);
    std::uint8_t* p = cache_->page(a, true);
    ASSERT_NE(p, nullptr);
    p[0] = 9;
    child_.unmap(a, 2 * kPage);
    // Loading a page the client no longer has.
    EXPECT_EQ(cache_->page(a + kPage, false), nullptr);
    EXPECT_EQ(cache_->error(), EFAULT);
    // Writing back one.
    EXPECT_EQ(cache_->flush(), EFAULT);
    EXPECT_EQ(cache_->dirty_pages(), 1u);  // still dirty: not written
    cache_->invalidate();
    const std::uint64_t b = child_.map(MapKind::Small, kPage);
    ASSERT_NE(b, 0u);
    std::uint8_t* q = cache_->page(b, true);
    ASSERT_NE(q, nullptr);
    q[1] = 0xfe;
    child_.exit();
    EXPECT_EQ(cache_->flush(), ESRCH);
    EXPECT_EQ(cache_->page(b + 64 * kPage, false), nullptr);
    EXPECT_EQ(cache_->error(), ESRCH);
}

TEST_F(PageCacheTest, PagesOnlyReadAreConfirmedByTheNextFlush) {
    const std::uint64_t a = child_.map(MapKind::Small, kPage);
    ASSERT_NE(a, 0u);
    ASSERT_NE(cache_->page(a, false), nullptr);
    EXPECT_EQ(cache_->flush(), 0);  // nothing dirty, the client is there
    cache_->invalidate();
    ASSERT_NE(cache_->page(a, false), nullptr);  // read without a pidfd check ...
    child_.exit();
    EXPECT_EQ(cache_->flush(), ESRCH);  // ... so the flush says the client is gone
    EXPECT_EQ(cache_->error(), ESRCH);
}

}  // namespace
}  // namespace kvmemu::guestmem
