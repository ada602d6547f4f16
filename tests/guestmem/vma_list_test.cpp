// VmaList parsing of smaps text (hugetlb, THP counters, names, malformed input) and the
// address search.
#include "guestmem/vma_list.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace kvmemu::guestmem {
namespace {

constexpr const char* kSmaps =
    "55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 1234                       /usr/bin/qemu\n"
    "Size:                132 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "AnonHugePages:         0 kB\n"
    "VmFlags: rd mr mw me dw sd\n"
    "7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n"
    "Size:            1048576 kB\n"
    "KernelPageSize:        4 kB\n"
    "AnonHugePages:    522240 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "VmFlags: rd wr mr mw me ac sd hg\n"
    "7f4000000000-7f4080000000 rw-s 00000000 00:10 99                         /anon_hugepage (deleted)\n"
    "Size:            2097152 kB\n"
    "KernelPageSize:  1048576 kB\n"
    "MMUPageSize:     1048576 kB\n"
    "VmFlags: rd wr sh mr mw me ms de ht sd\n"
    "7f5000000000-7f5000400000 rw-p 00000000 00:00 0                          [heap]\n"
    "KernelPageSize:     2048 kB\n"
    "VmFlags: rd wr mr mw me ht\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"
    "KernelPageSize:        4 kB\n";

TEST(VmaList, ParsesSmaps) {
    auto list = VmaList::parse(kSmaps);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->vmas().size(), 5u);
    const Vma& exe = list->vmas()[0];
    EXPECT_EQ(exe.start, 0x55d0c0a00000u);
    EXPECT_EQ(exe.end, 0x55d0c0a21000u);
    EXPECT_EQ(exe.kernel_page_size, 4096u);
    EXPECT_EQ(exe.name, "/usr/bin/qemu");
    EXPECT_FALSE(exe.hugetlb);
    const Vma& anon = list->vmas()[1];
    EXPECT_EQ(anon.name, "");
    EXPECT_EQ(anon.anon_huge_bytes, 522240u * 1024);
    const Vma& giant = list->vmas()[2];
    EXPECT_EQ(giant.kernel_page_size, std::uint64_t{1} << 30);
    EXPECT_TRUE(giant.hugetlb);
    EXPECT_EQ(giant.name, "/anon_hugepage (deleted)");
    EXPECT_EQ(list->vmas()[3].kernel_page_size, std::uint64_t{2} << 20);
    EXPECT_EQ(list->vmas()[3].name, "[heap]");
    EXPECT_EQ(list->vmas()[4].end, 0xffffffffff601000u);
}

TEST(VmaList, FindsByAddress) {
    auto list = VmaList::parse(kSmaps);
    ASSERT_TRUE(list);
    EXPECT_EQ(list->find(0x1000), nullptr);
    ASSERT_NE(list->find(0x55d0c0a00000), nullptr);
    EXPECT_EQ(list->find(0x55d0c0a20fff)->start, 0x55d0c0a00000u);
    EXPECT_EQ(list->find(0x55d0c0a21000), nullptr);  // end is exclusive
    EXPECT_EQ(list->find(0x7f4000000000 + 12345)->kernel_page_size, std::uint64_t{1} << 30);
    EXPECT_EQ(list->find(0x7f4080000000), nullptr);  // gap between areas
    EXPECT_EQ(list->find(0xffffffffff600800)->name, "[vsyscall]");
}

TEST(VmaList, SortsAndToleratesJunk) {
    auto list = VmaList::parse(
        "2000-3000 rw-p 0 00:00 0\n"
        "garbage line\n"
        "KernelPageSize: lots kB\n"
        "1000-2000 rw-p 0 00:00 0\n"
        "5000-4000 rw-p 0 00:00 0\n");  // inverted: ignored
    ASSERT_TRUE(list);
    ASSERT_EQ(list->vmas().size(), 2u);
    EXPECT_EQ(list->vmas()[0].start, 0x1000u);
    EXPECT_EQ(list->vmas()[1].kernel_page_size, 4096u);  // unparsable value keeps the default
    auto bad = VmaList::parse("nothing here\n");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), EINVAL);
    auto empty = VmaList::parse("");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->vmas().empty());
}

}  // namespace
}  // namespace kvmemu::guestmem
