// Feature MSR values of the emulated CPU (see feature_msrs.hpp).
#include "kvm/feature_msrs.hpp"

#include <array>

namespace kvmemu::kvm {

namespace {

constexpr std::uint32_t kUcodeRev = 0x8b;
constexpr std::uint32_t kArchCapabilities = 0x10a;
constexpr std::uint32_t kPerfCapabilities = 0x345;
constexpr std::uint32_t kPlatformInfo = 0xce;

constexpr std::array<std::uint32_t, 4> kList = {kUcodeRev, kArchCapabilities, kPerfCapabilities,
                                                kPlatformInfo};

// IA32_ARCH_CAPABILITIES: an interpreter does not speculate, so it is not affected by Meltdown
// (RDCL_NO), speculative store bypass (SSB_NO), MDS or TAA; no L1D flush is needed on entry
// (SKIP_VMENTRY_L1DFLUSH, which KVM sets for every guest); and, as KVM always reports,
// PSCHANGE_MC_NO: page-size changes cannot machine-check the guest (iTLB multihit is the host's
// business; it is what nx_huge_pages mitigates).
constexpr std::uint64_t kRdclNo = 1ULL << 0;
constexpr std::uint64_t kSkipVmentryL1dFlush = 1ULL << 3;
constexpr std::uint64_t kSsbNo = 1ULL << 4;
constexpr std::uint64_t kMdsNo = 1ULL << 5;
constexpr std::uint64_t kPschangeMcNo = 1ULL << 6;
constexpr std::uint64_t kTaaNo = 1ULL << 8;
constexpr std::uint64_t kArchCapabilitiesValue =
    kRdclNo | kSkipVmentryL1dFlush | kSsbNo | kMdsNo | kPschangeMcNo | kTaaNo;

}  // namespace

std::span<const std::uint32_t> feature_msr_list() { return kList; }

std::optional<std::uint64_t> feature_msr(std::uint32_t index) {
    switch (index) {
        case kUcodeRev: return 0x100000000ULL;  // KVM's default microcode revision for guests
        case kArchCapabilities: return kArchCapabilitiesValue;
        case kPerfCapabilities: return 0;  // no PMU
        case kPlatformInfo: return 0;      // no CPUID faulting (KVM would offer bit 31)
        default: return std::nullopt;
    }
}

}  // namespace kvmemu::kvm
