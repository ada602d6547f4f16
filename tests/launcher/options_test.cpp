// kvmemu-run's command line and its trapped-request list.
#include <gtest/gtest.h>

#include <algorithm>

#include "launcher/options.hpp"
#include "launcher/trapped_requests.hpp"
#include "supervisor/handshake_protocol.hpp"

namespace kvmemu::launcher {
namespace {

ParsedOptions parse(std::vector<const char*> args) {
    args.insert(args.begin(), "kvmemu-run");
    return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(LauncherOptions, AllOptionsThenProgramAfterDoubleDash) {
    const auto p = parse({"--device", "/dev/kvmemu", "--socket=/tmp/s.sock", "--verbose", "--",
                          "qemu", "-m", "1G", "--device", "x"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.options.device, "/dev/kvmemu");
    EXPECT_EQ(p.options.socket, "/tmp/s.sock");
    EXPECT_TRUE(p.options.verbose);
    EXPECT_EQ(p.options.command, (std::vector<std::string>{"qemu", "-m", "1G", "--device", "x"}));
}

TEST(LauncherOptions, DefaultsAndProgramWithoutDoubleDash) {
    const auto p = parse({"prog", "--verbose"});
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.options.device, "");
    EXPECT_EQ(p.options.socket, supervisor::handshake::kDefaultSocketPath);
    EXPECT_FALSE(p.options.verbose);  // PROGRAM's option, not ours
    EXPECT_EQ(p.options.command, (std::vector<std::string>{"prog", "--verbose"}));
}

TEST(LauncherOptions, Errors) {
    EXPECT_EQ(parse({"--"}).error, "no PROGRAM given");
    EXPECT_NE(parse({"--bogus", "--", "prog"}).error, "");
    EXPECT_NE(parse({"--device"}).error, "");
    EXPECT_EQ(parse({"--help"}).error, "");
    EXPECT_TRUE(parse({"--help"}).options.help);
    EXPECT_NE(usage_text().find("NO_NEW_PRIVS"), std::string::npos);
}

bool served(std::uint32_t req) {
    return std::find(kServedRequests.begin(), kServedRequests.end(), req) !=
           kServedRequests.end();
}

TEST(LauncherTrappedRequests, FdCreatorsAndVcpuRequestsOnly) {
    for (auto req :
         {uapi::CREATE_VM,       uapi::CREATE_VCPU, uapi::GET_STATS_FD, uapi::RUN,
          uapi::GET_REGS,        uapi::SET_REGS,    uapi::GET_SREGS,    uapi::SET_SREGS,
          uapi::INTERRUPT,       uapi::GET_MSRS,    uapi::SET_MSRS,     uapi::GET_FPU,
          uapi::SET_FPU,         uapi::SET_CPUID2,  uapi::GET_CPUID2,   uapi::GET_MP_STATE,
          uapi::SET_MP_STATE,    uapi::GET_XSAVE,   uapi::SET_XSAVE,    uapi::GET_XCRS,
          uapi::SET_XCRS,        uapi::ENABLE_CAP,  uapi::GET_TSC_KHZ,  uapi::SET_TSC_KHZ,
          uapi::PRE_FAULT_MEMORY}) {
        EXPECT_TRUE(served(req)) << std::hex << req;
    }
    // System and VM requests are CUSE's (the supervisor lets them through); the daemon's private
    // requests are of another type, which the filter does not trap at all.
    for (auto req :
         {uapi::GET_API_VERSION, uapi::CHECK_EXTENSION, uapi::GET_VCPU_MMAP_SIZE,
          uapi::GET_SUPPORTED_CPUID, uapi::GET_MSR_INDEX_LIST, uapi::SET_USER_MEMORY_REGION,
          uapi::SET_USER_MEMORY_REGION2, uapi::CREATE_IRQCHIP, uapi::SET_TSS_ADDR,
          uapi::KVMEMU_BIND_VM, uapi::KVMEMU_IDENTIFY_VM}) {
        EXPECT_FALSE(served(req)) << std::hex << req;
    }
    EXPECT_EQ(kTrappedIoctlType, 0xae);
    EXPECT_NE(uapi::ioc_type(uapi::KVMEMU_BIND_VM), kTrappedIoctlType);
    EXPECT_NE(uapi::ioc_type(uapi::KVMEMU_IDENTIFY_VM), kTrappedIoctlType);
}

}  // namespace
}  // namespace kvmemu::launcher
