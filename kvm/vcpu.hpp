// Vcpu: one virtual CPU: its architectural state, its CPUID table and its mmap()able run area
// (a memfd of KVM_GET_VCPU_MMAP_SIZE bytes shared with the program). Serves vCPU-fd ioctls.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "common/expected.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"
#include "common/user_io.hpp"
#include "kvm/caller.hpp"
#include "kvm/stats_file.hpp"
#include "uapi/kvm_run.hpp"
#include "uapi/structs.hpp"

namespace kvmemu::kvm {

class Vcpu {
public:
    // owner_tgid names the stats file: "kvm-<pid>/vcpu-<id>".
    static Expected<std::unique_ptr<Vcpu>> create(std::uint32_t id, pid_t owner_tgid);

    [[nodiscard]] std::uint32_t id() const { return id_; }
    // The run area's memfd (the daemon keeps it; the program gets a duplicate).
    [[nodiscard]] int memfd() const { return memfd_.get(); }
    [[nodiscard]] uapi::kvm_run* run_page() const { return static_cast<uapi::kvm_run*>(run_map_.data()); }

    // vCPU-scope ioctl: >= 0 result or -errno. The owning Vm checks the caller's process first.
    long ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg, UserIo& io);
    // KVM_GET_STATS_FD on the vCPU fd: a new read-only stats fd.
    Expected<UniqueFd> open_stats() const { return stats_.open_reader(); }
    [[nodiscard]] int stats_memfd() const { return stats_.fd(); }

private:
    struct Key {
        explicit Key() = default;
    };

public:
    Vcpu(Key, std::uint32_t id, UniqueFd memfd, Mapping run_map, StatsFile stats);

private:
    void reset();

    long set_cpuid2(std::uint64_t arg, UserIo& io);
    long get_cpuid2(std::uint64_t arg, UserIo& io);
    long msr_io(std::uint64_t arg, UserIo& io, bool write);
    long set_sregs(std::uint64_t arg, UserIo& io);
    long set_mp_state(std::uint64_t arg, UserIo& io);

    const std::uint32_t id_;
    UniqueFd memfd_;
    Mapping run_map_;
    StatsFile stats_;

    std::mutex mu_;  // serialises ioctls of this vCPU
    uapi::kvm_regs regs_{};
    uapi::kvm_sregs sregs_{};
    uapi::kvm_fpu fpu_{};
    std::uint32_t mp_state_ = uapi::MP_STATE_RUNNABLE;
    std::vector<uapi::kvm_cpuid_entry2> cpuid_;
    std::map<std::uint32_t, std::uint64_t> msrs_;
};

}  // namespace kvmemu::kvm
