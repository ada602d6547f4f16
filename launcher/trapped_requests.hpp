// What kvmemu-run's seccomp filter hands to the daemon's supervisor: every ioctl request of
// KVM's type (KVMIO, 0xAE), on any fd. Everything else goes straight to the kernel.
//
// Trapping the whole type, not only the requests the supervisor serves, is what gives a vCPU fd
// (a memfd, which has no ioctls of its own) the kernel's answers to every KVM request: EINVAL
// for an unknown or wrong-scope one, as kvm_vcpu_ioctl() gives, instead of the memfd's ENOTTY.
// The cost is one supervisor round trip (answered CONTINUE, without fetching the fd) in front of
// each system and VM ioctl that CUSE then serves.
#pragma once

#include <array>
#include <cstdint>

#include "uapi/ioctls.hpp"

namespace kvmemu::launcher {

inline constexpr std::uint8_t kTrappedIoctlType = uapi::KVM_IO_TYPE;

// The requests the supervisor's backend serves itself (the rest of the type it lets through to
// the kernel, i.e. to CUSE for the system and VM fds, after deciding the fd is not a vCPU's).
inline constexpr std::array<std::uint32_t, 31> kServedRequests = {
    // Return a new fd, which CUSE cannot install in the caller.
    uapi::CREATE_VM,     // system fd -> VM fd (a CUSE file bound to the new VM)
    uapi::CREATE_VCPU,   // VM fd -> vCPU fd (an mmap-able memfd)
    uapi::GET_STATS_FD,  // VM or vCPU fd -> stats fd (a sealed memfd)

    // Served on vCPU fds: a memfd has no ioctls, so the supervisor answers all of them.
    uapi::RUN,  // may block: served on a per-thread worker
    uapi::GET_REGS,
    uapi::SET_REGS,
    uapi::GET_SREGS,
    uapi::SET_SREGS,
    uapi::INTERRUPT,
    uapi::GET_MSRS,
    uapi::SET_MSRS,
    uapi::GET_FPU,
    uapi::SET_FPU,
    uapi::SET_CPUID2,
    uapi::GET_CPUID2,
    uapi::GET_MP_STATE,
    uapi::SET_MP_STATE,
    uapi::GET_XSAVE,
    uapi::SET_XSAVE,
    uapi::GET_XCRS,
    uapi::SET_XCRS,
    uapi::GET_LAPIC,
    uapi::SET_LAPIC,
    uapi::GET_VCPU_EVENTS,
    uapi::SET_VCPU_EVENTS,
    uapi::GET_DEBUGREGS,
    uapi::SET_DEBUGREGS,

    // Numbers shared by the VM and the vCPU scope: served for the vCPU; on a VM fd the
    // supervisor answers CONTINUE and CUSE serves them with the caller's own thread id.
    uapi::ENABLE_CAP,
    uapi::GET_TSC_KHZ,
    uapi::SET_TSC_KHZ,
    uapi::PRE_FAULT_MEMORY,
};

// No request twice; none of the daemon's private requests.
constexpr bool trapped_list_is_sound() {
    for (std::size_t i = 0; i < kServedRequests.size(); ++i) {
        if (uapi::ioc_type(kServedRequests[i]) != uapi::KVM_IO_TYPE) return false;
        for (std::size_t j = i + 1; j < kServedRequests.size(); ++j) {
            if (kServedRequests[i] == kServedRequests[j]) return false;
        }
    }
    return true;
}
static_assert(trapped_list_is_sound());

}  // namespace kvmemu::launcher
