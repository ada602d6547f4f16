// System: the daemon's KVM instance (what /dev/kvm stands for): system-fd ioctls, VM creation,
// and the registry that maps fds back to VMs and vCPUs. The top object of the model.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <memory>
#include <mutex>
#include <vector>

#include "common/expected.hpp"
#include "common/user_io.hpp"
#include "kvm/caller.hpp"
#include "kvm/config.hpp"
#include "kvm/vm.hpp"
#include "mmu/host_mapping.hpp"
#include "mmu/nx_params.hpp"

namespace kvmemu::kvm {

// Makes the host-mapping oracle of a new VM owned by process `owner`.
using HostOracleFactory = std::function<std::unique_ptr<mmu::HostMappingOracle>(pid_t owner)>;

class System {
public:
    // params: the kvm module parameters (host-wide NX policy). host_oracles: nullptr means the
    // fixed level config.host_mapping_level names (Detect then needs a factory).
    System(Config config, NxPermission nx_permission, mmu::NxParams params = mmu::NxParams(false),
           HostOracleFactory host_oracles = nullptr, GuestPagesFactory guest_pages = nullptr);

    [[nodiscard]] const Config& config() const { return config_; }

    // System-scope ioctl: >= 0 result or -errno. KVM_CREATE_VM is create_vm() instead.
    long ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg, UserIo& io);

    // KVM_CREATE_VM: a new VM owned by the caller's process. type must be 0 (EINVAL otherwise).
    Expected<std::shared_ptr<Vm>> create_vm(const Caller& caller, std::uint64_t type);
    // Forgets a VM (its last VM fd was released, or its process is gone).
    void destroy_vm(std::uint64_t vm_id);
    void destroy_vms_of(pid_t tgid);
    [[nodiscard]] std::shared_ptr<Vm> find_vm(std::uint64_t vm_id) const;
    [[nodiscard]] std::vector<std::shared_ptr<Vm>> vms() const;

    // Where vCPU run areas (the files behind vCPU fds) come from from now on (default: memfds).
    // Set before the first VM is created.
    void set_run_area_factory(RunAreaFactory f);

    // The supervisor and the transports find a vCPU by the (st_dev, st_ino) of its run area.
    Expected<std::shared_ptr<Vcpu>> create_vcpu(Vm& vm, const Caller& caller, std::uint64_t id);
    struct VcpuRef {
        std::shared_ptr<Vm> vm;
        std::shared_ptr<Vcpu> vcpu;
    };
    [[nodiscard]] VcpuRef find_vcpu(dev_t dev, ino_t ino) const;

    // The kvm module parameters nx_huge_pages, nx_huge_pages_recovery_ratio and
    // nx_huge_pages_recovery_period_ms: read as sysfs shows them; written with the kernel's
    // errnos. A change of the NX policy zaps every VM; `on_recovery_change` (if set) runs when
    // recovery timers should be rearmed.
    static bool is_param(std::string_view name);
    [[nodiscard]] Expected<std::string> read_param(std::string_view name) const;
    int write_param(std::string_view name, std::string_view value);
    [[nodiscard]] unsigned recovery_ratio() const;
    [[nodiscard]] std::optional<std::uint32_t> recovery_period_ms() const;
    void set_on_recovery_change(std::function<void()> f);

    // Observers of the VM population (the daemon arms per-VM recovery timers). Called outside
    // the System's lock, on the thread that created or destroyed the VM.
    void set_vm_hooks(std::function<void(const std::shared_ptr<Vm>&)> created,
                      std::function<void(std::uint64_t vm_id)> destroyed);

    // A signal interrupted thread `tid`'s KVM_RUN: make it return -EINTR (KVM_EXIT_INTR).
    void kick_thread(pid_t tid);

private:
    std::unique_ptr<mmu::HostMappingOracle> make_host_oracle(pid_t owner) const;

    const Config config_;
    const NxPermission nx_permission_;
    const HostOracleFactory host_oracles_;
    const GuestPagesFactory guest_pages_;
    RunAreaFactory run_areas_;  // guarded by mu_

    mutable std::mutex mu_;
    mmu::NxParams params_;
    std::function<void()> on_recovery_change_;
    std::function<void(const std::shared_ptr<Vm>&)> on_vm_created_;
    std::function<void(std::uint64_t)> on_vm_destroyed_;
    std::uint64_t next_vm_id_ = 1;
    std::map<std::uint64_t, std::shared_ptr<Vm>> vms_;
    struct VcpuKey {
        dev_t dev;
        ino_t ino;
        auto operator<=>(const VcpuKey&) const = default;
    };
    std::map<VcpuKey, std::pair<std::uint64_t, std::weak_ptr<Vcpu>>> vcpus_;
};

}  // namespace kvmemu::kvm
