// CallerRegistry: tid -> (tgid, pidfd, /proc dir), cached; proved by the caller of cached().
#include "supervisor/caller_registry.hpp"

#include <fcntl.h>

#include <cerrno>

#include "caps/proc_task.hpp"
#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

Expected<Caller> CallerRegistry::cached(pid_t tid) const {
    const auto it = thread_to_process_.find(tid);
    if (it == thread_to_process_.end()) return Errno{ENOENT};
    const auto proc = processes_.find(it->second);
    if (proc == processes_.end()) return Errno{ENOENT};
    return Caller{tid, it->second, proc->second};
}

Expected<Caller> CallerRegistry::resolve(int listener, std::uint64_t id, pid_t tid) {
    if (tid <= 0) return Errno{ESRCH};  // not visible in our pid namespace
    thread_to_process_.erase(tid);
    auto task = caps::ProcTask::open(tid, proc_root_);
    if (!task) return Errno{task.error()};
    auto tgid = task->tgid();
    if (!tgid) return Errno{tgid.error()};

    std::shared_ptr<const ProcessHandles> handles;
    auto proc = processes_.find(*tgid);
    if (proc != processes_.end() && sys::pidfd_alive(proc->second->pidfd.get()) == 0) {
        handles = proc->second;
    } else {
        const int pidfd = sys::pidfd_open(*tgid);
        if (pidfd < 0) return Errno{-pidfd};
        ProcessHandles h{UniqueFd(pidfd), {}};
        const std::string dir = proc_root_ + "/" + std::to_string(*tgid);
        h.proc_dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!h.proc_dir) return Errno{errno};
        handles = std::make_shared<const ProcessHandles>(std::move(h));
    }
    // Still waiting => the thread lived through the /proc read, the pidfd_open and the open of
    // /proc/<tgid>, so all referred to it and its process.
    if (int r = sys::notif_id_valid(listener, id); r < 0) return Errno{-r};

    if (proc != processes_.end() && proc->second != handles) {
        // A process we served died and its pid was reused before we noticed its exit.
        departed_.push_back(*tgid);
        forget(*tgid);
    }
    if (thread_to_process_.size() >= kMaxThreads) thread_to_process_.clear();
    thread_to_process_[tid] = *tgid;
    processes_[*tgid] = handles;
    return Caller{tid, *tgid, std::move(handles)};
}

std::vector<std::pair<pid_t, int>> CallerRegistry::processes() const {
    std::vector<std::pair<pid_t, int>> out;
    out.reserve(processes_.size());
    for (const auto& [tgid, h] : processes_) out.emplace_back(tgid, h->pidfd.get());
    return out;
}

void CallerRegistry::forget(pid_t tgid) {
    processes_.erase(tgid);
    std::erase_if(thread_to_process_, [tgid](const auto& e) { return e.second == tgid; });
}

}  // namespace kvmemu::supervisor
