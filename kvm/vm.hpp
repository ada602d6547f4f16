// Vm: one virtual machine: its memslots, vCPUs, statistics and the per-VM NX-huge-page opt-out.
// Serves VM-fd ioctls and creates the objects behind vCPU and stats fds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"
#include "common/user_io.hpp"
#include "kvm/caller.hpp"
#include "kvm/config.hpp"
#include "kvm/guest_pages.hpp"
#include "kvm/memslots.hpp"
#include "kvm/stats_file.hpp"
#include "kvm/vcpu.hpp"
#include "mmu/mmu.hpp"

namespace kvmemu::kvm {

class Vm {
public:
    // host: how the owner's memory is backed (for the MMU's level choice); nx_huge_pages: the
    // host-wide policy (module parameter) at creation.
    static Expected<std::shared_ptr<Vm>> create(std::uint64_t id, pid_t owner_tgid,
                                                const Config& config, NxPermission nx_permission,
                                                std::unique_ptr<mmu::HostMappingOracle> host,
                                                bool nx_huge_pages,
                                                GuestPagesFactory guest_pages = nullptr,
                                                RunAreaFactory run_areas = nullptr);

    [[nodiscard]] std::uint64_t id() const { return id_; }
    [[nodiscard]] pid_t owner() const { return owner_; }

    // VM-scope ioctl served in place: >= 0 result or -errno. Requests that create fds
    // (KVM_CREATE_VCPU, KVM_GET_STATS_FD) are answered by create_vcpu()/open_stats() instead.
    long ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg, UserIo& io);

    Expected<std::shared_ptr<Vcpu>> create_vcpu(const Caller& caller, std::uint64_t vcpu_id);
    Expected<UniqueFd> open_stats(const Caller& caller);
    Expected<UniqueFd> open_vcpu_stats(const Vcpu& vcpu, const Caller& caller) const;
    // vCPU-scope ioctl on one of this VM's vCPUs (the caller's process is checked here).
    long vcpu_ioctl(Vcpu& vcpu, const Caller& caller, std::uint32_t cmd, std::uint64_t arg,
                    UserIo& io);
    // The same for a transport that must not wait: empty when the call would block (the vCPU
    // is busy, or the request is one that can wait: KVM_RUN, KVM_PRE_FAULT_MEMORY).
    std::optional<long> try_vcpu_ioctl(Vcpu& vcpu, const Caller& caller, std::uint32_t cmd,
                                       std::uint64_t arg, UserIo& io);

    [[nodiscard]] bool nx_huge_pages_disabled() const;
    // The mitigation applies to this VM: host policy on and the capability not used.
    [[nodiscard]] bool nx_mitigation_active() const;
    // Host policy change (nx_huge_pages written): zaps every SPTE when it changes.
    void set_nx_huge_pages(bool on);
    // One NX recovery pass (the recovery worker's tick); returns the splits recovered.
    std::size_t recover_nx_splits(unsigned ratio);
    // A guest access through this VM's MMU (the CPU engine; tools and tests).
    mmu::FaultResult fault(std::uint64_t gpa, mmu::Access access);
    // gpa -> the VMM's address, through the memslots; nullopt outside them.
    [[nodiscard]] std::optional<std::uint64_t> gpa_to_hva(std::uint64_t gpa) const;
    // The present leaf mapping gpa, if any.
    [[nodiscard]] std::optional<mmu::LeafInfo> lookup(std::uint64_t gpa) const;
    [[nodiscard]] std::size_t vcpu_count() const;
    [[nodiscard]] std::vector<Memslot> memslots() const;
    [[nodiscard]] VmStatsData stats() const;
    // The files behind this VM's vCPU and stats fds: while its process holds any of them (fd or
    // mapping), the VM lives on after its VM fd is closed, as in KVM.
    [[nodiscard]] std::vector<int> held_files() const;

private:
    struct Key {
        explicit Key() = default;
    };

public:
    Vm(Key, std::uint64_t id, pid_t owner, const Config& config, NxPermission nx_permission,
       StatsFile stats, std::unique_ptr<mmu::HostMappingOracle> host, bool nx_huge_pages,
       GuestPagesFactory guest_pages, RunAreaFactory run_areas);

private:
    long enable_cap(const Caller& caller, std::uint64_t arg, UserIo& io);
    long enable_max_vcpu_id(std::uint64_t max_ids);
    long set_memory_region(std::uint64_t arg, UserIo& io, bool v1);
    int apply_to_mmu_locked(const MemslotUpdate& update);
    long pre_fault_memory(std::uint64_t arg, UserIo& io);
    void publish_stats_locked();

    const std::uint64_t id_;
    const pid_t owner_;
    const Config config_;
    const NxPermission nx_permission_;
    const GuestPagesFactory guest_pages_;
    const RunAreaFactory run_areas_;

    mutable std::mutex mu_;  // kvm->lock (and the MMU lock): vCPUs, capabilities, memslots, MMU
    std::uint32_t created_vcpus_ = 0;
    std::uint64_t tss_addr_ = 0;           // KVM_SET_TSS_ADDR (kept, unused)
    std::uint64_t identity_map_addr_ = 0;  // KVM_SET_IDENTITY_MAP_ADDR (kept, unused)
    static constexpr std::uint64_t kMinAllocMmuPages = 64;  // KVM_MIN_ALLOC_MMU_PAGES
    std::uint64_t nr_mmu_pages_ = 0;       // KVM_SET_NR_MMU_PAGES (kept: no shadow pages here)
    std::uint64_t max_vcpu_ids_ = 0;       // KVM_CAP_MAX_VCPU_ID; 0 until set or a vCPU exists
    bool irqchip_ = false;                 // KVM_CREATE_IRQCHIP: vCPUs get an in-kernel APIC
    std::vector<std::shared_ptr<Vcpu>> vcpus_;
    Memslots memslots_;
    StatsFile stats_;
    std::unique_ptr<mmu::HostMappingOracle> host_;
    mmu::Mmu mmu_;
};

}  // namespace kvmemu::kvm
