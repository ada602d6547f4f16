// Checks uapi/ against Debian's <linux/kvm.h> wherever both define the same name.
#include <gtest/gtest.h>

#include <cstddef>

#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"
#include "uapi/kvm_run.hpp"
#include "uapi/structs.hpp"
#include "tests/uapi/kernel_values.h"

// The system header comes last: its macros must not reach our headers.
#include <linux/kvm.h>

namespace u = kvmemu::uapi;

#define EXPECT_SAME_LAYOUT(T)                   \
    static_assert(sizeof(u::T) == sizeof(::T)); \
    static_assert(alignof(u::T) == alignof(::T))
#define EXPECT_SAME_OFFSET(T, field) static_assert(offsetof(u::T, field) == offsetof(::T, field))

EXPECT_SAME_LAYOUT(kvm_regs);
EXPECT_SAME_LAYOUT(kvm_segment);
EXPECT_SAME_LAYOUT(kvm_dtable);
EXPECT_SAME_LAYOUT(kvm_sregs);
EXPECT_SAME_LAYOUT(kvm_fpu);
EXPECT_SAME_LAYOUT(kvm_msr_entry);
EXPECT_SAME_LAYOUT(kvm_cpuid_entry2);
EXPECT_SAME_LAYOUT(kvm_userspace_memory_region);
EXPECT_SAME_LAYOUT(kvm_enable_cap);
EXPECT_SAME_LAYOUT(kvm_mp_state);
EXPECT_SAME_LAYOUT(kvm_lapic_state);
EXPECT_SAME_LAYOUT(kvm_interrupt);
EXPECT_SAME_LAYOUT(kvm_xcrs);
EXPECT_SAME_LAYOUT(kvm_stats_header);
EXPECT_SAME_LAYOUT(kvm_run);

EXPECT_SAME_OFFSET(kvm_sregs, gdt);
EXPECT_SAME_OFFSET(kvm_sregs, cr0);
EXPECT_SAME_OFFSET(kvm_sregs, efer);
EXPECT_SAME_OFFSET(kvm_sregs, interrupt_bitmap);
EXPECT_SAME_OFFSET(kvm_fpu, xmm);
EXPECT_SAME_OFFSET(kvm_fpu, mxcsr);
EXPECT_SAME_OFFSET(kvm_run, exit_reason);
EXPECT_SAME_OFFSET(kvm_run, io);
EXPECT_SAME_OFFSET(kvm_run, mmio);
EXPECT_SAME_OFFSET(kvm_run, internal);
EXPECT_SAME_OFFSET(kvm_run, kvm_valid_regs);
EXPECT_SAME_OFFSET(kvm_run, s);
EXPECT_SAME_OFFSET(kvm_stats_desc, bucket_size);
EXPECT_SAME_OFFSET(kvm_enable_cap, args);

TEST(Uapi, IoctlNumbersMatchKernelHeader) {
    EXPECT_EQ(u::GET_API_VERSION, KVM_GET_API_VERSION);
    EXPECT_EQ(u::CREATE_VM, KVM_CREATE_VM);
    EXPECT_EQ(u::CHECK_EXTENSION, KVM_CHECK_EXTENSION);
    EXPECT_EQ(u::GET_VCPU_MMAP_SIZE, KVM_GET_VCPU_MMAP_SIZE);
    EXPECT_EQ(u::CREATE_VCPU, KVM_CREATE_VCPU);
    EXPECT_EQ(u::SET_USER_MEMORY_REGION, KVM_SET_USER_MEMORY_REGION);
    EXPECT_EQ(u::SET_TSS_ADDR, KVM_SET_TSS_ADDR);
    EXPECT_EQ(u::SET_IDENTITY_MAP_ADDR, KVM_SET_IDENTITY_MAP_ADDR);
    EXPECT_EQ(u::CREATE_IRQCHIP, KVM_CREATE_IRQCHIP);
    EXPECT_EQ(u::SET_NR_MMU_PAGES, KVM_SET_NR_MMU_PAGES);
    EXPECT_EQ(u::GET_LAPIC, KVM_GET_LAPIC);
    EXPECT_EQ(u::SET_LAPIC, KVM_SET_LAPIC);
    EXPECT_EQ(u::SET_TSC_KHZ, KVM_SET_TSC_KHZ);
    EXPECT_EQ(u::GET_TSC_KHZ, KVM_GET_TSC_KHZ);
    EXPECT_EQ(u::ENABLE_CAP, KVM_ENABLE_CAP);
    EXPECT_EQ(u::GET_STATS_FD, KVM_GET_STATS_FD);
    EXPECT_EQ(u::RUN, KVM_RUN);
    EXPECT_EQ(u::GET_REGS, KVM_GET_REGS);
    EXPECT_EQ(u::SET_REGS, KVM_SET_REGS);
    EXPECT_EQ(u::GET_SREGS, KVM_GET_SREGS);
    EXPECT_EQ(u::SET_SREGS, KVM_SET_SREGS);
    EXPECT_EQ(u::INTERRUPT, KVM_INTERRUPT);
    EXPECT_EQ(u::GET_FPU, KVM_GET_FPU);
    EXPECT_EQ(u::SET_FPU, KVM_SET_FPU);
    EXPECT_EQ(u::GET_MP_STATE, KVM_GET_MP_STATE);
    EXPECT_EQ(u::SET_MP_STATE, KVM_SET_MP_STATE);
    EXPECT_EQ(u::GET_XCRS, KVM_GET_XCRS);
    EXPECT_EQ(u::SET_XCRS, KVM_SET_XCRS);
#ifdef KVM_SET_USER_MEMORY_REGION2
    EXPECT_EQ(u::SET_USER_MEMORY_REGION2, KVM_SET_USER_MEMORY_REGION2);
#endif
#ifdef KVM_PRE_FAULT_MEMORY
    EXPECT_EQ(u::PRE_FAULT_MEMORY, KVM_PRE_FAULT_MEMORY);
#endif
}

