// KVM ioctl request numbers served or recognised by kvmemu (KVM_IO_TYPE = 0xAE), plus the daemon's
// private requests. Names drop the kernel's KVM_ prefix; tests/uapi checks them against <linux/kvm.h>.
#pragma once

#include "uapi/ioctl_encoding.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::uapi {

inline constexpr unsigned KVM_IO_TYPE = 0xAE;

// System fd.
inline constexpr std::uint32_t GET_API_VERSION = io(KVM_IO_TYPE, 0x00);
inline constexpr std::uint32_t CREATE_VM = io(KVM_IO_TYPE, 0x01);
inline constexpr std::uint32_t GET_MSR_INDEX_LIST = iowr<kvm_msr_list>(KVM_IO_TYPE, 0x02);
inline constexpr std::uint32_t CHECK_EXTENSION = io(KVM_IO_TYPE, 0x03);
inline constexpr std::uint32_t GET_VCPU_MMAP_SIZE = io(KVM_IO_TYPE, 0x04);
inline constexpr std::uint32_t GET_SUPPORTED_CPUID = iowr<kvm_cpuid2>(KVM_IO_TYPE, 0x05);
inline constexpr std::uint32_t GET_EMULATED_CPUID = iowr<kvm_cpuid2>(KVM_IO_TYPE, 0x09);
inline constexpr std::uint32_t GET_MSR_FEATURE_INDEX_LIST = iowr<kvm_msr_list>(KVM_IO_TYPE, 0x0a);

// VM fd.
inline constexpr std::uint32_t CREATE_VCPU = io(KVM_IO_TYPE, 0x41);
inline constexpr std::uint32_t SET_USER_MEMORY_REGION =
    iow<kvm_userspace_memory_region>(KVM_IO_TYPE, 0x46);
inline constexpr std::uint32_t SET_NR_MMU_PAGES = io(KVM_IO_TYPE, 0x44);
inline constexpr std::uint32_t SET_TSS_ADDR = io(KVM_IO_TYPE, 0x47);
inline constexpr std::uint32_t SET_IDENTITY_MAP_ADDR = iow<std::uint64_t>(KVM_IO_TYPE, 0x48);
inline constexpr std::uint32_t SET_USER_MEMORY_REGION2 =
    iow<kvm_userspace_memory_region2>(KVM_IO_TYPE, 0x49);
inline constexpr std::uint32_t CREATE_IRQCHIP = io(KVM_IO_TYPE, 0x60);
inline constexpr std::uint32_t SET_TSC_KHZ = io(KVM_IO_TYPE, 0xa2);
inline constexpr std::uint32_t GET_TSC_KHZ = io(KVM_IO_TYPE, 0xa3);
inline constexpr std::uint32_t ENABLE_CAP = iow<kvm_enable_cap>(KVM_IO_TYPE, 0xa3);
inline constexpr std::uint32_t GET_STATS_FD = io(KVM_IO_TYPE, 0xce);
inline constexpr std::uint32_t PRE_FAULT_MEMORY = iowr<kvm_pre_fault_memory>(KVM_IO_TYPE, 0xd5);

// vCPU fd.
inline constexpr std::uint32_t RUN = io(KVM_IO_TYPE, 0x80);
inline constexpr std::uint32_t GET_REGS = ior<kvm_regs>(KVM_IO_TYPE, 0x81);
inline constexpr std::uint32_t SET_REGS = iow<kvm_regs>(KVM_IO_TYPE, 0x82);
inline constexpr std::uint32_t GET_LAPIC = ior<kvm_lapic_state>(KVM_IO_TYPE, 0x8e);
inline constexpr std::uint32_t SET_LAPIC = iow<kvm_lapic_state>(KVM_IO_TYPE, 0x8f);
inline constexpr std::uint32_t GET_SREGS = ior<kvm_sregs>(KVM_IO_TYPE, 0x83);
inline constexpr std::uint32_t SET_SREGS = iow<kvm_sregs>(KVM_IO_TYPE, 0x84);
inline constexpr std::uint32_t INTERRUPT = iow<kvm_interrupt>(KVM_IO_TYPE, 0x86);
inline constexpr std::uint32_t GET_MSRS = iowr<kvm_msrs>(KVM_IO_TYPE, 0x88);
inline constexpr std::uint32_t SET_MSRS = iow<kvm_msrs>(KVM_IO_TYPE, 0x89);
inline constexpr std::uint32_t GET_FPU = ior<kvm_fpu>(KVM_IO_TYPE, 0x8c);
inline constexpr std::uint32_t SET_FPU = iow<kvm_fpu>(KVM_IO_TYPE, 0x8d);
inline constexpr std::uint32_t SET_CPUID2 = iow<kvm_cpuid2>(KVM_IO_TYPE, 0x90);
inline constexpr std::uint32_t GET_CPUID2 = iowr<kvm_cpuid2>(KVM_IO_TYPE, 0x91);
inline constexpr std::uint32_t GET_MP_STATE = ior<kvm_mp_state>(KVM_IO_TYPE, 0x98);
inline constexpr std::uint32_t SET_MP_STATE = iow<kvm_mp_state>(KVM_IO_TYPE, 0x99);
inline constexpr std::uint32_t GET_XSAVE = ior<kvm_xsave>(KVM_IO_TYPE, 0xa4);
inline constexpr std::uint32_t SET_XSAVE = iow<kvm_xsave>(KVM_IO_TYPE, 0xa5);
inline constexpr std::uint32_t GET_VCPU_EVENTS = ior<kvm_vcpu_events>(KVM_IO_TYPE, 0x9f);
inline constexpr std::uint32_t SET_VCPU_EVENTS = iow<kvm_vcpu_events>(KVM_IO_TYPE, 0xa0);
inline constexpr std::uint32_t GET_DEBUGREGS = ior<kvm_debugregs>(KVM_IO_TYPE, 0xa1);
inline constexpr std::uint32_t SET_DEBUGREGS = iow<kvm_debugregs>(KVM_IO_TYPE, 0xa2);
inline constexpr std::uint32_t GET_XCRS = ior<kvm_xcrs>(KVM_IO_TYPE, 0xa6);
inline constexpr std::uint32_t SET_XCRS = iow<kvm_xcrs>(KVM_IO_TYPE, 0xa7);
inline constexpr std::uint32_t VCPU_ENABLE_CAP = ENABLE_CAP;

// Private requests of kvmemud, answered only to the daemon's own process (anyone else: ENOTTY).
// BIND_VM turns a freshly opened device file into the VM fd of an existing Vm (arg: VM id);
// IDENTIFY_VM returns the VM id a device file is bound to (or ENOENT for a system fd).
inline constexpr unsigned KVMEMU_PRIVATE_TYPE = 0xAF;
inline constexpr std::uint32_t KVMEMU_BIND_VM = iow<std::uint64_t>(KVMEMU_PRIVATE_TYPE, 0x01);
inline constexpr std::uint32_t KVMEMU_IDENTIFY_VM = ior<std::uint64_t>(KVMEMU_PRIVATE_TYPE, 0x02);

inline constexpr int API_VERSION = 12;

}  // namespace kvmemu::uapi
