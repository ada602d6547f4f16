/* Values of <linux/kvm.h> computed by a C compiler; see kernel_values.c. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct kernel_values {
    unsigned long get_msr_index_list, get_supported_cpuid, get_emulated_cpuid,
        get_msr_feature_index_list, get_msrs, set_msrs, set_cpuid2, get_cpuid2, get_xsave,
        set_xsave;
    unsigned long sizeof_kvm_msrs, sizeof_kvm_msr_list, sizeof_kvm_cpuid2, sizeof_kvm_xsave,
        sizeof_kvm_stats_desc;
};
extern const struct kernel_values kernel_values;

#ifdef __cplusplus
}
#endif