TEST(Uapi, CapabilityNumbersMatchKernelHeader) {
    EXPECT_EQ(u::CAP_IRQCHIP, KVM_CAP_IRQCHIP);
    EXPECT_EQ(u::CAP_HLT, KVM_CAP_HLT);
    EXPECT_EQ(u::CAP_USER_MEMORY, KVM_CAP_USER_MEMORY);
    EXPECT_EQ(u::CAP_SET_TSS_ADDR, KVM_CAP_SET_TSS_ADDR);
    EXPECT_EQ(u::CAP_EXT_CPUID, KVM_CAP_EXT_CPUID);
    EXPECT_EQ(u::CAP_NR_VCPUS, KVM_CAP_NR_VCPUS);
    EXPECT_EQ(u::CAP_NR_MEMSLOTS, KVM_CAP_NR_MEMSLOTS);
    EXPECT_EQ(u::CAP_MP_STATE, KVM_CAP_MP_STATE);
    EXPECT_EQ(u::CAP_SYNC_MMU, KVM_CAP_SYNC_MMU);
    EXPECT_EQ(u::CAP_DESTROY_MEMORY_REGION_WORKS, KVM_CAP_DESTROY_MEMORY_REGION_WORKS);
    EXPECT_EQ(u::CAP_JOIN_MEMORY_REGIONS_WORKS, KVM_CAP_JOIN_MEMORY_REGIONS_WORKS);
    EXPECT_EQ(u::CAP_INTERNAL_ERROR_DATA, KVM_CAP_INTERNAL_ERROR_DATA);
    EXPECT_EQ(u::CAP_ENABLE_CAP, KVM_CAP_ENABLE_CAP);
    EXPECT_EQ(u::CAP_XSAVE, KVM_CAP_XSAVE);
    EXPECT_EQ(u::CAP_XCRS, KVM_CAP_XCRS);
    EXPECT_EQ(u::CAP_GET_TSC_KHZ, KVM_CAP_GET_TSC_KHZ);
    EXPECT_EQ(u::CAP_MAX_VCPUS, KVM_CAP_MAX_VCPUS);
    EXPECT_EQ(u::CAP_READONLY_MEM, KVM_CAP_READONLY_MEM);
    EXPECT_EQ(u::CAP_ENABLE_CAP_VM, KVM_CAP_ENABLE_CAP_VM);
    EXPECT_EQ(u::CAP_CHECK_EXTENSION_VM, KVM_CAP_CHECK_EXTENSION_VM);
    EXPECT_EQ(u::CAP_MAX_VCPU_ID, KVM_CAP_MAX_VCPU_ID);
    EXPECT_EQ(u::CAP_MMU_SHADOW_CACHE_CONTROL, KVM_CAP_MMU_SHADOW_CACHE_CONTROL);
    EXPECT_EQ(u::CAP_IMMEDIATE_EXIT, KVM_CAP_IMMEDIATE_EXIT);
    EXPECT_EQ(u::CAP_BINARY_STATS_FD, KVM_CAP_BINARY_STATS_FD);
    EXPECT_EQ(u::CAP_XSAVE2, KVM_CAP_XSAVE2);
    EXPECT_EQ(u::CAP_ARM_SYSTEM_SUSPEND, KVM_CAP_ARM_SYSTEM_SUSPEND);
    EXPECT_EQ(u::CAP_VM_DISABLE_NX_HUGE_PAGES, KVM_CAP_VM_DISABLE_NX_HUGE_PAGES);
#ifdef KVM_CAP_USER_MEMORY2
    EXPECT_EQ(u::CAP_USER_MEMORY2, KVM_CAP_USER_MEMORY2);
#endif
#ifdef KVM_CAP_PRE_FAULT_MEMORY
    EXPECT_EQ(u::CAP_PRE_FAULT_MEMORY, KVM_CAP_PRE_FAULT_MEMORY);
#endif
}

