// KvmBackend: answers the ioctls the supervisor traps, on top of the KVM object model: creates
// VM fds (our CUSE files, bound to a Vm), vCPU fds (files of VcpuFiles) and stats fds, and serves
// the vCPU ioctls that are trapped.
#pragma once

#include <sys/types.h>

#include <string>

#include "kvm/system.hpp"
#include "supervisor/backend.hpp"

namespace kvmemu::daemon {

class KvmBackend final : public supervisor::Backend {
public:
    // device_path: our CUSE device (opened to make VM fds); rdev: its st_rdev.
    KvmBackend(kvm::System& system, std::string device_path, dev_t rdev);

    supervisor::Reply handle(const supervisor::TrappedIoctl& call, supervisor::TargetFd& target,
                             UserIo& mem) override;
    bool may_block(std::uint32_t cmd) const override;
    void interrupt(pid_t tid) override;
    void process_gone(pid_t tgid) override;

private:
    supervisor::Reply on_system_fd(const supervisor::TrappedIoctl& call, const kvm::Caller& caller);
    supervisor::Reply on_vm_fd(const supervisor::TrappedIoctl& call, const kvm::Caller& caller,
                               kvm::Vm& vm);

    kvm::System& system_;
    const std::string device_path_;
    const dev_t rdev_;
};

}  // namespace kvmemu::daemon
