// The vCPU statistics real x86 KVM exposes (Linux 6.18 on the oracle), in descriptor order.
#pragma once

#include <array>
#include <cstdint>

#include "kvm/vm_stats.hpp"

namespace kvmemu::kvm {

// Flags: 0x20 unit seconds, 0x24 linear histogram of seconds, 0x41 instant boolean.
inline constexpr std::array<StatDescriptor, 47> kVcpuStatDescriptors = {{
    {"halt_successful_poll", 0x0, 0},      {"halt_attempted_poll", 0x0, 8},
    {"halt_poll_invalid", 0x0, 16},        {"halt_wakeup", 0x0, 24},
    {"halt_poll_success_ns", 0x20, 32, -9}, {"halt_poll_fail_ns", 0x20, 40, -9},
    {"halt_wait_ns", 0x20, 48, -9},        {"halt_poll_success_hist", 0x24, 56, -9, 32},
    {"halt_poll_fail_hist", 0x24, 312, -9, 32}, {"halt_wait_hist", 0x24, 568, -9, 32},
    {"blocking", 0x41, 824},               {"pf_taken", 0x0, 832},
    {"pf_fixed", 0x0, 840},                {"pf_emulate", 0x0, 848},
    {"pf_spurious", 0x0, 856},             {"pf_fast", 0x0, 864},
    {"pf_mmio_spte_created", 0x0, 872},    {"pf_guest", 0x0, 880},
    {"tlb_flush", 0x0, 888},               {"invlpg", 0x0, 896},
    {"exits", 0x0, 904},                   {"io_exits", 0x0, 912},
    {"mmio_exits", 0x0, 920},              {"signal_exits", 0x0, 928},
    {"irq_window_exits", 0x0, 936},        {"nmi_window_exits", 0x0, 944},
    {"l1d_flush", 0x0, 952},               {"halt_exits", 0x0, 960},
    {"request_irq_exits", 0x0, 968},       {"irq_exits", 0x0, 976},
    {"host_state_reload", 0x0, 984},       {"fpu_reload", 0x0, 992},
    {"insn_emulation", 0x0, 1000},         {"insn_emulation_fail", 0x0, 1008},
    {"hypercalls", 0x0, 1016},             {"irq_injections", 0x0, 1024},
    {"nmi_injections", 0x0, 1032},         {"req_event", 0x0, 1040},
    {"nested_run", 0x0, 1048},             {"directed_yield_attempted", 0x0, 1056},
    {"directed_yield_successful", 0x0, 1064}, {"preemption_reported", 0x0, 1072},
    {"preemption_other", 0x0, 1080},       {"guest_mode", 0x41, 1088},
    {"notify_window_exits", 0x0, 1096},    {"pf_parked", 0x0, 1104},
    {"pf_park_timeouts", 0x0, 1112},
}};

// The data block of a vCPU stats file: one u64 per offset above.
inline constexpr std::size_t kVcpuStatsDataSize = 1120;

// Offsets of the counters the software vCPU maintains.
namespace vcpu_stat {
inline constexpr std::uint32_t pf_taken = 832, pf_fixed = 840, pf_guest = 880, tlb_flush = 888,
                               invlpg = 896, exits = 904, io_exits = 912, mmio_exits = 920,
                               signal_exits = 928, halt_exits = 960,
                               insn_emulation_fail = 1008;
}  // namespace vcpu_stat

}  // namespace kvmemu::kvm
