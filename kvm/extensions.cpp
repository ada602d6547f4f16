// KVM_CHECK_EXTENSION table. Values and limits are those real x86-64 KVM reports (oracle,
// Linux 6.18) for the features kvmemu implements; everything else answers 0.
#include "kvm/extensions.hpp"

#include <unistd.h>

#include <algorithm>

#include "uapi/caps.hpp"
#include "uapi/kvm_run.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

bool is_disable_nx_cap(std::uint64_t cap, const Config& config) {
    switch (config.cap_numbering) {
        case CapNumbering::Both:
            return cap == u::CAP_VM_DISABLE_NX_HUGE_PAGES || cap == u::CAP_VM_DISABLE_NX_HUGE_PAGES_SEED;
        case CapNumbering::Seed: return cap == u::CAP_VM_DISABLE_NX_HUGE_PAGES_SEED;
        case CapNumbering::Mainline: return cap == u::CAP_VM_DISABLE_NX_HUGE_PAGES;
    }
    return false;
}

long check_extension(std::uint64_t cap, Scope /*scope*/, const Config& config) {
    if (is_disable_nx_cap(cap, config)) return 1;
    switch (cap) {
        case u::CAP_USER_MEMORY:
        case u::CAP_SET_TSS_ADDR:
        case u::CAP_DESTROY_MEMORY_REGION_WORKS:
        case u::CAP_JOIN_MEMORY_REGIONS_WORKS:
        case u::CAP_EXT_CPUID:
        case u::CAP_MP_STATE:
        case u::CAP_READONLY_MEM:
        case u::CAP_ENABLE_CAP:
        case u::CAP_ENABLE_CAP_VM:
        case u::CAP_CHECK_EXTENSION_VM:
        case u::CAP_BINARY_STATS_FD:
        case u::CAP_USER_MEMORY2:
        case u::CAP_PRE_FAULT_MEMORY:  // the MMU models KVM's TDP MMU
        case u::CAP_IMMEDIATE_EXIT:    // KVM_RUN honours kvm_run.immediate_exit
        case u::CAP_GET_TSC_KHZ:
        case u::CAP_GET_MSR_FEATURES:  // KVM_GET_MSR_FEATURE_INDEX_LIST, KVM_GET_MSRS (system fd)
        case u::CAP_XSAVE:        // KVM_GET/SET_XSAVE (FP and SSE components)
        case u::CAP_VCPU_EVENTS:  // KVM_GET/SET_VCPU_EVENTS (kvm/vcpu_events.cpp)
        case u::CAP_DEBUGREGS:    // KVM_GET/SET_DEBUGREGS
        case u::CAP_MMU_SHADOW_CACHE_CONTROL:  // KVM_SET_NR_MMU_PAGES
            return 1;
        case u::CAP_SYNC_REGS: return static_cast<long>(u::SYNC_X86_VALID_FIELDS);
        case u::CAP_NR_VCPUS:
            // x86 answers min(online CPUs, KVM_MAX_VCPUS): the recommended vCPU count.
            return std::min<long>(::sysconf(_SC_NPROCESSORS_ONLN), u::MAX_VCPUS);
        case u::CAP_MAX_VCPUS: return u::MAX_VCPUS;
        case u::CAP_MAX_VCPU_ID: return u::MAX_VCPU_IDS;
        case u::CAP_NR_MEMSLOTS: return u::USER_MEM_SLOTS;
        default: return 0;
    }
}

}  // namespace kvmemu::kvm
