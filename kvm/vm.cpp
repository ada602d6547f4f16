// Vm: VM-fd ioctls of virt/kvm/kvm_main.c and arch/x86/kvm/x86.c, in the kernel's check order.
#include "kvm/vm.hpp"

#include <algorithm>
#include <cerrno>

#include "cpu/engine.hpp"
#include "kvm/extensions.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

Expected<std::shared_ptr<Vm>> Vm::create(std::uint64_t id, pid_t owner_tgid, const Config& config,
                                         NxPermission nx_permission,
                                         std::unique_ptr<mmu::HostMappingOracle> host,
                                         bool nx_huge_pages, GuestPagesFactory guest_pages,
                                         RunAreaFactory run_areas) {
    auto stats = StatsFile::create_vm("kvm-" + std::to_string(owner_tgid));
    if (!stats) return Errno{stats.error()};
    return std::make_shared<Vm>(Key{}, id, owner_tgid, config, std::move(nx_permission),
                                std::move(*stats), std::move(host), nx_huge_pages,
                                std::move(guest_pages), std::move(run_areas));
}

Vm::Vm(Key /*key*/, std::uint64_t id, pid_t owner, const Config& config, NxPermission nx_permission,
       StatsFile stats, std::unique_ptr<mmu::HostMappingOracle> host, bool nx_huge_pages,
       GuestPagesFactory guest_pages, RunAreaFactory run_areas)
    : id_(id), owner_(owner), config_(config), nx_permission_(std::move(nx_permission)),
      guest_pages_(std::move(guest_pages)), run_areas_(std::move(run_areas)), stats_(std::move(stats)), host_(std::move(host)), mmu_(*host_, nx_huge_pages) {
    stats_.publish_obj(mmu_.stats());
}

long Vm::ioctl(const Caller& caller, std::uint32_t cmd, std::uint64_t arg, UserIo& io) {
    // kvm_vm_ioctl(): a VM serves only the process that created it.
    if (caller.tgid != owner_) return -EIO;
    switch (cmd) {
        case u::CHECK_EXTENSION: return check_extension(arg, Scope::Vm, config_);
        case u::ENABLE_CAP: return enable_cap(caller, arg, io);
        case u::SET_USER_MEMORY_REGION: return set_memory_region(arg, io, true);
        case u::SET_USER_MEMORY_REGION2: return set_memory_region(arg, io, false);
        case u::SET_TSS_ADDR:
            // kvm_vm_ioctl_set_tss_addr(): the address must leave room for three pages below 4G.
            // The software vCPU needs no real-mode TSS; the value is only kept.
            if (arg > 0xffffffffULL - 3 * 4096 + 1) return -EINVAL;
            {
                const std::lock_guard lock(mu_);
                tss_addr_ = arg;
            }
            return 0;
        case u::SET_IDENTITY_MAP_ADDR: {
            auto addr = io.read_obj<std::uint64_t>(arg);
            if (!addr) return -addr.error();
            const std::lock_guard lock(mu_);
            if (created_vcpus_ != 0) return -EINVAL;  // only before vCPUs exist
            identity_map_addr_ = *addr;
            return 0;
        }
        case u::SET_NR_MMU_PAGES:
            // kvm_vm_ioctl_set_nr_mmu_pages(): at least KVM_MIN_ALLOC_MMU_PAGES. The limit bounds
            // shadow-paging pages only; the TDP MMU modelled here has none, so it is only kept.
            if (arg < kMinAllocMmuPages) return -EINVAL;
            {
                const std::lock_guard lock(mu_);
                nr_mmu_pages_ = arg;
            }
            return 0;
        case u::CREATE_IRQCHIP: {
            // kvm_arch_vm_ioctl(KVM_CREATE_IRQCHIP): once, and before any vCPU.
            const std::lock_guard lock(mu_);
            if (irqchip_) return -EEXIST;
            if (created_vcpus_ != 0) return -EINVAL;
            irqchip_ = true;
            return 0;
        }
        case u::GET_TSC_KHZ: return cpu::kDefaultTscKhz;  // kvm->arch.default_tsc_khz
        case u::CREATE_VCPU:
        case u::GET_STATS_FD:
            // These return fds, which only the supervisor can install (see fds.md).
            return -EOPNOTSUPP;
        default: return -ENOTTY;  // kvm_arch_vm_ioctl(): unknown requests are ENOTTY
    }
}

