// System: kvm_dev_ioctl() and kvm_arch_dev_ioctl() (x86), and the VM/vCPU registry.
#include "kvm/system.hpp"

#include <cerrno>
#include <span>

#include "cpu/engine.hpp"
#include "kvm/cpu_model.hpp"
#include "kvm/extensions.hpp"
#include "kvm/feature_msrs.hpp"
#include "kvm/msr_io.hpp"
#include "uapi/ioctls.hpp"
#include "uapi/kvm_run.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

System::System(Config config, NxPermission nx_permission, mmu::NxParams params,
               HostOracleFactory host_oracles, GuestPagesFactory guest_pages)
    : config_(config), nx_permission_(std::move(nx_permission)),
      host_oracles_(std::move(host_oracles)), guest_pages_(std::move(guest_pages)),
      params_(params) {}

std::unique_ptr<mmu::HostMappingOracle> System::make_host_oracle(pid_t owner) const {
    if (host_oracles_) return host_oracles_(owner);
    switch (config_.host_mapping_level) {
        case HostMappingLevel::k2M: return std::make_unique<mmu::FixedHostLevel>(mmu::Level::k2M);
        case HostMappingLevel::k1G: return std::make_unique<mmu::FixedHostLevel>(mmu::Level::k1G);
        case HostMappingLevel::Detect:  // without a detector nothing is known to be huge
        case HostMappingLevel::k4K: break;
    }
    return std::make_unique<mmu::FixedHostLevel>(mmu::Level::k4K);
}

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

// KVM_GET_MSR_INDEX_LIST and KVM_GET_MSR_FEATURE_INDEX_LIST: the count is written back first,
// then E2BIG if the caller's array is too small, else the indices.
long get_msr_list(std::uint64_t arg, UserIo& io, std::span<const std::uint32_t> msrs) {
    auto hdr = io.read_obj<u::kvm_msr_list>(arg);
    if (!hdr) return -hdr.error();
    const u::kvm_msr_list out{static_cast<std::uint32_t>(msrs.size())};
    if (int e = io.write_obj(arg, out); e != 0) return -e;
    if (hdr->nmsrs < msrs.size()) return -E2BIG;
    return -io.write(arg + sizeof(u::kvm_msr_list), std::as_bytes(msrs));
}

// KVM_GET_MSRS on the system fd: msr_io() with do_get_feature_msr(), i.e. header (EFAULT),
// nmsrs >= MAX_IO_MSRS (E2BIG), entries (EFAULT), then in order until an MSR is not a feature
// MSR; the entries are copied back and the count processed returned.
long get_feature_msrs(std::uint64_t arg, UserIo& io) {
    return msr_io(arg, io, true, [](u::kvm_msr_entry& e) {
        const auto v = feature_msr(e.index);
        if (v) e.data = *v;
        return v.has_value();
    });
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
        case u::GET_SUPPORTED_CPUID:
        // Everything the software vCPU does is emulated: both lists are the same.
        case u::GET_EMULATED_CPUID: return get_supported_cpuid(arg, io);
        case u::GET_MSR_INDEX_LIST: return get_msr_list(arg, io, cpu::Engine::msr_list());
        case u::GET_MSR_FEATURE_INDEX_LIST: return get_msr_list(arg, io, feature_msr_list());
        case u::GET_MSRS: return get_feature_msrs(arg, io);
        case u::CREATE_VM:
            // Only the supervisor can hand out the VM fd (fds.md); over plain CUSE this fails
            // (after the type check the kernel makes first).
            if (arg != 0) return -EINVAL;
            return -EOPNOTSUPP;
        default: return -EINVAL;  // kvm_arch_dev_ioctl(): unknown requests are EINVAL
    }
}

Expected<std::shared_ptr<Vm>> System::create_vm(const Caller& caller, std::uint64_t type) {
    if (type != 0) return Errno{EINVAL};  // only KVM_X86_DEFAULT_VM
    if (caller.tgid <= 0) return Errno{EINVAL};
    auto host = make_host_oracle(caller.tgid);
    std::function<void(const std::shared_ptr<Vm>&)> hook;
    Expected<std::shared_ptr<Vm>> vm = Errno{ENOMEM};
    {
        const std::lock_guard lock(mu_);
        const std::uint64_t id = next_vm_id_++;
        vm = Vm::create(id, caller.tgid, config_, nx_permission_, std::move(host),
                        params_.nx_huge_pages(), guest_pages_, run_areas_);
        if (!vm) return vm;
        vms_[id] = *vm;
        hook = on_vm_created_;
    }
    if (hook) hook(*vm);
    return vm;
}

