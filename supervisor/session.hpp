// Session: serves one seccomp listener (one traced program and its descendants) on a receive
// thread: identifies each trapped ioctl, runs it inline or on a BlockingWorker, watches blocked
// calls for interruption, and reports processes that exit.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"
#include "supervisor/backend.hpp"
#include "supervisor/blocking_worker.hpp"
#include "supervisor/call_runner.hpp"
#include "supervisor/caller_registry.hpp"
#include "supervisor/log_once.hpp"
#include "supervisor/notification.hpp"

namespace kvmemu::supervisor {

// True when `fd` is a seccomp user-notification listener.
bool is_seccomp_listener(int fd);

class Session {
  public:
    // Starts serving `listener` (EINVAL if it is not a seccomp listener). `on_finished` runs on
    // the session's thread once the traced program is gone (never after stop()).
    static Expected<std::unique_ptr<Session>> start(UniqueFd listener, pid_t launcher_pid,
                                                    Backend& backend, LogOnce& log_once,
                                                    std::function<void()> on_finished = {});
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();  // stop()

    // Stops serving: interrupts blocked calls, joins every thread, then closes the listener, so
    // that callers still waiting get ENOSYS from the kernel. Idempotent. Does not report
    // process_gone.
    void stop();
    // The traced program is gone and its processes were reported.
    [[nodiscard]] bool finished() const noexcept { return finished_.load(); }
    [[nodiscard]] pid_t launcher_pid() const noexcept { return launcher_pid_; }

    // How often a blocked call's notification is checked for its caller leaving.
    static constexpr int kWatchPeriodMs = 5;

  private:
    std::chrono::steady_clock::time_point last_watch_{};  // loop thread only
    struct Private {
        explicit Private() = default;
    };

  public:
    // Use start().
    Session(Private, UniqueFd listener, UniqueFd stop_event, NotifReceiver receiver,
            pid_t launcher_pid, Backend& backend, LogOnce& log_once,
            std::function<void()> on_finished);

  private:
    void loop();
    void receive_one();
    void dispatch(PendingCall call);
    void process_exited(pid_t tgid);
    void report_departed();
    BlockingWorker& worker_for(const Caller& caller);
    bool watch_workers();
    void finish(bool report);

    UniqueFd listener_;
    UniqueFd stop_event_;
    NotifReceiver receiver_;
    const pid_t launcher_pid_;
    Backend& backend_;
    LogOnce& log_once_;
    std::function<void()> on_finished_;
    CallRunner runner_;
    CallerRegistry registry_;
    std::map<pid_t, std::unique_ptr<BlockingWorker>> workers_;  // by traced thread id
    static constexpr int kMaxReceiveFailures = 100;  // in a row: the listener is unusable
    int receive_failures_ = 0;
    bool broken_ = false;
    std::atomic<bool> finished_{false};
    std::atomic<bool> stopped_{false};
    std::thread thread_;
};

}  // namespace kvmemu::supervisor
