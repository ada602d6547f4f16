// ProcessGuestPages: kvm::GuestPages over the VMM's real process (guestmem's pidfd-guarded
// process access and per-vCPU page cache).
#pragma once

#include <sys/types.h>

#include <memory>

#include "kvm/guest_pages.hpp"

namespace kvmemu::daemon {

// The GuestPages of one vCPU of a VM owned by process `owner`. If the process cannot be opened,
// every access fails with its errno (KVM_RUN then returns -EFAULT).
std::unique_ptr<kvm::GuestPages> make_process_guest_pages(pid_t owner);

}  // namespace kvmemu::daemon
