// CallerRegistry: who made a trapped call. Maps the notifying thread to its process (tgid) and a
// pidfd on that process, caching both per session, and keeps the processes seen for exit watching.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::supervisor {

struct Caller {
    pid_t tid = 0;
    pid_t tgid = 0;
    std::shared_ptr<const UniqueFd> pidfd;  // on tgid; shared so a call in flight keeps it open
};

class CallerRegistry {
  public:
    explicit CallerRegistry(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}

    // Identifies the caller of notification `id` on `listener`. A cached answer is re-proved
    // (tgkill(tgid, tid, 0), then the pidfd still alive); a new one comes from /proc/<tid>/status
    // and is proved by SECCOMP_IOCTL_NOTIF_ID_VALID afterwards, so a reused tid never maps to a
    // stranger. ESRCH/ENOENT: the caller is gone.
    Expected<Caller> resolve(int listener, std::uint64_t id, pid_t tid);

    // Processes seen and their pidfds (readable once the process has exited).
    [[nodiscard]] std::vector<std::pair<pid_t, int>> processes() const;
    // Forgets a process and its threads.
    void forget(pid_t tgid);
    // Processes found gone while resolving (their pid now names another process): the caller
    // reports them like any exited process. Clears the list.
    std::vector<pid_t> take_departed() { return std::exchange(departed_, {}); }

  private:
    Expected<Caller> resolve_slow(int listener, std::uint64_t id, pid_t tid);

    static constexpr std::size_t kMaxThreads = 4096;
    std::string proc_root_;
    std::map<pid_t, pid_t> thread_to_process_;
    std::map<pid_t, std::shared_ptr<const UniqueFd>> processes_;
    std::vector<pid_t> departed_;
};

}  // namespace kvmemu::supervisor
