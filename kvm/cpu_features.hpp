// What a CPUID table (KVM_SET_CPUID2's, or KVM_GET_SUPPORTED_CPUID's) says about the features
// KVM checks register writes against: the CR4 bits it reserves (__cr4_reserved_bits()) and the
// guest's physical address width (cpuid_query_maxphyaddr()).
#pragma once

#include <cstdint>
#include <span>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

// CR4 bits a vCPU with these CPUID features may not set: the bits KVM never allows plus each
// feature-gated bit (UMIP, LA57, VMXE, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP, PKE) whose feature
// the table lacks.
std::uint64_t cr4_reserved_bits(std::span<const uapi::kvm_cpuid_entry2> cpuid);

// CPUID.0x80000008:EAX[7:0], or 36 when the table has no such leaf (KVM's default).
unsigned max_phys_addr_bits(std::span<const uapi::kvm_cpuid_entry2> cpuid);

// CPUID.1:ECX.x2APIC.
bool has_x2apic(std::span<const uapi::kvm_cpuid_entry2> cpuid);

}  // namespace kvmemu::kvm
