// KVM_CAP_* numbers (mainline numbering) and the project's dual numbering of
// KVM_CAP_VM_DISABLE_NX_HUGE_PAGES. Constant names drop the kernel's KVM_ prefix.
#pragma once

#include <cstdint>

namespace kvmemu::uapi {

inline constexpr std::uint32_t CAP_IRQCHIP = 0;
inline constexpr std::uint32_t CAP_HLT = 1;
inline constexpr std::uint32_t CAP_MMU_SHADOW_CACHE_CONTROL = 2;
inline constexpr std::uint32_t CAP_USER_MEMORY = 3;
inline constexpr std::uint32_t CAP_SET_TSS_ADDR = 4;
inline constexpr std::uint32_t CAP_EXT_CPUID = 7;
inline constexpr std::uint32_t CAP_NR_VCPUS = 9;
inline constexpr std::uint32_t CAP_NR_MEMSLOTS = 10;
inline constexpr std::uint32_t CAP_MP_STATE = 14;
inline constexpr std::uint32_t CAP_SYNC_MMU = 16;
inline constexpr std::uint32_t CAP_DESTROY_MEMORY_REGION_WORKS = 21;
inline constexpr std::uint32_t CAP_JOIN_MEMORY_REGIONS_WORKS = 30;
inline constexpr std::uint32_t CAP_INTERNAL_ERROR_DATA = 40;
inline constexpr std::uint32_t CAP_VCPU_EVENTS = 41;
inline constexpr std::uint32_t CAP_DEBUGREGS = 50;
inline constexpr std::uint32_t CAP_ENABLE_CAP = 54;
inline constexpr std::uint32_t CAP_XSAVE = 55;
inline constexpr std::uint32_t CAP_XCRS = 56;
inline constexpr std::uint32_t CAP_GET_TSC_KHZ = 61;
inline constexpr std::uint32_t CAP_MAX_VCPUS = 66;
inline constexpr std::uint32_t CAP_READONLY_MEM = 81;
inline constexpr std::uint32_t CAP_SYNC_REGS = 74;
inline constexpr std::uint32_t CAP_ENABLE_CAP_VM = 98;
inline constexpr std::uint32_t CAP_CHECK_EXTENSION_VM = 105;
inline constexpr std::uint32_t CAP_MAX_VCPU_ID = 128;
inline constexpr std::uint32_t CAP_IMMEDIATE_EXIT = 136;
inline constexpr std::uint32_t CAP_GET_MSR_FEATURES = 153;
inline constexpr std::uint32_t CAP_BINARY_STATS_FD = 203;
inline constexpr std::uint32_t CAP_XSAVE2 = 208;
inline constexpr std::uint32_t CAP_ARM_SYSTEM_SUSPEND = 216;  // mainline meaning of 216 (arm64)
inline constexpr std::uint32_t CAP_VM_DISABLE_NX_HUGE_PAGES = 220;
inline constexpr std::uint32_t CAP_USER_MEMORY2 = 231;
inline constexpr std::uint32_t CAP_GUEST_MEMFD = 234;
inline constexpr std::uint32_t CAP_PRE_FAULT_MEMORY = 236;

// The number the original NX-huge-page patch gave the capability; x86 mainline has nothing at 216.
inline constexpr std::uint32_t CAP_VM_DISABLE_NX_HUGE_PAGES_SEED = 216;

// Limits real x86-64 KVM reports (observed on the oracle, Linux 6.18).
inline constexpr std::uint32_t USER_MEM_SLOTS = 32764;
inline constexpr std::uint32_t MAX_VCPUS = 1024;
inline constexpr std::uint32_t MAX_VCPU_IDS = 4096;
inline constexpr std::uint32_t ADDRESS_SPACE_NUM = 1;

}  // namespace kvmemu::uapi
