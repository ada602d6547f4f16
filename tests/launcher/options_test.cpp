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

bool trapped(std::uint32_t req) {
    return std::find(kTrappedRequests.begin(), kTrappedRequests.end(), req) !=
           kTrappedRequests.end();
}

TEST(LauncherTrappedRequests, FdCreatorsAndTheVcpuRequestsFuseCannotCarry) {
    for (auto req : {uapi::CREATE_VM, uapi::CREATE_VCPU, uapi::GET_STATS_FD, uapi::RUN,
                     uapi::GET_MSRS, uapi::SET_MSRS, uapi::SET_CPUID2, uapi::GET_CPUID2,
                     uapi::PRE_FAULT_MEMORY}) {
        EXPECT_TRUE(trapped(req)) << std::hex << req;
    }
    // System and VM requests go to CUSE, fixed-size vCPU requests to the vCPU fd (FUSE), and
    // the daemon's private requests are never trapped.
    for (auto req :
         {uapi::GET_API_VERSION, uapi::CHECK_EXTENSION, uapi::GET_VCPU_MMAP_SIZE,
          uapi::GET_SUPPORTED_CPUID, uapi::GET_MSR_INDEX_LIST, uapi::SET_USER_MEMORY_REGION,
          uapi::SET_USER_MEMORY_REGION2, uapi::CREATE_IRQCHIP, uapi::SET_TSS_ADDR,
          uapi::ENABLE_CAP, uapi::GET_REGS, uapi::SET_REGS, uapi::GET_SREGS, uapi::SET_SREGS,
          uapi::GET_MP_STATE, uapi::SET_MP_STATE, uapi::GET_XSAVE, uapi::GET_LAPIC,
          uapi::GET_TSC_KHZ, uapi::KVMEMU_BIND_VM, uapi::KVMEMU_IDENTIFY_VM}) {
        EXPECT_FALSE(trapped(req)) << std::hex << req;
    }
}

}  // namespace
}  // namespace kvmemu::launcher
