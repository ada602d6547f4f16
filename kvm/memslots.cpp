// Memslots::apply(): the checks of kvm_vm_ioctl_set_memory_region() and
// __kvm_set_memory_region() in virt/kvm/kvm_main.c, in the kernel's order.
#include "kvm/memslots.hpp"

#include <cerrno>

#include "uapi/caps.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

namespace {
constexpr std::uint64_t kPageSize = 4096;
constexpr std::uint64_t kPageShift = 12;
// x86-64 TASK_SIZE_MAX with 4-level paging: the end of user space (access_ok()).
constexpr std::uint64_t kTaskSizeMax = (1ULL << 47) - kPageSize;
constexpr std::uint64_t kMemMaxNrPages = (1ULL << 31) - 1;
constexpr std::uint32_t kV1Flags = u::MEM_LOG_DIRTY_PAGES | u::MEM_READONLY;
// check_memory_region_flags(): a default x86 VM has no private memory, so no GUEST_MEMFD.
constexpr std::uint32_t kValidFlags = u::MEM_LOG_DIRTY_PAGES | u::MEM_READONLY;
}  // namespace

int Memslots::apply(const u::kvm_userspace_memory_region2& mem, bool v1, MemslotUpdate& out) {
    out = {};
    if (v1 && (mem.flags & ~kV1Flags) != 0) return EINVAL;
    if (static_cast<std::uint16_t>(mem.slot) >= u::USER_MEM_SLOTS) return EINVAL;
    if ((mem.flags & ~kValidFlags) != 0) return EINVAL;

    const std::uint32_t as_id = mem.slot >> 16;
    const std::uint32_t id = static_cast<std::uint16_t>(mem.slot);
    if ((mem.memory_size & (kPageSize - 1)) != 0) return EINVAL;
    if ((mem.guest_phys_addr & (kPageSize - 1)) != 0) return EINVAL;
    if ((mem.userspace_addr & (kPageSize - 1)) != 0 || mem.userspace_addr > kTaskSizeMax ||
        mem.memory_size > kTaskSizeMax - mem.userspace_addr)
        return EINVAL;
    if (as_id >= u::ADDRESS_SPACE_NUM) return EINVAL;
    if (mem.guest_phys_addr + mem.memory_size < mem.guest_phys_addr) return EINVAL;
    if ((mem.memory_size >> kPageShift) > kMemMaxNrPages) return EINVAL;

    const auto it = slots_.find(id);
    const Memslot* old = it == slots_.end() ? nullptr : &it->second;

    if (mem.memory_size == 0) {
        if (old == nullptr || old->npages == 0) return EINVAL;
        out.change = MemslotChange::Delete;
        out.old_slot = *old;
        slots_.erase(it);
        return 0;
    }

    const std::uint64_t base_gfn = mem.guest_phys_addr >> kPageShift;
    const std::uint64_t npages = mem.memory_size >> kPageShift;
    MemslotChange change = MemslotChange::Create;
    if (old != nullptr) {
        if (mem.userspace_addr != old->userspace_addr || npages != old->npages ||
            ((mem.flags ^ old->flags) & u::MEM_READONLY) != 0)
            return EINVAL;
        if (base_gfn != old->base_gfn) change = MemslotChange::Move;
        else if (mem.flags != old->flags) change = MemslotChange::FlagsOnly;
        else return 0;  // nothing to change
    }

    if (change == MemslotChange::Create || change == MemslotChange::Move) {
        for (const auto& [other_id, s] : slots_) {
            if (other_id == id) continue;
            if (base_gfn < s.base_gfn + s.npages && s.base_gfn < base_gfn + npages) return EEXIST;
        }
    }

    Memslot next{id, mem.flags, base_gfn, npages, mem.userspace_addr};
    out.change = change;
    if (old != nullptr) out.old_slot = *old;
    out.new_slot = next;
    slots_[id] = next;
    return 0;
}

const Memslot* Memslots::find_by_gfn(std::uint64_t gfn) const {
    for (const auto& [id, s] : slots_)
        if (gfn >= s.base_gfn && gfn < s.base_gfn + s.npages) return &s;
    return nullptr;
}

}  // namespace kvmemu::kvm
