/* The kernel header's ioctl numbers and header sizes as C computes them (C++ sizes structs with
 * flexible array members differently), exported for uapi_test.cpp. */
#include <linux/kvm.h>

#include "kernel_values.h"

const struct kernel_values kernel_values = {
    .get_msr_index_list = KVM_GET_MSR_INDEX_LIST,
    .get_supported_cpuid = KVM_GET_SUPPORTED_CPUID,
    .get_emulated_cpuid = KVM_GET_EMULATED_CPUID,
    .get_msr_feature_index_list = KVM_GET_MSR_FEATURE_INDEX_LIST,
    .get_msrs = KVM_GET_MSRS,
    .set_msrs = KVM_SET_MSRS,
    .set_cpuid2 = KVM_SET_CPUID2,
    .get_cpuid2 = KVM_GET_CPUID2,
    .get_xsave = KVM_GET_XSAVE,
    .set_xsave = KVM_SET_XSAVE,
    .sizeof_kvm_msrs = sizeof(struct kvm_msrs),
    .sizeof_kvm_msr_list = sizeof(struct kvm_msr_list),
    .sizeof_kvm_cpuid2 = sizeof(struct kvm_cpuid2),
    .sizeof_kvm_xsave = sizeof(struct kvm_xsave),
    .sizeof_kvm_stats_desc = sizeof(struct kvm_stats_desc),
};
