// CallerRegistry: tid -> (tgid, pidfd), cached and re-proved for every notification.
#include "supervisor/caller_registry.hpp"

#include <cerrno>

#include "caps/proc_task.hpp"
#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

Expected<Caller> CallerRegistry::resolve(int listener, std::uint64_t id, pid_t tid) {
    if (tid <= 0) return Errno{ESRCH};  // not visible in our pid namespace
    if (auto it = thread_to_process_.find(tid); it != thread_to_process_.end()) {
        const pid_t tgid = it->second;
        auto proc = processes_.find(tgid);
        // The notifying thread is alive while its notification is pending, so its tid is its
        // own; tgkill proves it belongs to `tgid` now, and a live pidfd afterwards proves that
        // `tgid` still named the same process at that moment (pids are reused only once reaped).
        if (proc != processes_.end() && sys::thread_in_group(tgid, tid) == 0 &&
            sys::pidfd_alive(proc->second->get()) == 0) {
            return Caller{tid, tgid, proc->second};
        }
        thread_to_process_.erase(it);
    }
    return resolve_slow(listener, id, tid);
}

Expected<Caller> CallerRegistry::resolve_slow(int listener, std::uint64_t id, pid_t tid) {
    auto task = caps::ProcTask::open(tid, proc_root_);
    if (!task) return Errno{task.error()};
    auto tgid = task->tgid();
    if (!tgid) return Errno{tgid.error()};

    std::shared_ptr<const UniqueFd> pidfd;
    auto proc = processes_.find(*tgid);
    if (proc != processes_.end() && sys::pidfd_alive(proc->second->get()) == 0) {
        pidfd = proc->second;
    } else {
        const int fd = sys::pidfd_open(*tgid);
        if (fd < 0) return Errno{-fd};
        pidfd = std::make_shared<const UniqueFd>(fd);
    }
    // Still waiting => the thread lived through the /proc read and the pidfd_open, so both
    // referred to it and its process.
    if (int r = sys::notif_id_valid(listener, id); r < 0) return Errno{-r};

    if (proc != processes_.end() && proc->second != pidfd) {
        // A process we served died and its pid was reused before we noticed its exit.
        departed_.push_back(*tgid);
        forget(*tgid);
    }
    if (thread_to_process_.size() >= kMaxThreads) thread_to_process_.clear();
    thread_to_process_[tid] = *tgid;
    processes_[*tgid] = pidfd;
    return Caller{tid, *tgid, std::move(pidfd)};
}

std::vector<std::pair<pid_t, int>> CallerRegistry::processes() const {
    std::vector<std::pair<pid_t, int>> out;
    out.reserve(processes_.size());
    for (const auto& [tgid, pidfd] : processes_) out.emplace_back(tgid, pidfd->get());
    return out;
}

void CallerRegistry::forget(pid_t tgid) {
    processes_.erase(tgid);
    std::erase_if(thread_to_process_, [tgid](const auto& e) { return e.second == tgid; });
}

}  // namespace kvmemu::supervisor
