// Session: the receive loop of one seccomp listener and the dispatch of its calls.
#include "supervisor/session.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "supervisor/notify_syscalls.hpp"
#include "supervisor/reply_sender.hpp"
#include "supervisor/target_probe.hpp"

namespace kvmemu::supervisor {

bool is_seccomp_listener(int fd) {
    // Notification ids start at a random 64-bit value: id 0 is never pending, so a listener
    // answers ENOENT, and anything else ENOTTY/EINVAL/EBADF.
    return sys::notif_id_valid(fd, 0) == -ENOENT;
}

Expected<std::unique_ptr<Session>> Session::start(UniqueFd listener, pid_t launcher_pid,
                                                  Backend& backend, LogOnce& log_once,
                                                  std::function<void()> on_finished) {
    if (!listener.valid() || !is_seccomp_listener(listener.get())) return Errno{EINVAL};
    auto receiver = NotifReceiver::create();
    if (!receiver) return Errno{receiver.error()};
    // Best effort: a trapped call then costs a same-CPU switch, not a cross-CPU wake-up.
    sys::notif_set_sync_wakeup(listener.get());
    UniqueFd stop_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_event) return Errno{errno};
    auto s = std::make_unique<Session>(Private{}, std::move(listener), std::move(stop_event),
                                       std::move(*receiver), launcher_pid, backend, log_once,
                                       std::move(on_finished));
    s->thread_ = std::thread([p = s.get()] { p->loop(); });
    return s;
}

Session::Session(Private, UniqueFd listener, UniqueFd stop_event, NotifReceiver receiver,
                 pid_t launcher_pid, Backend& backend, LogOnce& log_once,
                 std::function<void()> on_finished)
    : listener_(std::move(listener)),
      stop_event_(std::move(stop_event)),
      receiver_(std::move(receiver)),
      launcher_pid_(launcher_pid),
      backend_(backend),
      log_once_(log_once),
      on_finished_(std::move(on_finished)),
      runner_(listener_.get(), backend, log_once) {}

Session::~Session() {
    stop();
}

void Session::stop() {
    if (!stopped_.exchange(true)) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(stop_event_.get(), &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
    listener_.reset();
}

void Session::loop() {
    spdlog::debug("supervisor: serving the program of launcher {}", launcher_pid_);
    bool program_gone = false;
    std::vector<pollfd> fds;
    std::vector<pid_t> fd_owner;
    while (!program_gone) {
        fds.assign({{listener_.get(), POLLIN, 0}, {stop_event_.get(), POLLIN, 0}});
        fd_owner.assign(2, 0);
        for (const auto& [tgid, pidfd] : registry_.processes()) {
            fds.push_back({pidfd, POLLIN, 0});
            fd_owner.push_back(tgid);
        }
        bool any_running = false;
        for (const auto& [tid, w] : workers_) any_running = any_running || w->running();
        const int r = ::poll(fds.data(), fds.size(), any_running ? kWatchPeriodMs : -1);
        if (r < 0 && errno != EINTR) {
            spdlog::error("supervisor: poll failed: {}; dropping the program of launcher {}",
                          std::strerror(errno), launcher_pid_);
            break;
        }
        if (fds[1].revents != 0) {
            finish(false);
            return;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            receive_one();
            if (broken_) break;
        } else if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            program_gone = true;  // every task using the filter has exited
        }
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) process_exited(fd_owner[i]);
        }
        // Blocked calls are watched once a period, not after every notification: a KVM_RUN
        // handed to its worker a moment ago costs no ID_VALID of its own (the clock is the
        // vDSO's on a real host; only read while something runs).
        if (any_running || r == 0) {
            const auto now = std::chrono::steady_clock::now();
            if (r == 0 || now - last_watch_ >= std::chrono::milliseconds(kWatchPeriodMs)) {
                watch_workers();
                last_watch_ = now;
            }
        }
    }
    finish(true);
}