void System::destroy_vm(std::uint64_t vm_id) {
    std::shared_ptr<Vm> doomed;  // destroyed outside the lock
    std::function<void(std::uint64_t)> hook;
    {
        const std::lock_guard lock(mu_);
        const auto it = vms_.find(vm_id);
        if (it == vms_.end()) return;
        doomed = std::move(it->second);
        vms_.erase(it);
        std::erase_if(vcpus_, [&](const auto& kv) { return kv.second.first == vm_id; });
        hook = on_vm_destroyed_;
    }
    if (hook) hook(vm_id);
}

void System::set_vm_hooks(std::function<void(const std::shared_ptr<Vm>&)> created,
                          std::function<void(std::uint64_t)> destroyed) {
    const std::lock_guard lock(mu_);
    on_vm_created_ = std::move(created);
    on_vm_destroyed_ = std::move(destroyed);
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
    if (::fstat((*vcpu)->run_fd(), &st) != 0) return Errno{errno};
    const std::lock_guard lock(mu_);
    vcpus_[VcpuKey{st.st_dev, st.st_ino}] = {vm.id(), *vcpu};
    return vcpu;
}

void System::set_run_area_factory(RunAreaFactory f) {
    const std::lock_guard lock(mu_);
    run_areas_ = std::move(f);
}

System::VcpuRef System::find_vcpu(dev_t dev, ino_t ino) const {
    const std::lock_guard lock(mu_);
    const auto it = vcpus_.find(VcpuKey{dev, ino});
    if (it == vcpus_.end()) return {};
    const auto vm = vms_.find(it->second.first);
    if (vm == vms_.end()) return {};
    return {vm->second, it->second.second.lock()};
}

namespace {
constexpr std::string_view kNxHugePages = "nx_huge_pages";
constexpr std::string_view kRecoveryRatio = "nx_huge_pages_recovery_ratio";
constexpr std::string_view kRecoveryPeriod = "nx_huge_pages_recovery_period_ms";
}  // namespace

bool System::is_param(std::string_view name) {
    return name == kNxHugePages || name == kRecoveryRatio || name == kRecoveryPeriod;
}

Expected<std::string> System::read_param(std::string_view name) const {
    const std::lock_guard lock(mu_);
    if (name == kNxHugePages) return params_.show_nx_huge_pages();
    if (name == kRecoveryRatio) return params_.show_recovery_ratio();
    if (name == kRecoveryPeriod) return params_.show_recovery_period_ms();
    return Errno{ENOENT};
}

int System::write_param(std::string_view name, std::string_view value) {
    std::function<void()> wake;
    {
        const std::lock_guard lock(mu_);
        Expected<bool> r = false;
        if (name == kNxHugePages) {
            r = params_.set_nx_huge_pages(value, !vms_.empty());
            // set_nx_huge_pages(): every VM is zapped when the policy changes.
            if (r && *r)
                for (const auto& [id, vm] : vms_) vm->set_nx_huge_pages(params_.nx_huge_pages());
        } else if (name == kRecoveryRatio) {
            r = params_.set_recovery_ratio(value);
        } else if (name == kRecoveryPeriod) {
            r = params_.set_recovery_period_ms(value);
        } else {
            return ENOENT;
        }
        if (!r) return r.error();
        wake = on_recovery_change_;
    }
    if (wake) wake();
    return 0;
}

unsigned System::recovery_ratio() const {
    const std::lock_guard lock(mu_);
    return params_.recovery_ratio();
}

std::optional<std::uint32_t> System::recovery_period_ms() const {
    const std::lock_guard lock(mu_);
    return params_.recovery_period_ms();
}

void System::kick_thread(pid_t tid) {
    const std::lock_guard lock(mu_);
    for (const auto& [key, entry] : vcpus_)
        if (auto v = entry.second.lock(); v && v->kick_if_running(tid)) return;
}

void System::set_on_recovery_change(std::function<void()> f) {
    const std::lock_guard lock(mu_);
    on_recovery_change_ = std::move(f);
}

}  // namespace kvmemu::kvm
