// ProcessMemory and ClientProcess against a real child: reads, writes seen by the child, batches
// beyond IOV_MAX, short transfers at holes, EFAULT after munmap, ESRCH after exit and pid reuse.
#include "guestmem/process_memory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "tests/guestmem/test_child.hpp"

namespace kvmemu::guestmem {
namespace {

using test::MapKind;
using test::pattern;
using test::TestChild;

constexpr std::size_t kPage = 4096;

ProcessMemory open_memory(pid_t pid) {
    auto p = ClientProcess::open(pid);
    if (!p) throw std::runtime_error("ClientProcess::open failed");
    return ProcessMemory(std::move(*p));
}

std::vector<std::byte> expected_bytes(std::size_t len, std::uint64_t seed, std::size_t from = 0) {
    std::vector<std::byte> v(len);
    for (std::size_t i = 0; i < len; ++i) v[i] = std::byte{pattern(seed, from + i)};
    return v;
}

TEST(ClientProcess, OpenRejectsMissingProcess) {
    auto p = ClientProcess::open(0);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), ESRCH);
    auto q = ClientProcess::open(INT_MAX - 7);  // above pid_max
    ASSERT_FALSE(q);
    EXPECT_EQ(q.error(), ESRCH);
}

TEST(ClientProcess, AdoptChecksThePid) {
    TestChild child;
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0U)));
    ASSERT_TRUE(fd);
    UniqueFd other(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    auto wrong = ClientProcess::adopt(std::move(other), ::getpid());
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), EINVAL);
    auto right = ClientProcess::adopt(std::move(fd), child.pid());
    ASSERT_TRUE(right);
    EXPECT_EQ(right->pid(), child.pid());
    auto copy = right->dup();
    ASSERT_TRUE(copy);
    EXPECT_NE(copy->pidfd(), right->pidfd());
    EXPECT_FALSE(copy->exited());
    child.exit();
    EXPECT_TRUE(copy->exited());
    EXPECT_TRUE(right->exited());
    auto proc = right->open_proc_dir();
    ASSERT_FALSE(proc);
    EXPECT_EQ(proc.error(), ESRCH);
}

TEST(ProcessMemory, ReadsWhatTheChildWrote) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, 16 * kPage);
    ASSERT_NE(a, 0u);
    child.fill(a, 16 * kPage, 3);
    const ProcessMemory mem = open_memory(child.pid());
    std::vector<std::byte> buf(16 * kPage);
    ASSERT_EQ(mem.read(a, buf), 0);
    EXPECT_EQ(buf, expected_bytes(buf.size(), 3));
    // Unaligned, page-crossing piece.
    std::vector<std::byte> piece(5000);
    ASSERT_EQ(mem.read(a + 3000, piece), 0);
    EXPECT_EQ(piece, expected_bytes(piece.size(), 3, 3000));
}

TEST(ProcessMemory, WritesAreSeenByTheChild) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, 8 * kPage);
    ASSERT_NE(a, 0u);
    const ProcessMemory mem = open_memory(child.pid());
    const auto data = expected_bytes(8 * kPage, 9);
    ASSERT_EQ(mem.write(a, data), 0);
    EXPECT_EQ(child.check(a, 8 * kPage, 9), 0u);
    // A partial overwrite changes exactly those bytes.
    const std::byte one[1] = {std::byte{0xee}};
    ASSERT_EQ(mem.write(a + 4097, one), 0);
    EXPECT_EQ(child.peek(a + 4097), 0xee);
    EXPECT_EQ(child.check(a, 8 * kPage, 9), 1u);
}

TEST(ProcessMemory, BatchesBeyondIovMax) {
    TestChild child;
    const std::size_t len = 64 * kPage;
    const std::uint64_t a = child.map(MapKind::Small, len);
    ASSERT_NE(a, 0u);
    child.fill(a, len, 5);
    const ProcessMemory mem = open_memory(child.pid());
    // 3 * IOV_MAX remote pieces of varying sizes into 7 local buffers.
    std::vector<iovec> remote;
    std::size_t off = 0;
    for (int i = 0; off < len; ++i) {
        const std::size_t n = std::min<std::size_t>(len - off, 1 + (i * 37) % 160);
        remote.push_back({reinterpret_cast<void*>(a + off), n});
        off += n;
    }
    ASSERT_GT(remote.size(), 2u * IOV_MAX);
    std::vector<std::byte> buf(len);
    std::vector<iovec> local;
    for (std::size_t i = 0; i < 7; ++i) {
        const std::size_t b = i * len / 7;
        const std::size_t e = (i + 1) * len / 7;
        local.push_back({buf.data() + b, e - b});
    }
    const IoResult r = mem.read_batch(local, remote);
    EXPECT_EQ(r.error, 0);
    EXPECT_EQ(r.bytes, len);
    EXPECT_EQ(buf, expected_bytes(len, 5));
    // Writing the same layout back with another pattern.
    const auto data = expected_bytes(len, 6);
    std::copy(data.begin(), data.end(), buf.begin());
    const IoResult w = mem.write_batch(local, remote);
    EXPECT_EQ(w.error, 0);
    EXPECT_EQ(child.check(a, len, 6), 0u);
    // Unequal totals are refused.
    remote.pop_back();
    EXPECT_EQ(mem.read_batch(local, remote).error, EINVAL);
}