void Session::receive_one() {
    auto notif = receiver_.receive(listener_.get());
    if (!notif) {
        if (notif.error() == ENOENT) return;  // the caller left (signal) before we took its call
        if (log_once_.first("recv " + std::to_string(notif.error()))) {
            spdlog::error("supervisor: receiving a notification failed: {}",
                          std::strerror(notif.error()));
        }
        if (++receive_failures_ >= kMaxReceiveFailures) {
            spdlog::error(
                "supervisor: giving up the listener of launcher {}; its KVM ioctls"
                " now fail with ENOSYS",
                launcher_pid_);
            broken_ = true;
        }
        return;
    }
    receive_failures_ = 0;
    const std::uint64_t id = notif->id;
    if (!notif->is_native_ioctl()) {
        if (log_once_.first("not ioctl")) {
            spdlog::error("supervisor: unexpected trapped syscall {} (arch {:#x}); letting it run",
                          notif->syscall_nr, notif->arch);
        }
        send_reply(listener_.get(), id, Reply::cont());
        return;
    }

    // Fast path: the cached caller, proved together with the fd's identity by one lookup under
    // its process's /proc directory. Otherwise identify the caller afresh and look again.
    struct stat st {};
    auto caller = registry_.cached(notif->tid);
    int probed = caller ? stat_caller_fd(*caller, notif->fd, st) : -ENOENT;
    if (probed != 0) {
        if (caller) registry_.forget_thread(notif->tid);
        caller = registry_.resolve(listener_.get(), id, notif->tid);
        report_departed();
        if (!caller) {
            const int e = caller.error();
            if (e != ESRCH && e != ENOENT && log_once_.first("identify " + std::to_string(e))) {
                spdlog::error(
                    "supervisor: cannot identify the caller of ioctl {:#x} (thread {}): {};"
                    " letting it reach the kernel",
                    notif->cmd, notif->tid, std::strerror(e));
            }
            // Unidentified: the kernel serves it as if never trapped (nothing is granted this way).
            send_reply(listener_.get(), id, Reply::cont());
            return;
        }
        probed = stat_caller_fd(*caller, notif->fd, st);
    }
    // After any read of /proc for this notification: still waiting => the thread that made it
    // is the one looked up (its tid cannot have been reused meanwhile).
    if (const int r = sys::notif_id_valid(listener_.get(), id); r != 0) return;  // it left
    if (probed != 0) {
        // The caller was proved to be in its process throughout: its fd is not open.
        if (probed == -ENOENT) {
            send_reply(listener_.get(), id, Reply::err(EBADF));  // what the kernel says
            return;
        }
        if (log_once_.first("stat fd " + std::to_string(-probed))) {
            spdlog::error(
                "supervisor: cannot inspect fd {} of thread {}: {} (does kvmemud have"
                " CAP_SYS_PTRACE?); letting its KVM ioctls reach the kernel",
                notif->fd, notif->tid, std::strerror(-probed));
        }
        send_reply(listener_.get(), id, Reply::cont());
        return;
    }
    const int pidfd = caller->process->pidfd.get();
    PendingCall call{*notif, std::move(*caller), TargetFd(st, pidfd, notif->fd)};
    dispatch(std::move(call));
}

void Session::dispatch(PendingCall call) {
    const pid_t tid = call.caller.tid;
    auto it = workers_.find(tid);
    if (it != workers_.end() && it->second->tgid() != call.caller.tgid) {
        workers_.erase(it);  // the tid now names a thread of another process
        it = workers_.end();
    }
    if (it != workers_.end() && !it->second->idle()) {
        it->second->push(std::move(call));  // behind this thread's earlier call, in order
    } else if (backend_.may_block(call.notif.cmd)) {
        worker_for(call.caller).push(std::move(call));
    } else {
        runner_.run(call);
    }
}

BlockingWorker& Session::worker_for(const Caller& caller) {
    if (auto it = workers_.find(caller.tid); it != workers_.end()) return *it->second;
    // Retire workers of threads that have exited.
    std::erase_if(workers_, [](const auto& e) {
        return e.second->idle() && sys::thread_in_group(e.second->tgid(), e.first) != 0;
    });
    auto w = std::make_unique<BlockingWorker>(caller.tid, caller.tgid, runner_);
    return *workers_.emplace(caller.tid, std::move(w)).first->second;
}

bool Session::watch_workers() {
    bool any = false;
    for (auto& [tid, w] : workers_) any = w->watch() || any;
    return any;
}

void Session::report_departed() {
    for (pid_t tgid : registry_.take_departed()) {
        std::erase_if(workers_, [tgid](const auto& e) { return e.second->tgid() == tgid; });
        backend_.process_gone(tgid);
    }
}

void Session::process_exited(pid_t tgid) {
    // Its blocked calls are interrupted and joined before the Backend hears it is gone.
    std::erase_if(workers_, [tgid](const auto& e) { return e.second->tgid() == tgid; });
    registry_.forget(tgid);
    spdlog::debug("supervisor: process {} exited", tgid);
    backend_.process_gone(tgid);
}

void Session::finish(bool report) {
    for (auto& [tid, w] : workers_) w->interrupt();
    workers_.clear();  // joins
    if (report) {
        for (const auto& [tgid, pidfd] : registry_.processes()) {
            spdlog::debug("supervisor: process {} gone with its program", tgid);
            backend_.process_gone(tgid);
        }
        spdlog::debug("supervisor: the program of launcher {} is gone", launcher_pid_);
    }
    finished_ = true;
    if (report && on_finished_) on_finished_();
}

}  // namespace kvmemu::supervisor
