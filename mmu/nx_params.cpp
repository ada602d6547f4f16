// NxParams: module parameter writes and reads, errno for errno with KVM's mmu.c.
#include "mmu/nx_params.hpp"

#include <cerrno>

#include "mmu/kstrto.hpp"
#include "mmu/nx_recovery.hpp"

namespace kvmemu::mmu {

NxParams::NxParams(bool auto_mitigate)
    : auto_mitigate_(auto_mitigate), nx_huge_pages_(auto_mitigate) {}

// Mirrors set_nx_huge_pages() in arch/x86/kvm/mmu/mmu.c:
//  - nx_hugepage_mitigation_hard_disabled ("never" was set)   -> -EPERM, checked before parsing;
//  - "off" / "force" / "auto" (get_nx_auto_mode(): X86_BUG_ITLB_MULTIHIT &&
//  !cpu_mitigations_off());
//  - "never": -EBUSY if vm_list is not empty, else off and hard-disabled for good;
//  - otherwise kstrtobool(), whose failure is -EINVAL;
//  - if the value changed, every VM is zapped (kvm_mmu_zap_all_fast) and its recovery woken.
Expected<bool> NxParams::set_nx_huge_pages(std::string_view value, bool vms_exist) {
    if (hard_disabled_) return Errno{EPERM};
    bool new_val;
    if (sysfs_streq(value, "off")) {
        new_val = false;
    } else if (sysfs_streq(value, "force")) {
        new_val = true;
    } else if (sysfs_streq(value, "auto")) {
        new_val = auto_mitigate_;
    } else if (sysfs_streq(value, "never")) {
        if (vms_exist) return Errno{EBUSY};
        new_val = false;
        hard_disabled_ = true;
    } else {
        auto b = kstrtobool(value);
        if (!b) return Errno{EINVAL};
        new_val = *b;
    }
    const bool changed = new_val != nx_huge_pages_;
    nx_huge_pages_ = new_val;
    return changed;
}

// Mirrors set_nx_huge_pages_recovery_param(): -EPERM once hard-disabled, then param_set_uint()
// (kstrtouint(val, 0): -EINVAL on junk, -ERANGE past UINT_MAX); wake the workers when recovery
// becomes enabled or its period shrinks.
Expected<bool> NxParams::set_recovery_param(std::string_view value, unsigned& param) {
    if (hard_disabled_) return Errno{EPERM};
    const auto old_period = recovery_period_ms();
    auto v = kstrtouint(value);
    if (!v) return Errno{v.error()};
    param = *v;
    const auto new_period = recovery_period_ms();
    return new_period.has_value() && (!old_period.has_value() || *old_period > *new_period);
}

Expected<bool> NxParams::set_recovery_ratio(std::string_view value) {
    return set_recovery_param(value, ratio_);
}

Expected<bool> NxParams::set_recovery_period_ms(std::string_view value) {
    return set_recovery_param(value, period_ms_);
}

// get_nx_huge_pages(): "never" once hard-disabled, else param_get_bool()'s Y/N.
std::string NxParams::show_nx_huge_pages() const {
    if (hard_disabled_) return "never\n";
    return nx_huge_pages_ ? "Y\n" : "N\n";
}

std::string NxParams::show_recovery_ratio() const {
    return std::to_string(ratio_) + "\n";
}
std::string NxParams::show_recovery_period_ms() const {
    return std::to_string(period_ms_) + "\n";
}

std::optional<std::uint32_t> NxParams::recovery_period_ms() const {
    return nx_recovery_period_ms(nx_huge_pages_, ratio_, period_ms_);
}

}  // namespace kvmemu::mmu
