// Conversions between the software vCPU's state and the KVM ABI's register and CPUID structures.
#pragma once

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
std::vector<cpu::CpuidEntry> to_cpuid_table(std::span<const uapi::kvm_cpuid_entry2> entries);

}  // namespace kvmemu::kvm
