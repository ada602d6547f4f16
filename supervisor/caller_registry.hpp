// CallerRegistry: who made a trapped call. Maps the notifying thread to its process (tgid), a
// pidfd and a /proc directory handle on that process, caching them per session, and keeps the
// processes seen for exit watching.
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

// Handles on one traced process, both bound to it (not to its pid number): once it is reaped,
// the pidfd reads as exited and lookups under proc_dir fail, even if its pid is reused.
struct ProcessHandles {
    UniqueFd pidfd;
    UniqueFd proc_dir;  // /proc/<tgid>, O_PATH
};

struct Caller {
    pid_t tid = 0;
    pid_t tgid = 0;
    std::shared_ptr<const ProcessHandles> process;  // shared so a call in flight keeps it open
};

class CallerRegistry {
  public:
    explicit CallerRegistry(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}

    // The caller `tid` was last found to be, without any system call: NOT proved. Prove it
    // before use (stat_caller_fd() does: it looks the thread up under the process's proc_dir).
    // ENOENT when unknown.
    Expected<Caller> cached(pid_t tid) const;
    // Identifies the caller of notification `id` on `listener` afresh: from
    // /proc/<tid>/status, proved by SECCOMP_IOCTL_NOTIF_ID_VALID afterwards, so a reused tid
    // never maps to a stranger. Caches the answer. ESRCH/ENOENT: the caller is gone.
    Expected<Caller> resolve(int listener, std::uint64_t id, pid_t tid);
    // Drops what is known of thread `tid` (its cached answer failed its proof).
    void forget_thread(pid_t tid) { thread_to_process_.erase(tid); }

    // Processes seen and their pidfds (readable once the process has exited).
    [[nodiscard]] std::vector<std::pair<pid_t, int>> processes() const;
    // Forgets a process and its threads.
    void forget(pid_t tgid);
    // Processes found gone while resolving (their pid now names another process): the caller
    // reports them like any exited process. Clears the list.
    std::vector<pid_t> take_departed() { return std::exchange(departed_, {}); }

  private:
    static constexpr std::size_t kMaxThreads = 4096;
    std::string proc_root_;
    std::map<pid_t, pid_t> thread_to_process_;
    std::map<pid_t, std::shared_ptr<const ProcessHandles>> processes_;
    std::vector<pid_t> departed_;
};

}  // namespace kvmemu::supervisor
