// CuseUserIo: the staged retry protocol of CUSE unrestricted ioctls, as the transport drives it.
#include <gtest/gtest.h>

#include <cstring>

#include "daemon/cuse_user_io.hpp"
#include "uapi/ioctls.hpp"

using kvmemu::kRetryWithBuffers;
using kvmemu::daemon::CuseUserIo;
using kvmemu::daemon::initial_plan;
using kvmemu::daemon::IoPlan;
using kvmemu::daemon::IoRegion;
namespace u = kvmemu::uapi;

namespace {

TEST(CuseUserIo, InitialPlanFollowsIocDirection) {
    const auto w = initial_plan(u::ENABLE_CAP, 0x1000);
    ASSERT_EQ(w.in.size(), 1U);
    EXPECT_EQ(w.in[0], (IoRegion{0x1000, sizeof(u::kvm_enable_cap)}));
    EXPECT_TRUE(w.out.empty());
    const auto r = initial_plan(u::GET_REGS, 0x2000);
    EXPECT_TRUE(r.in.empty());
    ASSERT_EQ(r.out.size(), 1U);
    const auto rw = initial_plan(u::GET_SUPPORTED_CPUID, 0x3000);
    EXPECT_EQ(rw.in.size(), 1U);
    EXPECT_EQ(rw.out.size(), 1U);
    EXPECT_TRUE(initial_plan(u::CHECK_EXTENSION, 220).in.empty());
}

TEST(CuseUserIo, AsksForWhatIsMissingThenServesIt) {
    CuseUserIo first(IoPlan{}, {});
    std::uint32_t v = 0;
    EXPECT_EQ(first.read(0x1000, std::as_writable_bytes(std::span(&v, 1))), kRetryWithBuffers);
    ASSERT_TRUE(first.needs_retry());
    ASSERT_EQ(first.retry_plan().in.size(), 1U);
    EXPECT_EQ(first.retry_plan().in[0], (IoRegion{0x1000, 4}));

    // The kernel delivers the in regions concatenated; a second region follows the first.
    IoPlan plan;
    plan.in = {{0x1000, 4}, {0x5000, 8}};
    plan.out = {{0x1000, 4}, {0x9000, 2}};
    const unsigned char in[12] = {1, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9};
    CuseUserIo second(plan, std::as_bytes(std::span(in)));
    EXPECT_EQ(second.read(0x1000, std::as_writable_bytes(std::span(&v, 1))), 0);
    EXPECT_EQ(v, 1U);
    std::uint64_t w = 0;
    EXPECT_EQ(second.read(0x5000, std::as_writable_bytes(std::span(&w, 1))), 0);
    EXPECT_EQ(w, 0x0909090909090909ULL);
    const std::uint16_t out = 0xbeef;
    EXPECT_EQ(second.write(0x9000, std::as_bytes(std::span(&out, 1))), 0);
    v = 7;
    EXPECT_EQ(second.write(0x1000, std::as_bytes(std::span(&v, 1))), 0);
    EXPECT_FALSE(second.needs_retry());
    // The reply carries the out regions in plan order.
    const auto buf = second.out_buffer();
    ASSERT_EQ(buf.size(), 6U);
    std::uint32_t first_out = 0;
    std::memcpy(&first_out, buf.data(), 4);
    EXPECT_EQ(first_out, 7U);
    EXPECT_EQ(static_cast<unsigned char>(buf[4]), 0xef);
}

TEST(CuseUserIo, WritesOutsideThePlanRequestARetryThatKeepsThePlan) {
    IoPlan plan;
    plan.in = {{0x1000, 8}};
    const unsigned char in[8] = {};
    CuseUserIo io(plan, std::as_bytes(std::span(in)));
    const std::uint32_t x = 1;
    EXPECT_EQ(io.write(0x2000, std::as_bytes(std::span(&x, 1))), kRetryWithBuffers);
    ASSERT_TRUE(io.needs_retry());
    ASSERT_EQ(io.retry_plan().in.size(), 2U);  // an out region is read in too
    EXPECT_EQ(io.retry_plan().in[1], (IoRegion{0x2000, 4}));
    ASSERT_EQ(io.retry_plan().out.size(), 1U);
    EXPECT_EQ(io.retry_plan().out[0], (IoRegion{0x2000, 4}));
}

TEST(CuseUserIo, BytesTheHandlerDoesNotWriteKeepTheCallersValues) {
    // KVM_GET_SUPPORTED_CPUID answering E2BIG writes nothing: nent must come back unchanged.
    IoPlan plan;
    plan.in = {{0x1000, 8}};
    plan.out = {{0x1000, 8}};
    const unsigned char in[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    CuseUserIo io(plan, std::as_bytes(std::span(in)));
    const auto buf = io.out_buffer();
    ASSERT_EQ(buf.size(), 8U);
    EXPECT_EQ(static_cast<unsigned char>(buf[0]), 1);
}

TEST(CuseUserIo, WrappingAddressesAreEfault) {
    CuseUserIo io(IoPlan{}, {});
    std::uint64_t v = 0;
    EXPECT_EQ(io.read(~0ULL - 2, std::as_writable_bytes(std::span(&v, 1))), EFAULT);
}

}  // namespace
