// ClientProcess: a pidfd-guarded handle on the client process (the VMM whose address space holds
// guest memory), so that nothing done through it reaches a stranger that reuses its pid.
#pragma once

#include <sys/types.h>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::guestmem {

class ClientProcess {
public:
    // pidfd_open(tgid): ESRCH if no such process, EINVAL if tgid is not a thread-group leader.
    static Expected<ClientProcess> open(pid_t tgid);
    // Takes over a pidfd the caller already holds (e.g. the supervisor's caller registry); EINVAL
    // unless it refers to `tgid` (checked through /proc/self/fdinfo), ESRCH if it has exited.
    static Expected<ClientProcess> adopt(UniqueFd pidfd, pid_t tgid);
    // A second handle on the same process (the pidfd is duplicated, not reopened by number).
    [[nodiscard]] Expected<ClientProcess> dup() const;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }

    // True once the process has exited (its pidfd polls readable; zombies included). While this
    // is false, pid() names this process and no other, so a syscall that took pid() and is
    // followed by exited() == false reached the right process.
    [[nodiscard]] bool exited() const noexcept;

    // A /proc/<pid> directory fd bound to this process: files opened through it (smaps,
    // pagemap) belong to it even after pid reuse. ESRCH if the process already exited.
    [[nodiscard]] Expected<UniqueFd> open_proc_dir() const;

private:
    ClientProcess(UniqueFd pidfd, pid_t pid) : pidfd_(std::move(pidfd)), pid_(pid) {}

    UniqueFd pidfd_;
    pid_t pid_;
};

}  // namespace kvmemu::guestmem
