// What kvmemu-run's seccomp filter hands to the daemon's supervisor: a short list of KVM ioctl
// requests, on any fd. Everything else goes straight to the kernel: system and VM requests to
// the CUSE device, and most vCPU requests to the vCPU fd itself, a file of the daemon's private
// FUSE mount that answers them (those with a fixed-size argument, through FUSE's restricted
// ioctl) and EINVAL for anything it does not know, as kvm_vcpu_ioctl() does.
#pragma once

#include <array>
#include <cstdint>

#include "uapi/ioctls.hpp"

namespace kvmemu::launcher {

inline constexpr std::array<std::uint32_t, 9> kTrappedRequests = {
    // Return a new fd, which neither CUSE nor FUSE can install in the caller.
    uapi::CREATE_VM,     // system fd -> VM fd (a CUSE file bound to the new VM)
    uapi::CREATE_VCPU,   // VM fd -> vCPU fd (a file of the daemon's FUSE mount)
    uapi::GET_STATS_FD,  // VM or vCPU fd -> stats fd (a sealed memfd)

    // vCPU requests FUSE cannot carry: the argument is larger than its _IOC_SIZE (a header and
    // then an array the daemon reads or writes in the caller's memory) ...
    uapi::SET_CPUID2,
    uapi::GET_CPUID2,
    uapi::GET_MSRS,  // (on the system fd: feature MSRs, let through to CUSE)
    uapi::SET_MSRS,
    // ... or the call can wait long, and a signal must interrupt it: served on a worker thread
    // of the supervisor, which sees the caller's signals.
    uapi::RUN,
    uapi::PRE_FAULT_MEMORY,  // (the VM's lock)
};

// No request twice; all of KVM's type (the daemon's private requests are of another).
constexpr bool trapped_list_is_sound() {
    for (std::size_t i = 0; i < kTrappedRequests.size(); ++i) {
        if (uapi::ioc_type(kTrappedRequests[i]) != uapi::KVM_IO_TYPE) return false;
        for (std::size_t j = i + 1; j < kTrappedRequests.size(); ++j) {
            if (kTrappedRequests[i] == kTrappedRequests[j]) return false;
        }
    }
    return true;
}
static_assert(trapped_list_is_sound());

}  // namespace kvmemu::launcher
