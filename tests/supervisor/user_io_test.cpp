// UserIo of a trapped call: the caller's memory is read and written, bad ranges give EFAULT.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "tests/supervisor/child_process.hpp"
#include "tests/supervisor/fake_backend.hpp"
#include "tests/supervisor/server_harness.hpp"

namespace kvmemu::testing {
namespace {

using supervisor::Reply;
using supervisor::TargetFd;
using supervisor::TrappedIoctl;

Reply status(int e) {
    return e == 0 ? Reply::val(0) : Reply::err(e);
}

TEST(SupervisorUserIo, ReadsAndWritesTheCallersMemoryAndFaultsOnBadRanges) {
    FakeBackend backend;
    std::string read_back;
    std::vector<int> codes;
    std::mutex m;
    auto record = [&](int e) {
        std::lock_guard l(m);
        codes.push_back(e);
        return status(e);
    };
    backend.on(uapi::SET_REGS, [&](const TrappedIoctl& c, TargetFd&, UserIo& mem) {
        std::array<std::byte, 64> buf{};
        const int e = mem.read(c.arg, buf);
        std::lock_guard l(m);
        read_back.assign(reinterpret_cast<const char*>(buf.data()));
        return status(e);
    });
    backend.on(uapi::GET_REGS, [&](const TrappedIoctl& c, TargetFd&, UserIo& mem) {
        const char text[] = "written-by-supervisor";
        return record(mem.write(c.arg, std::as_bytes(std::span(text))));
    });
    backend.on(uapi::GET_SREGS, [&](const TrappedIoctl& c, TargetFd&, UserIo& mem) {
        return record(mem.read_obj<std::uint64_t>(c.arg).has_value() ? 0 : EFAULT);
    });
    backend.on(uapi::GET_FPU, [&](const TrappedIoctl& c, TargetFd&, UserIo& mem) {
        return record(mem.write_obj<std::uint64_t>(c.arg, 0x4141414141414141ULL));
    });
    backend.on(uapi::GET_XCRS, [&](const TrappedIoctl& c, TargetFd&, UserIo& mem) {
        std::array<std::byte, 16> buf{};
        return record(mem.read(c.arg, buf));
    });
    ServerHarness h(backend);
    ASSERT_TRUE(h.ok());
    const auto r = run_child({traced_child_path(), h.socket(), "userio"});
    ASSERT_EQ(r.get("setup"), "ok") << r.out;

    EXPECT_EQ(r.num("set_ret"), 0);
    EXPECT_EQ(r.num("get_ret"), 0);
    EXPECT_EQ(r.get("buf"), "written-by-supervisor");
    EXPECT_EQ(r.num("badptr_errno"), EFAULT);
    EXPECT_EQ(r.num("readonly_errno"), EFAULT);  // write to a read-only page: refused
    EXPECT_EQ(r.num("readonly_byte"), 0);        // and nothing was written
    EXPECT_EQ(r.num("straddle_errno"), EFAULT);  // partly mapped range: refused as a whole
    std::lock_guard l(m);                        // the handlers ran on supervisor threads
    EXPECT_EQ(read_back, "hello-from-the-traced-child");
    EXPECT_EQ(codes, (std::vector<int>{0, EFAULT, EFAULT, EFAULT}));
}

}  // namespace
}  // namespace kvmemu::testing
