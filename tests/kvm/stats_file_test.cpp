// The VM stats fd: header layout, descriptor names and flags as real KVM, live values, sealing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "kvm/stats_file.hpp"
#include "kvm/vcpu_stats.hpp"
#include "uapi/structs.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::StatsFile;
using kvmemu::kvm::VmStatsData;

namespace {

TEST(StatsFile, LayoutMatchesRealKvm) {
    auto sf = StatsFile::create_vm("kvm-4242");
    ASSERT_TRUE(sf);
    auto fd = sf->open_reader();
    ASSERT_TRUE(fd);
    u::kvm_stats_header h{};
    ASSERT_EQ(::pread(fd->get(), &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
    // Oracle: flags 0, name_size 48, num_desc 16, id_offset 24, desc_offset 72, data_offset 1096.
    EXPECT_EQ(h.flags, 0U);
    EXPECT_EQ(h.name_size, 48U);
    EXPECT_EQ(h.num_desc, 16U);
    EXPECT_EQ(h.id_offset, 24U);
    EXPECT_EQ(h.desc_offset, 72U);
    EXPECT_EQ(h.data_offset, 1096U);
    char id[48] = {};
    ASSERT_EQ(::pread(fd->get(), id, sizeof id, h.id_offset), 48);
    EXPECT_STREQ(id, "kvm-4242");

    // Descriptor 12 is nx_lpage_splits: instant, one u64 at data offset 96.
    unsigned char d[64];
    ASSERT_EQ(::pread(fd->get(), d, sizeof d, h.desc_offset + 12 * 64), 64);
    u::kvm_stats_desc desc{};
    std::memcpy(&desc, d, sizeof desc);
    EXPECT_STREQ(reinterpret_cast<char*>(d + 16), "nx_lpage_splits");
    EXPECT_EQ(desc.flags, 1U);
    EXPECT_EQ(desc.size, 1);
    EXPECT_EQ(desc.offset, 96U);
    ASSERT_EQ(::pread(fd->get(), d, sizeof d, h.desc_offset + 13 * 64), 64);
    EXPECT_STREQ(reinterpret_cast<char*>(d + 16), "max_mmu_rmap_size");
}

TEST(StatsFile, PublishedValuesAreVisibleToOpenReaders) {
    auto sf = StatsFile::create_vm("kvm-1");
    ASSERT_TRUE(sf);
    auto fd = sf->open_reader();
    ASSERT_TRUE(fd);
    VmStatsData v;
    v.pages_2m = 3;
    v.nx_lpage_splits = 2;
    sf->publish_obj(v);
    std::uint64_t got = 0;
    ASSERT_EQ(::pread(fd->get(), &got, 8, 1096 + 80), 8);
    EXPECT_EQ(got, 3U);
    ASSERT_EQ(::pread(fd->get(), &got, 8, 1096 + 96), 8);
    EXPECT_EQ(got, 2U);
}

TEST(StatsFile, ReadersCannotModifyIt) {
    auto sf = StatsFile::create_vm("kvm-1");
    ASSERT_TRUE(sf);
    auto fd = sf->open_reader();
    ASSERT_TRUE(fd);
    EXPECT_EQ(::fcntl(fd->get(), F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_EQ(::ftruncate(fd->get(), 0), -1);
    const int seals = ::fcntl(fd->get(), F_GET_SEALS);
    EXPECT_NE(seals & F_SEAL_SHRINK, 0);
    EXPECT_NE(seals & F_SEAL_GROW, 0);
    EXPECT_NE(seals & F_SEAL_FUTURE_WRITE, 0);
    // Two readers have independent offsets, as two stats fds do.
    auto fd2 = sf->open_reader();
    char b[8];
    ASSERT_EQ(::read(fd->get(), b, 8), 8);
    EXPECT_EQ(::lseek(fd2->get(), 0, SEEK_CUR), 0);
}

}  // namespace

TEST(StatsFile, VcpuLayoutMatchesRealKvm) {
    auto sf = StatsFile::create("kvm-7/vcpu-0", kvmemu::kvm::kVcpuStatDescriptors,
                                kvmemu::kvm::kVcpuStatsDataSize);
    ASSERT_TRUE(sf);
    auto fd = sf->open_reader();
    ASSERT_TRUE(fd);
    u::kvm_stats_header h{};
    ASSERT_EQ(::pread(fd->get(), &h, sizeof h, 0), static_cast<ssize_t>(sizeof h));
    // Oracle: 47 descriptors, data at 3080, id "kvm-<pid>/vcpu-<id>".
    EXPECT_EQ(h.num_desc, 47U);
    EXPECT_EQ(h.data_offset, 3080U);
    unsigned char d[64];
    ASSERT_EQ(::pread(fd->get(), d, sizeof d, h.desc_offset + 7 * 64), 64);
    u::kvm_stats_desc desc{};
    std::memcpy(&desc, d, sizeof desc);
    EXPECT_STREQ(reinterpret_cast<char*>(d + 16), "halt_poll_success_hist");
    EXPECT_EQ(desc.flags, 0x24U);
    EXPECT_EQ(desc.exponent, -9);
    EXPECT_EQ(desc.size, 32);
    EXPECT_EQ(desc.offset, 56U);
}