long Vm::enable_cap(const Caller& caller, std::uint64_t arg, UserIo& io) {
    auto cap = io.read_obj<u::kvm_enable_cap>(arg);
    if (!cap) return -cap.error();
    // kvm_vm_ioctl_enable_cap() (x86): flags are refused before any capability is looked at.
    if (cap->flags != 0) return -EINVAL;
    if (cap->cap == u::CAP_MAX_VCPU_ID) return enable_max_vcpu_id(cap->args[0]);
    if (!is_disable_nx_cap(cap->cap, config_)) return -EINVAL;

    // KVM_CAP_VM_DISABLE_NX_HUGE_PAGES: capable(CAP_SYS_BOOT) first (initial user namespace),
    // then args[0] must be 0, then no vCPU may exist (checked under kvm->lock). Repeatable.
    if (nx_permission_(caller.tid) != 0) return -EPERM;
    if (cap->args[0] != 0) return -EINVAL;
    const std::lock_guard lock(mu_);
    if (created_vcpus_ != 0) return -EINVAL;
    mmu_.disable_nx_huge_pages();
    return 0;
}

long Vm::enable_max_vcpu_id(std::uint64_t max_ids) {
    // KVM_CAP_MAX_VCPU_ID: at most KVM_MAX_VCPU_IDS; settable once (the first vCPU fixes it at
    // KVM_MAX_VCPU_IDS); setting the value it already has succeeds.
    if (max_ids > u::MAX_VCPU_IDS) return -EINVAL;
    const std::lock_guard lock(mu_);
    if (max_vcpu_ids_ == max_ids) return 0;
    if (max_vcpu_ids_ != 0) return -EINVAL;
    max_vcpu_ids_ = max_ids;
    return 0;
}

long Vm::set_memory_region(std::uint64_t arg, UserIo& io, bool v1) {
    u::kvm_userspace_memory_region2 mem{};
    const std::size_t size = v1 ? sizeof(u::kvm_userspace_memory_region) : sizeof(mem);
    if (int e = io.read(arg, std::as_writable_bytes(std::span(&mem, 1)).first(size)); e != 0)
        return -e;
    const std::lock_guard lock(mu_);
    MemslotUpdate update;
    if (int e = memslots_.apply(mem, v1, update); e != 0) return -e;
    const int e = apply_to_mmu_locked(update);
    publish_stats_locked();
    return -e;
}

int Vm::apply_to_mmu_locked(const MemslotUpdate& update) {
    const auto to_mmu = [](const Memslot& s) {
        return mmu::Memslot{s.id, s.base_gfn, s.npages, s.userspace_addr, s.flags};
    };
    Expected<mmu::Memslot> r = mmu::Memslot{};
    switch (update.change) {
        case MemslotChange::Create: r = mmu_.create_memslot(to_mmu(*update.new_slot)); break;
        case MemslotChange::Delete: r = mmu_.delete_memslot(update.old_slot->id); break;
        case MemslotChange::Move:
            r = mmu_.move_memslot(update.new_slot->id, update.new_slot->base_gfn);
            break;
        case MemslotChange::FlagsOnly:
            r = mmu_.set_memslot_flags(update.new_slot->id, update.new_slot->flags);
            break;
        case MemslotChange::None: break;
    }
    // The MMU's slot set mirrors the validated one; a refusal here is a bug, reported as EIO.
    return r ? 0 : EIO;
}

long Vm::pre_fault_memory(std::uint64_t arg, UserIo& io) {
    // kvm_vcpu_pre_fault_memory() + kvm_arch_vcpu_pre_fault_memory(): read faults through the
    // TDP MMU, each advancing by what the installed leaf covers; the leftover range is written
    // back; success if anything was mapped.
    auto range = io.read_obj<uapi::kvm_pre_fault_memory>(arg);
    if (!range) return -range.error();
    long r = 0;
    if (range->flags != 0) {
        r = -EINVAL;
    } else if ((range->gpa & 0xfff) != 0 || (range->size & 0xfff) != 0 ||
               range->gpa + range->size <= range->gpa) {
        r = -EINVAL;
    } else {
        const std::lock_guard lock(mu_);
        const std::uint64_t full_size = range->size;
        while (range->size != 0) {
            const auto f = mmu_.fault(range->gpa, mmu::Access::Read);
            if (!f.mapped()) {
                r = -ENOENT;  // RET_PF_EMULATE: no memslot (MMIO)
                break;
            }
            const std::uint64_t leaf = mmu::pages_per_spte(f.level) << mmu::kPageShift;
            const std::uint64_t end = (range->gpa & ~(leaf - 1)) + leaf;
            const std::uint64_t step = std::min(range->size, end - range->gpa);
            range->size -= step;
            range->gpa += step;
        }
        if (range->size != full_size) r = 0;
        publish_stats_locked();
    }
    if (int e = io.write_obj(arg, *range); e != 0) return -e;
    return r;
}