TEST(Uapi, ExitReasonsAndFlagsMatchKernelHeader) {
    EXPECT_EQ(u::EXIT_IO, KVM_EXIT_IO);
    EXPECT_EQ(u::EXIT_HLT, KVM_EXIT_HLT);
    EXPECT_EQ(u::EXIT_MMIO, KVM_EXIT_MMIO);
    EXPECT_EQ(u::EXIT_SHUTDOWN, KVM_EXIT_SHUTDOWN);
    EXPECT_EQ(u::EXIT_INTR, KVM_EXIT_INTR);
    EXPECT_EQ(u::EXIT_INTERNAL_ERROR, KVM_EXIT_INTERNAL_ERROR);
    EXPECT_EQ(u::EXIT_IO_IN, KVM_EXIT_IO_IN);
    EXPECT_EQ(u::EXIT_IO_OUT, KVM_EXIT_IO_OUT);
    EXPECT_EQ(u::INTERNAL_ERROR_EMULATION, KVM_INTERNAL_ERROR_EMULATION);
    EXPECT_EQ(u::MEM_LOG_DIRTY_PAGES, KVM_MEM_LOG_DIRTY_PAGES);
    EXPECT_EQ(u::MEM_READONLY, KVM_MEM_READONLY);
    EXPECT_EQ(u::MP_STATE_RUNNABLE, KVM_MP_STATE_RUNNABLE);
    EXPECT_EQ(u::MP_STATE_HALTED, KVM_MP_STATE_HALTED);
    EXPECT_EQ(u::STATS_TYPE_INSTANT, KVM_STATS_TYPE_INSTANT);
    EXPECT_EQ(u::STATS_TYPE_PEAK, KVM_STATS_TYPE_PEAK);
    EXPECT_EQ(u::CPUID_FLAG_SIGNIFCANT_INDEX, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
    EXPECT_EQ(u::API_VERSION, KVM_API_VERSION);
    EXPECT_EQ(u::PIO_PAGE_OFFSET, KVM_PIO_PAGE_OFFSET);
    EXPECT_EQ(u::COALESCED_MMIO_PAGE_OFFSET, KVM_COALESCED_MMIO_PAGE_OFFSET);
}

TEST(Uapi, IocDecodingRoundTrips) {
    EXPECT_EQ(u::ioc_dir(u::GET_REGS), u::IOC_READ);
    EXPECT_EQ(u::ioc_size(u::GET_REGS), sizeof(u::kvm_regs));
    EXPECT_EQ(u::ioc_dir(u::ENABLE_CAP), u::IOC_WRITE);
    EXPECT_EQ(u::ioc_nr(u::ENABLE_CAP), 0xa3U);
    EXPECT_EQ(u::ioc_type(u::RUN), u::KVM_IO_TYPE);
    EXPECT_NE(u::ENABLE_CAP, u::GET_TSC_KHZ);
}

// Variable-length requests: compared with the numbers a C compiler derives from the kernel header.
TEST(Uapi, VariableLengthRequestsMatchKernelHeaderInC) {
    const auto& k = kernel_values;
    EXPECT_EQ(u::GET_MSR_INDEX_LIST, k.get_msr_index_list);
    EXPECT_EQ(u::GET_SUPPORTED_CPUID, k.get_supported_cpuid);
    EXPECT_EQ(u::GET_EMULATED_CPUID, k.get_emulated_cpuid);
    EXPECT_EQ(u::GET_MSR_FEATURE_INDEX_LIST, k.get_msr_feature_index_list);
    EXPECT_EQ(u::GET_MSRS, k.get_msrs);
    EXPECT_EQ(u::SET_MSRS, k.set_msrs);
    EXPECT_EQ(u::SET_CPUID2, k.set_cpuid2);
    EXPECT_EQ(u::GET_CPUID2, k.get_cpuid2);
    EXPECT_EQ(u::GET_XSAVE, k.get_xsave);
    EXPECT_EQ(u::SET_XSAVE, k.set_xsave);
    EXPECT_EQ(sizeof(u::kvm_msrs), k.sizeof_kvm_msrs);
    EXPECT_EQ(sizeof(u::kvm_msr_list), k.sizeof_kvm_msr_list);
    EXPECT_EQ(sizeof(u::kvm_cpuid2), k.sizeof_kvm_cpuid2);
    EXPECT_EQ(sizeof(u::kvm_xsave), k.sizeof_kvm_xsave);
    EXPECT_EQ(sizeof(u::kvm_stats_desc), k.sizeof_kvm_stats_desc);
}
