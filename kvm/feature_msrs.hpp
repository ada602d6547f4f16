// Feature MSRs: what the emulated CPU offers, read on the system fd (KVM_GET_MSR_FEATURE_INDEX_LIST
// and KVM_GET_MSRS there, KVM_CAP_GET_MSR_FEATURES), as msr_based_features in arch/x86/kvm/x86.c.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace kvmemu::kvm {

// The feature MSRs, in the order real KVM lists them.
std::span<const std::uint32_t> feature_msr_list();
// The value of feature MSR `index`; nothing for an MSR that is not one (the kernel's VMX backend
// then stops the KVM_GET_MSRS batch there).
std::optional<std::uint64_t> feature_msr(std::uint32_t index);

}  // namespace kvmemu::kvm