Expected<std::shared_ptr<Vcpu>> Vm::create_vcpu(const Caller& caller, std::uint64_t vcpu_id) {
    if (caller.tgid != owner_) return Errno{EIO};
    // kvm_vm_ioctl_create_vcpu()
    if (vcpu_id >= u::MAX_VCPU_IDS) return Errno{EINVAL};
    const std::lock_guard lock(mu_);
    if (created_vcpus_ >= u::MAX_VCPUS) return Errno{EINVAL};
    // kvm_arch_vcpu_precreate(): the KVM_CAP_MAX_VCPU_ID limit, fixed from here on.
    if (max_vcpu_ids_ != 0 && vcpu_id >= max_vcpu_ids_) return Errno{EINVAL};
    if (max_vcpu_ids_ == 0) max_vcpu_ids_ = u::MAX_VCPU_IDS;
    for (const auto& v : vcpus_)
        if (v->id() == vcpu_id) return Errno{EEXIST};
    auto vcpu = Vcpu::create(static_cast<std::uint32_t>(vcpu_id), owner_,
                             guest_pages_ ? guest_pages_(owner_) : nullptr, irqchip_, run_areas_);
    if (!vcpu) return Errno{vcpu.error()};
    std::shared_ptr<Vcpu> shared = std::move(*vcpu);
    vcpus_.push_back(shared);
    ++created_vcpus_;
    return shared;
}

Expected<UniqueFd> Vm::open_stats(const Caller& caller) {
    if (caller.tgid != owner_) return Errno{EIO};
    const std::lock_guard lock(mu_);
    return stats_.open_reader();
}

Expected<UniqueFd> Vm::open_vcpu_stats(const Vcpu& vcpu, const Caller& caller) const {
    if (caller.tgid != owner_) return Errno{EIO};
    return vcpu.open_stats();
}

long Vm::vcpu_ioctl(Vcpu& vcpu, const Caller& caller, std::uint32_t cmd, std::uint64_t arg,
                    UserIo& io) {
    // kvm_vcpu_ioctl(): only the VM's own process may use its vCPUs.
    if (caller.tgid != owner_) return -EIO;
    if (cmd == uapi::PRE_FAULT_MEMORY) return pre_fault_memory(arg, io);
    if (cmd == uapi::RUN) return vcpu.run(*this, caller);
    return vcpu.ioctl(caller, cmd, arg, io);
}

std::optional<long> Vm::try_vcpu_ioctl(Vcpu& vcpu, const Caller& caller, std::uint32_t cmd,
                                       std::uint64_t arg, UserIo& io) {
    if (caller.tgid != owner_) return -EIO;
    // Both may wait long (the VM's lock; a guest run): never tried in place.
    if (cmd == uapi::PRE_FAULT_MEMORY || cmd == uapi::RUN) return std::nullopt;
    return vcpu.try_ioctl(caller, cmd, arg, io);
}

bool Vm::nx_huge_pages_disabled() const {
    const std::lock_guard lock(mu_);
    return mmu_.nx_huge_pages_disabled_by_cap();
}

bool Vm::nx_mitigation_active() const {
    const std::lock_guard lock(mu_);
    return mmu_.nx_mitigation_active();
}

void Vm::set_nx_huge_pages(bool on) {
    const std::lock_guard lock(mu_);
    mmu_.set_nx_huge_pages(on);
    publish_stats_locked();
}

std::size_t Vm::recover_nx_splits(unsigned ratio) {
    const std::lock_guard lock(mu_);
    const std::size_t n = mmu_.recover_nx_splits(ratio);
    publish_stats_locked();
    return n;
}

mmu::FaultResult Vm::fault(std::uint64_t gpa, mmu::Access access) {
    const std::lock_guard lock(mu_);
    auto r = mmu_.fault(gpa, access);
    publish_stats_locked();
    return r;
}

std::optional<std::uint64_t> Vm::gpa_to_hva(std::uint64_t gpa) const {
    const std::lock_guard lock(mu_);
    return mmu_.gpa_to_hva(gpa);
}

std::optional<mmu::LeafInfo> Vm::lookup(std::uint64_t gpa) const {
    const std::lock_guard lock(mu_);
    return mmu_.lookup(gpa);
}

std::size_t Vm::vcpu_count() const {
    const std::lock_guard lock(mu_);
    return vcpus_.size();
}

std::vector<Memslot> Vm::memslots() const {
    const std::lock_guard lock(mu_);
    std::vector<Memslot> out;
    for (const auto& [id, s] : memslots_.all()) out.push_back(s);
    return out;
}

VmStatsData Vm::stats() const {
    const std::lock_guard lock(mu_);
    return mmu_.stats();
}

std::vector<int> Vm::held_files() const {
    const std::lock_guard lock(mu_);
    std::vector<int> out{stats_.fd()};
    for (const auto& v : vcpus_) {
        out.push_back(v->run_fd());
        out.push_back(v->stats_memfd());
    }
    return out;
}

void Vm::publish_stats_locked() { stats_.publish_obj(mmu_.stats()); }

}  // namespace kvmemu::kvm
