// BlockingWorker: a thread serving the calls of one traced thread that may block (KVM_RUN), so
// that a blocked vCPU never stalls the calls of another; keeps that thread's calls in order.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "supervisor/call_runner.hpp"
#include "supervisor/pending_call.hpp"

namespace kvmemu::supervisor {

class BlockingWorker {
  public:
    BlockingWorker(pid_t tid, pid_t tgid, CallRunner& runner);
    BlockingWorker(const BlockingWorker&) = delete;
    BlockingWorker& operator=(const BlockingWorker&) = delete;
    ~BlockingWorker();  // stop()

    [[nodiscard]] pid_t tid() const noexcept { return tid_; }
    [[nodiscard]] pid_t tgid() const noexcept { return tgid_; }

    void push(PendingCall call);
    // Neither running nor holding a call.
    [[nodiscard]] bool idle() const;
    [[nodiscard]] bool running() const;
    // If the running call's notification is no longer valid (its caller got a signal or died),
    // calls Backend::interrupt(tid) once for it. Returns true while a call runs.
    bool watch();
    // Interrupts the running call, if any (shutdown, process exit).
    void interrupt();
    // Drops queued calls, interrupts the running one, and joins the thread.
    void stop();

  private:
    void loop();
    void interrupt_locked();

    const pid_t tid_;
    const pid_t tgid_;
    CallRunner& runner_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<PendingCall> queue_;
    std::optional<std::uint64_t> running_;  // notification id inside Backend::handle
    bool interrupted_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace kvmemu::supervisor
