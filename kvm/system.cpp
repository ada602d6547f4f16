// System: kvm_dev_ioctl() and kvm_arch_dev_ioctl() (x86), and the VM/vCPU registry.
#include "kvm/system.hpp"

#include <cerrno>

#include "kvm/cpu_model.hpp"
#include "kvm/extensions.hpp"
#include "uapi/ioctls.hpp"
#include "uapi/kvm_run.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

System::System(Config config, NxPermission nx_permission)
    : config_(config), nx_permission_(std::move(nx_permission)) {}

namespace {

// KVM_GET_SUPPORTED_CPUID: nent < 1 or too small -> E2BIG with nothing written back.
long get_supported_cpuid(std::uint64_t arg, UserIo& io) {
    auto hdr = io.read_obj<u::kvm_cpuid2>(arg);
    if (!hdr) return -hdr.error();
    const auto entries = supported_cpuid();
    if (hdr->nent < 1 || hdr->nent < entries.size()) return -E2BIG;
    if (int e = io.write(arg + sizeof(u::kvm_cpuid2), std::as_bytes(entries)); e != 0) return -e;
    u::kvm_cpuid2 out = *hdr;
    out.nent = static_cast<std::uint32_t>(entries.size());
    return -io.write_obj(arg, out);
}

// KVM_GET_MSR_INDEX_LIST: the count is written back first, then E2BIG if it did not fit.
long get_msr_index_list(std::uint64_t arg, UserIo& io) {
    auto hdr = io.read_obj<u::kvm_msr_list>(arg);
    if (!hdr) return -hdr.error();
    const auto msrs = msr_index_list();
    const u::kvm_msr_list out{static_cast<std::uint32_t>(msrs.size())};
    if (int e = io.write_obj(arg, out); e != 0) return -e;
    if (hdr->nmsrs < msrs.size()) return -E2BIG;
    return -io.write(arg + sizeof(u::kvm_msr_list), std::as_bytes(msrs));
}

}  // namespace

long System::ioctl(const Caller& /*caller*/, std::uint32_t cmd, std::uint64_t arg, UserIo& io) {
    switch (cmd) {
        case u::GET_API_VERSION:
            if (arg != 0) return -EINVAL;
            return u::API_VERSION;
        case u::CHECK_EXTENSION: return check_extension(arg, Scope::System, config_);
        case u::GET_VCPU_MMAP_SIZE:
            if (arg != 0) return -EINVAL;
            return static_cast<long>(u::VCPU_MMAP_SIZE);
        case u::GET_SUPPORTED_CPUID: return get_supported_cpuid(arg, io);
        case u::GET_MSR_INDEX_LIST: return get_msr_index_list(arg, io);
        case u::CREATE_VM:
            // Only the supervisor can hand out the VM fd (fds.md); over plain CUSE this fails.
            return -EOPNOTSUPP;
        default: return -EINVAL;  // kvm_arch_dev_ioctl(): unknown requests are EINVAL
    }
}

Expected<std::shared_ptr<Vm>> System::create_vm(const Caller& caller, std::uint64_t type) {
    if (type != 0) return Errno{EINVAL};  // only KVM_X86_DEFAULT_VM
    if (caller.tgid <= 0) return Errno{EINVAL};
    const std::lock_guard lock(mu_);
    const std::uint64_t id = next_vm_id_++;
    auto vm = Vm::create(id, caller.tgid, config_, nx_permission_);
    if (!vm) return vm;
    vms_[id] = *vm;
    return vm;
}

void System::destroy_vm(std::uint64_t vm_id) {
    std::shared_ptr<Vm> doomed;  // destroyed outside the lock
    const std::lock_guard lock(mu_);
    const auto it = vms_.find(vm_id);
    if (it == vms_.end()) return;
    doomed = std::move(it->second);
    vms_.erase(it);
    std::erase_if(vcpus_, [&](const auto& kv) { return kv.second.first == vm_id; });
}

void System::destroy_vms_of(pid_t tgid) {
    std::vector<std::uint64_t> ids;
    {
        const std::lock_guard lock(mu_);
        for (const auto& [id, vm] : vms_)
            if (vm->owner() == tgid) ids.push_back(id);
    }
    for (auto id : ids) destroy_vm(id);
}

std::shared_ptr<Vm> System::find_vm(std::uint64_t vm_id) const {
    const std::lock_guard lock(mu_);
    const auto it = vms_.find(vm_id);
    return it == vms_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Vm>> System::vms() const {
    const std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Vm>> out;
    for (const auto& [id, vm] : vms_) out.push_back(vm);
    return out;
}

Expected<std::shared_ptr<Vcpu>> System::create_vcpu(Vm& vm, const Caller& caller, std::uint64_t id) {
    auto vcpu = vm.create_vcpu(caller, id);
    if (!vcpu) return vcpu;
    struct stat st {};
    if (::fstat((*vcpu)->memfd(), &st) != 0) return Errno{errno};
    const std::lock_guard lock(mu_);
    vcpus_[VcpuKey{st.st_dev, st.st_ino}] = {vm.id(), *vcpu};
    return vcpu;
}

System::VcpuRef System::find_vcpu(dev_t dev, ino_t ino) const {
    const std::lock_guard lock(mu_);
    const auto it = vcpus_.find(VcpuKey{dev, ino});
    if (it == vcpus_.end()) return {};
    const auto vm = vms_.find(it->second.first);
    if (vm == vms_.end()) return {};
    return {vm->second, it->second.second.lock()};
}

}  // namespace kvmemu::kvm
