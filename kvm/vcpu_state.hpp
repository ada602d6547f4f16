// Conversions between the software vCPU's state and the KVM ABI's register and CPUID structures.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cpu/cpuid.hpp"
#include "cpu/state.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::kvm {

uapi::kvm_regs to_kvm_regs(const cpu::CpuState& s);
void from_kvm_regs(const uapi::kvm_regs& r, cpu::CpuState& s);
uapi::kvm_sregs to_kvm_sregs(const cpu::CpuState& s);
void from_kvm_sregs(const uapi::kvm_sregs& r, cpu::CpuState& s);
uapi::kvm_fpu to_kvm_fpu(const cpu::CpuState& s);
void from_kvm_fpu(const uapi::kvm_fpu& f, cpu::CpuState& s);
// XSAVE state components kvmemu models: x87 (bit 0) and SSE (bit 1, XMM0-15 and MXCSR).
inline constexpr std::uint64_t kXsaveFp = 1, kXsaveSse = 2, kXsaveModelled = kXsaveFp | kXsaveSse;
// `xinuse` is XSTATE_BV as the vCPU's XSAVE buffer holds it: a component whose bit is clear is in
// its init state, whatever the FXSAVE image says (after reset KVM_GET_FPU shows MXCSR 0, the guest
// 0x1f80).
// Writes the init state of every component not in `xinuse` (before the guest runs).
void load_init_components(cpu::CpuState& s, std::uint64_t xinuse);
// The components not in their init state (XINUSE after the guest ran).
std::uint64_t components_in_use(const cpu::CpuState& s);
// KVM_GET_XSAVE: the FXSAVE image with init values for components not in use, and the header.
uapi::kvm_xsave to_kvm_xsave(const cpu::CpuState& s, std::uint64_t xinuse);
// KVM_SET_XSAVE, with the kernel's header checks: XSTATE_BV beyond FP|SSE (the features a host
// without AVX offers), a non-zero XCOMP_BV or reserved header bytes -> -EINVAL; MXCSR reserved
// bits -> -EINVAL when FP or SSE is being loaded. Components whose bit is clear are loaded in
// their init state; `xinuse` becomes XSTATE_BV. 0 on success, nothing changed on error.
int from_kvm_xsave(const uapi::kvm_xsave& x, cpu::CpuState& s, std::uint64_t& xinuse);
std::vector<cpu::CpuidEntry> to_cpuid_table(std::span<const uapi::kvm_cpuid_entry2> entries);

}  // namespace kvmemu::kvm
