// KvmBackend: fd-returning requests and vCPU ioctls for traced programs (see design/fds.md).
#include "daemon/kvm_backend.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "uapi/ioctls.hpp"

namespace kvmemu::daemon {

namespace u = uapi;
using supervisor::Reply;

KvmBackend::KvmBackend(kvm::System& system, std::string device_path, dev_t rdev)
    : system_(system), device_path_(std::move(device_path)), rdev_(rdev) {}

bool KvmBackend::may_block(std::uint32_t cmd) const { return cmd == u::RUN; }

void KvmBackend::interrupt(pid_t tid) { system_.kick_thread(tid); }

void KvmBackend::process_gone(pid_t tgid) { system_.destroy_vms_of(tgid); }

Reply KvmBackend::handle(const supervisor::TrappedIoctl& call, supervisor::TargetFd& target,
                         UserIo& mem) {
    const kvm::Caller caller{call.tid, call.tgid};
    if (S_ISCHR(target.st.st_mode) && target.st.st_rdev == rdev_) {
        // Our CUSE device: the system fd or a VM fd. Only the requests that return a new fd
        // need the supervisor; CUSE serves the other trapped ones (KVM_GET_MSRS on the system
        // fd, KVM_RUN on a VM fd, ...: the filter matches numbers, not fds), so those go on at
        // once, without fetching the fd.
        if (call.cmd != u::CREATE_VM && call.cmd != u::CREATE_VCPU && call.cmd != u::GET_STATS_FD)
            return Reply::cont();
        const int fd = target.get();  // ask the device which
        if (fd < 0) {
            spdlog::warn("cannot get fd {} of pid {}: {}", call.fd, call.tgid, std::strerror(-fd));
            return Reply::cont();
        }
        std::uint64_t vm_id = 0;
        if (::ioctl(fd, u::KVMEMU_IDENTIFY_VM, &vm_id) != 0) {
            if (errno == ENOENT) return on_system_fd(call, caller);
            spdlog::warn("cannot identify fd {} of pid {}: {}", call.fd, call.tgid,
                         std::strerror(errno));
            return Reply::cont();
        }
        auto vm = system_.find_vm(vm_id);
        if (!vm) return Reply::err(EIO);
        return on_vm_fd(call, caller, *vm);
    }
    if (S_ISREG(target.st.st_mode)) {
        auto ref = system_.find_vcpu(target.st.st_dev, target.st.st_ino);
        if (ref.vm && ref.vcpu) {
            if (call.cmd == u::GET_STATS_FD) {
                auto fd = ref.vm->open_vcpu_stats(*ref.vcpu, caller);
                if (!fd) return Reply::err(fd.error());
                return Reply::inject(std::move(*fd), true);
            }
            const long r = ref.vm->vcpu_ioctl(*ref.vcpu, caller, call.cmd, call.arg, mem);
            return r < 0 ? Reply::err(static_cast<int>(-r)) : Reply::val(r);
        }
    }
    return Reply::cont();  // not ours: let the kernel answer
}

Reply KvmBackend::on_system_fd(const supervisor::TrappedIoctl& call, const kvm::Caller& caller) {
    if (call.cmd != u::CREATE_VM) return Reply::cont();  // CUSE serves the rest
    auto vm = system_.create_vm(caller, call.arg);
    if (!vm) return Reply::err(vm.error());
    UniqueFd fd(::open(device_path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) {
        const int e = errno;
        spdlog::error("cannot open {} for a VM fd: {}", device_path_, std::strerror(e));
        system_.destroy_vm((*vm)->id());
        return Reply::err(ENOMEM);
    }
    std::uint64_t id = (*vm)->id();
    if (::ioctl(fd.get(), u::KVMEMU_BIND_VM, &id) != 0) {
        const int e = errno;
        spdlog::error("cannot bind VM {}: {}", id, std::strerror(e));
        system_.destroy_vm(id);
        return Reply::err(ENOMEM);
    }
    spdlog::info("VM {} created for pid {}", id, caller.tgid);
    return Reply::inject(std::move(fd), true);  // KVM's VM fds are O_CLOEXEC
}

Reply KvmBackend::on_vm_fd(const supervisor::TrappedIoctl& call, const kvm::Caller& caller,
                           kvm::Vm& vm) {
    switch (call.cmd) {
        case u::CREATE_VCPU: {
            auto vcpu = system_.create_vcpu(vm, caller, call.arg);
            if (!vcpu) return Reply::err(vcpu.error());
            UniqueFd dup(::fcntl((*vcpu)->run_fd(), F_DUPFD_CLOEXEC, 0));
            if (!dup) return Reply::err(errno);
            return Reply::inject(std::move(dup), true);
        }
        case u::GET_STATS_FD: {
            auto fd = vm.open_stats(caller);
            if (!fd) return Reply::err(fd.error());
            return Reply::inject(std::move(*fd), true);
        }
        default: return Reply::cont();  // served over CUSE
    }
}

}  // namespace kvmemu::daemon
