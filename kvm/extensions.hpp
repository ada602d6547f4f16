// KVM_CHECK_EXTENSION answers: 1 (or a limit) only for what kvmemu really implements.
#pragma once

#include <cstdint>

#include "kvm/config.hpp"

namespace kvmemu::kvm {

enum class Scope { System, Vm };

// True if `cap` names KVM_CAP_VM_DISABLE_NX_HUGE_PAGES under the configured numbering.
bool is_disable_nx_cap(std::uint64_t cap, const Config& config);

// The value KVM_CHECK_EXTENSION returns for `cap` on an fd of `scope` (0 for unknown caps).
long check_extension(std::uint64_t cap, Scope scope, const Config& config);

}  // namespace kvmemu::kvm
