// The CPU kvmemu emulates, as KVM_GET_SUPPORTED_CPUID and KVM_GET_MSR_INDEX_LIST describe it.
#pragma once

#include <cstdint>
#include <span>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

// The CPUID leaves a guest may be given (KVM_GET_SUPPORTED_CPUID).
std::span<const uapi::kvm_cpuid_entry2> supported_cpuid();

// The MSRs a vCPU has (KVM_GET_MSR_INDEX_LIST, GET/SET_MSRS).
std::span<const std::uint32_t> msr_index_list();
bool is_known_msr(std::uint32_t index);

}  // namespace kvmemu::kvm