TEST(ProcessMemory, ShortTransferStopsAtAHole) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, 3 * kPage);
    ASSERT_NE(a, 0u);
    child.fill(a, kPage, 1);
    child.fill(a + 2 * kPage, kPage, 4);
    child.unmap(a + kPage, kPage);
    const ProcessMemory mem = open_memory(child.pid());
    std::vector<std::byte> buf(3 * kPage);
    const iovec l{buf.data(), buf.size()};
    const iovec r{reinterpret_cast<void*>(a), buf.size()};
    const IoResult rd = mem.read_batch({&l, 1}, {&r, 1});
    EXPECT_EQ(rd.error, EFAULT);
    EXPECT_EQ(rd.bytes, kPage);
    EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + kPage), expected_bytes(kPage, 1));
    const auto data = expected_bytes(3 * kPage, 2);
    std::copy(data.begin(), data.end(), buf.begin());
    const IoResult wr = mem.write_batch({&l, 1}, {&r, 1});
    EXPECT_EQ(wr.error, EFAULT);
    EXPECT_EQ(wr.bytes, kPage);
    EXPECT_EQ(child.check(a, kPage, 2), 0u);              // first page written
    EXPECT_EQ(child.check(a + 2 * kPage, kPage, 4), 0u);  // page after the hole untouched
    // Starting inside the hole fails at once.
    std::byte b[8];
    EXPECT_EQ(mem.read(a + kPage + 8, b), EFAULT);
}

TEST(ProcessMemory, EfaultAfterTheClientUnmaps) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, 4 * kPage);
    ASSERT_NE(a, 0u);
    const ProcessMemory mem = open_memory(child.pid());
    std::vector<std::byte> buf(4 * kPage);
    ASSERT_EQ(mem.read(a, buf), 0);
    child.unmap(a, 4 * kPage);
    EXPECT_EQ(mem.read(a, buf), EFAULT);
    EXPECT_EQ(mem.write(a, buf), EFAULT);
}

TEST(ProcessMemory, WriteToReadOnlyMappingIsEfault) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, kPage);
    ASSERT_NE(a, 0u);
    // The child cannot mprotect on command; read-only memory of the child: its own code page.
    const ProcessMemory mem = open_memory(child.pid());
    const auto code = reinterpret_cast<std::uint64_t>(&open_memory) & ~std::uint64_t{kPage - 1};
    std::byte b[16];
    ASSERT_EQ(mem.read(code, b), 0);
    EXPECT_EQ(mem.write(code, b), EFAULT);
}

TEST(ProcessMemory, EsrchOnceTheClientExited) {
    TestChild child;
    const std::uint64_t a = child.map(MapKind::Small, kPage);
    ASSERT_NE(a, 0u);
    const ProcessMemory mem = open_memory(child.pid());
    std::byte b[64];
    ASSERT_EQ(mem.read(a, b), 0);
    EXPECT_FALSE(mem.process().exited());
    child.exit(/*reap=*/false);  // zombie: the pid still names it
    EXPECT_TRUE(mem.process().exited());
    EXPECT_EQ(mem.read(a, b), ESRCH);
    EXPECT_EQ(mem.write(a, b), ESRCH);
    child.reap();  // now the pid is free for anyone
    EXPECT_EQ(mem.read(a, b), ESRCH);
    EXPECT_EQ(mem.write(a, b), ESRCH);
    const iovec l{b, sizeof b};
    const iovec r{reinterpret_cast<void*>(a), sizeof b};
    EXPECT_EQ(mem.read_batch({&l, 1}, {&r, 1}).error, ESRCH);
}

// A new process with the old client's pid (forced through ns_last_pid) and the same memory
// layout (both children inherit this process's mappings) is never read nor written.
TEST(ProcessMemory, ReusedPidIsNotTheClient) {
    const std::size_t len = kPage;
    void* shared = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(shared, MAP_FAILED);
    const auto a = reinterpret_cast<std::uint64_t>(shared);
    std::memset(shared, 0x11, len);

    auto first = std::make_unique<TestChild>();
    const pid_t pid = first->pid();
    const ProcessMemory mem = open_memory(pid);
    std::byte b[16];
    ASSERT_EQ(mem.read(a, b), 0);
    EXPECT_EQ(b[0], std::byte{0x11});
    first->exit();  // reaped: pid free
    first.reset();

    std::unique_ptr<TestChild> second;
    for (int attempt = 0; attempt < 50 && !second; ++attempt) {
        {
            std::ofstream last("/proc/sys/kernel/ns_last_pid");
            last << (pid - 1);
            if (!last.flush()) break;
        }
        auto c = std::make_unique<TestChild>();
        if (c->pid() == pid) second = std::move(c);
    }
    ::munmap(shared, len);
    if (!second) GTEST_SKIP() << "could not get pid " << pid << " again via ns_last_pid";
    EXPECT_EQ(second->peek(a), 0x11);  // same layout and contents: a read would "succeed"
    EXPECT_EQ(mem.read(a, b), ESRCH);
    const std::byte poison[1] = {std::byte{0x99}};
    EXPECT_EQ(mem.write(a, poison), ESRCH);
    EXPECT_EQ(second->peek(a), 0x11);
}

}  // namespace
}  // namespace kvmemu::guestmem
