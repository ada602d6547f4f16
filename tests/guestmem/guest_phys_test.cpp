// read_guest/write_guest: ranges spanning two memslots whose client memory is not adjacent,
// holes between slots, read-only slots, and the client's view of the writes.
#include "guestmem/guest_phys.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

#include "tests/guestmem/test_child.hpp"

namespace kvmemu::guestmem {
namespace {

using test::MapKind;
using test::pattern;
using test::TestChild;

constexpr std::size_t kPage = 4096;

class GuestPhysTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Client memory: slot 0 at GPA 0 (4 pages), slot 1 right after it in GPA space (4
        // pages) but elsewhere in the client, slot 2 (read-only) at GPA 1 MiB.
        low_ = child_.map(MapKind::Small, 4 * kPage);
        high_ = child_.map(MapKind::Small, 4 * kPage);
        rom_ = child_.map(MapKind::Small, kPage);
        if (low_ == 0 || high_ == 0 || rom_ == 0) throw std::runtime_error("map");
        child_.fill(low_, 4 * kPage, 1);
        child_.fill(high_, 4 * kPage, 2);
        child_.fill(rom_, kPage, 3);
        ASSERT_TRUE(slots_.insert({0, 0, 4, low_, 0}));
        ASSERT_TRUE(slots_.insert({1, 4, 4, high_, 0}));
        ASSERT_TRUE(slots_.insert({2, 256, 1, rom_, mmu::kMemReadonly}));
        auto p = ClientProcess::open(child_.pid());
        if (!p) throw std::runtime_error("open");
        memory_ = std::make_unique<ProcessMemory>(std::move(*p));
    }

    TestChild child_;
    std::uint64_t low_ = 0, high_ = 0, rom_ = 0;
    mmu::MemslotSet slots_;
    std::unique_ptr<ProcessMemory> memory_;
};

TEST_F(GuestPhysTest, ReadSpansSlots) {
    std::vector<std::byte> buf(2 * kPage);
    ASSERT_EQ(read_guest(*memory_, slots_, 3 * kPage, buf), 0);
    for (std::size_t i = 0; i < kPage; ++i) {
        ASSERT_EQ(buf[i], std::byte{pattern(1, 3 * kPage + i)}) << i;
        ASSERT_EQ(buf[kPage + i], std::byte{pattern(2, i)}) << i;
    }
}

TEST_F(GuestPhysTest, WriteSpansSlotsAndTheClientSeesIt) {
    std::vector<std::byte> data(kPage + 100, std::byte{0xcd});
    ASSERT_EQ(write_guest(*memory_, slots_, 4 * kPage - 50, data), 0);
    EXPECT_EQ(child_.peek(low_ + 4 * kPage - 50), 0xcd);
    EXPECT_EQ(child_.peek(low_ + 4 * kPage - 1), 0xcd);
    EXPECT_EQ(child_.peek(high_), 0xcd);
    EXPECT_EQ(child_.peek(high_ + kPage + 49), 0xcd);
    EXPECT_EQ(child_.peek(high_ + kPage + 50), pattern(2, kPage + 50));
    EXPECT_EQ(child_.check(low_, 4 * kPage - 50, 1), 0u);
}

TEST_F(GuestPhysTest, NoSlotOrReadOnlyIsEfault) {
    std::vector<std::byte> buf(16);
    EXPECT_EQ(read_guest(*memory_, slots_, 8 * kPage - 8, buf), EFAULT);  // runs past slot 1
    EXPECT_EQ(read_guest(*memory_, slots_, 100 * kPage, buf), EFAULT);
    ASSERT_EQ(read_guest(*memory_, slots_, 256 * kPage, buf), 0);
    EXPECT_EQ(buf[0], std::byte{pattern(3, 0)});
    EXPECT_EQ(write_guest(*memory_, slots_, 256 * kPage, buf), EFAULT);
    EXPECT_EQ(child_.check(rom_, kPage, 3), 0u);
    // A failed slot check moves nothing, not even the part before the hole.
    std::vector<std::byte> data(16, std::byte{0x77});
    EXPECT_EQ(write_guest(*memory_, slots_, 8 * kPage - 8, data), EFAULT);
    EXPECT_EQ(child_.check(high_, 4 * kPage, 2), 0u);
}

TEST_F(GuestPhysTest, ClientUnmappedMemoryBehindASlot) {
    child_.unmap(high_, 4 * kPage);
    std::vector<std::byte> buf(8);
    EXPECT_EQ(read_guest(*memory_, slots_, 5 * kPage, buf), EFAULT);
    EXPECT_EQ(write_guest(*memory_, slots_, 5 * kPage, buf), EFAULT);
    EXPECT_EQ(read_guest(*memory_, slots_, 0, buf), 0);
}

}  // namespace
}  // namespace kvmemu::guestmem
