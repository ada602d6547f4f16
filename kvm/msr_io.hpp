// msr_io(): the batch protocol of KVM_GET_MSRS and KVM_SET_MSRS (vCPU fd; KVM_GET_MSRS on the
// system fd reads feature MSRs the same way).
#pragma once

#include <cstdint>
#include <functional>

#include "common/user_io.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::kvm {

// The header is copied in (EFAULT), nmsrs >= MAX_IO_MSRS is E2BIG, the entries are copied in
// (EFAULT); `handle` then runs on each entry in order until it returns false; with `copy_back`
// the entries go back to the caller (EFAULT). Returns the number handled, or -errno.
long msr_io(std::uint64_t arg, UserIo& io, bool copy_back,
            const std::function<bool(uapi::kvm_msr_entry&)>& handle);

}  // namespace kvmemu::kvm
