// The kvm module parameters nx_huge_pages, nx_huge_pages_recovery_ratio and
// nx_huge_pages_recovery_period_ms with the kernel's parsing, errnos and read-back format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace kvmemu::mmu {

class NxParams {
  public:
    // `auto_mitigate`: the CPU has the iTLB-multihit bug and mitigations are on (the daemon reads
    // /sys/devices/system/cpu/vulnerabilities/itlb_multihit). The initial value is "auto", as
    // KVM's default nx_huge_pages=-1 resolved at module init.
    explicit NxParams(bool auto_mitigate);

    // Write to nx_huge_pages. Returns whether the effective policy changed; when true the caller
    // zaps every VM's SPTEs (Mmu::set_nx_huge_pages does it) and wakes recovery.
    // `vms_exist`: some VM exists now ("never" is refused then).
    Expected<bool> set_nx_huge_pages(std::string_view value, bool vms_exist);
    // Writes to the recovery parameters. Returns whether recovery workers should be woken
    // (recovery became enabled, or its period became shorter), as KVM does.
    Expected<bool> set_recovery_ratio(std::string_view value);
    Expected<bool> set_recovery_period_ms(std::string_view value);

    // What reading the sysfs file returns: "Y\n", "N\n" or "never\n"; "%u\n" for the others.
    std::string show_nx_huge_pages() const;
    std::string show_recovery_ratio() const;
    std::string show_recovery_period_ms() const;

    bool nx_huge_pages() const { return nx_huge_pages_; }
    bool hard_disabled() const { return hard_disabled_; }
    unsigned recovery_ratio() const { return ratio_; }
    unsigned recovery_period_param_ms() const { return period_ms_; }
    // Effective period, nullopt when recovery is disabled.
    std::optional<std::uint32_t> recovery_period_ms() const;

    bool auto_mitigate() const { return auto_mitigate_; }
    void set_auto_mitigate(bool v) { auto_mitigate_ = v; }

  private:
    Expected<bool> set_recovery_param(std::string_view value, unsigned& param);

    bool auto_mitigate_;
    bool nx_huge_pages_;
    bool hard_disabled_ = false;
    unsigned ratio_ = 60;     // KVM default (0 under PREEMPT_RT)
    unsigned period_ms_ = 0;  // KVM default: derive from the ratio
};

}  // namespace kvmemu::mmu
