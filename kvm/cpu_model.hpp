// The CPU kvmemu emulates, as KVM_GET_SUPPORTED_CPUID describes it (the MSR list is the
// engine's: cpu::Engine::msr_list()).
#pragma once

#include <cstdint>
#include <span>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

// The CPUID leaves a guest may be given (KVM_GET_SUPPORTED_CPUID).
std::span<const uapi::kvm_cpuid_entry2> supported_cpuid();

}  // namespace kvmemu::kvm
