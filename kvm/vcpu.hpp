// Vcpu: one virtual CPU: the software CPU's state and engine, its CPUID table, its mmap()able
// run area (KVM_GET_VCPU_MMAP_SIZE bytes shared with the program) and its stats.
// Serves vCPU-fd ioctls; KVM_RUN executes guest code through the owning VM's MMU.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/expected.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"
#include "common/user_io.hpp"
#include "cpu/engine.hpp"
#include "kvm/caller.hpp"
#include "kvm/guest_pages.hpp"
#include "kvm/lapic.hpp"
#include "kvm/run_area.hpp"
#include "kvm/vcpu_events.hpp"
#include "kvm/stats_file.hpp"
#include "kvm/vcpu_stats.hpp"
#include "uapi/kvm_run.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::kvm {

class Vm;

class Vcpu {
public:
    // owner_tgid names the stats file: "kvm-<pid>/vcpu-<id>". pages: the VMM's memory.
    // in_kernel_lapic: the VM has an in-kernel irqchip (KVM_CREATE_IRQCHIP came first).
    // run_area: the run area's provider (nullptr: a memfd).
    static Expected<std::unique_ptr<Vcpu>> create(std::uint32_t id, pid_t owner_tgid,
                                                  std::unique_ptr<GuestPages> pages,
                                                  bool in_kernel_lapic = false,
                                                  const RunAreaFactory& run_area = nullptr);

    [[nodiscard]] std::uint32_t id() const { return id_; }
    // The run area's file (the daemon keeps it; the program gets a duplicate as its vCPU fd).
    [[nodiscard]] int run_fd() const { return run_area_.fd(); }
    [[nodiscard]] uapi::kvm_run* run_page() const {
        return static_cast<uapi::kvm_run*>(run_area_.data());
    }

    // vCPU-scope ioctl other than KVM_RUN: >= 0 result or -errno. The owning Vm checks the
    // caller's process first.
    long ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg, UserIo& io);
    // The same, unless another call of this vCPU (a KVM_RUN, say) holds it: then nothing is
    // done and the answer is empty (a transport that must not wait calls ioctl() elsewhere).
    std::optional<long> try_ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg,
                                  UserIo& io);
    // KVM_RUN: runs guest code until an exit, through `vm`'s MMU; 0, -EINTR or -errno.
    long run(Vm& vm, const Caller& caller);
    // Asks a KVM_RUN made by thread `tid` to return (-EINTR, KVM_EXIT_INTR) soon.
    bool kick_if_running(pid_t tid);

    // KVM_GET_STATS_FD on the vCPU fd: a new read-only stats fd.
    Expected<UniqueFd> open_stats() const { return stats_.open_reader(); }
    [[nodiscard]] int stats_memfd() const { return stats_.fd(); }
    [[nodiscard]] std::uint64_t stat(std::uint32_t offset) const;

private:
    struct Key {
        explicit Key() = default;
    };

public:
    Vcpu(Key, std::uint32_t id, RunArea run_area, StatsFile stats,
         std::unique_ptr<GuestPages> pages, bool in_kernel_lapic);

private:
    void reset();
    long ioctl_locked(std::uint32_t cmd, std::uint64_t arg, UserIo& io);
    void count(std::uint32_t stat_offset) { ++stats_data_[stat_offset / 8]; }
    void publish_stats() { stats_.publish(std::as_bytes(std::span(stats_data_))); }
    void complete_pending_locked();
    long report_exit_locked(const cpu::RunResult& r);
    long immediate_exit_locked(const cpu::RunResult& r);

    long set_cpuid2(std::uint64_t arg, UserIo& io);
    long get_cpuid2(std::uint64_t arg, UserIo& io);
    long msr_io(std::uint64_t arg, UserIo& io, bool write);
    long set_sregs(std::uint64_t arg, UserIo& io);
    long apply_sregs_locked(const uapi::kvm_sregs& s);
    long run_locked(Vm& vm, const Caller& caller);
    long sync_regs_locked();   // kvm_run.kvm_dirty_regs -> vCPU
    void store_regs_locked();  // vCPU -> kvm_run.s.regs, for kvm_run.kvm_valid_regs
    long set_mp_state(std::uint64_t arg, UserIo& io);
    [[nodiscard]] std::uint32_t mp_state() const;
    long interrupt(std::uint64_t arg, UserIo& io);
    long set_lapic(std::uint64_t arg, UserIo& io);
    [[nodiscard]] bool valid_apic_base(std::uint64_t value) const;
    // KVM_RUN of a vCPU with an in-kernel APIC that cannot run (halted, or an AP waiting for
    // INIT/SIPI): blocks like kvm_vcpu_block() until a signal kicks it (no interrupt source is
    // modelled), then reports KVM_EXIT_INTR.
    long block_locked(bool immediate_exit);

    const std::uint32_t id_;
    RunArea run_area_;
    StatsFile stats_;
    std::unique_ptr<GuestPages> pages_;
    std::atomic<bool> kick_{false};
    std::atomic<pid_t> running_tid_{0};

    std::mutex mu_;  // vcpu->mutex: one ioctl of this vCPU at a time
    cpu::CpuState state_;
    cpu::Engine engine_;
    std::vector<uapi::kvm_cpuid_entry2> cpuid_;
    bool cpuid_set_ = false;  // KVM_SET_CPUID2 done: CR4 is also checked against this table
    bool has_run_ = false;    // entered the guest once: KVM_SET_CPUID2 may no longer change it
    std::optional<Lapic> lapic_;
    std::uint64_t xinuse_ = 0;  // XSTATE_BV of the vCPU's XSAVE buffer (see vcpu_state.hpp)
    EventState events_;  // KVM_SET_VCPU_EVENTS / KVM_SET_DEBUGREGS state the CPU model lacks
    // With an in-kernel APIC: UNINITIALIZED (an AP before INIT/SIPI), INIT_RECEIVED,
    // AP_RESET_HOLD or RUNNABLE; HALTED is state_.halted.
    std::uint32_t mp_state_ = uapi::MP_STATE_RUNNABLE;
    enum class Pending { None, IoIn, MmioRead };
    Pending pending_ = Pending::None;
    std::array<std::uint64_t, kVcpuStatsDataSize / 8> stats_data_{};
};

}  // namespace kvmemu::kvm
