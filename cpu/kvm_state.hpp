// Conversions between CpuState and the KVM uapi structures (kvm_regs, kvm_sregs, kvm_fpu,
// kvm_cpuid_entry2), for the daemon's GET/SET_REGS, GET/SET_SREGS, GET/SET_FPU and SET_CPUID2.
#pragma once

#include <linux/kvm.h>

#include <span>
#include <vector>

#include "cpu/cpuid.hpp"
#include "cpu/state.hpp"

namespace kvmemu::cpu {

void to_kvm(const CpuState& s, kvm_regs& r);
void from_kvm(const kvm_regs& r, CpuState& s);

// interrupt_bitmap carries CpuState::pending_irq (one bit at most), as KVM reports it.
void to_kvm(const CpuState& s, kvm_sregs& r);
void from_kvm(const kvm_sregs& r, CpuState& s);

void to_kvm(const CpuState& s, kvm_fpu& f);
void from_kvm(const kvm_fpu& f, CpuState& s);

std::vector<CpuidEntry> from_kvm(std::span<const kvm_cpuid_entry2> entries);

}  // namespace kvmemu::cpu
