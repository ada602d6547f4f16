// FakeBackend: a scriptable supervisor::Backend for tests; records every call, interrupt and
// process_gone, and lets handlers block on its condition variable.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "supervisor/backend.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::testing {

struct SeenCall {
    supervisor::TrappedIoctl call;
    struct stat st {};
};

class FakeBackend : public supervisor::Backend {
  public:
    // Handlers run with the backend's mutex NOT held; use lock() / cv() to wait.
    using Handler = std::function<supervisor::Reply(const supervisor::TrappedIoctl&,
                                                    supervisor::TargetFd&, UserIo&)>;

    void on(std::uint32_t cmd, Handler h) { handlers_[cmd] = std::move(h); }
    void on_any(Handler h) { fallback_ = std::move(h); }

    supervisor::Reply handle(const supervisor::TrappedIoctl& call, supervisor::TargetFd& target,
                             UserIo& mem) override {
        {
            std::lock_guard l(m_);
            seen_.push_back({call, target.st});
        }
        cv_.notify_all();
        if (auto it = handlers_.find(call.cmd); it != handlers_.end()) {
            return it->second(call, target, mem);
        }
        if (fallback_) return fallback_(call, target, mem);
        return supervisor::Reply::err(ENOSYS);
    }
    bool may_block(std::uint32_t cmd) const override { return cmd == uapi::RUN; }
    void interrupt(pid_t tid) override {
        {
            std::lock_guard l(m_);
            interrupts_.push_back(tid);
        }
        cv_.notify_all();
    }
    void process_gone(pid_t tgid) override {
        {
            std::lock_guard l(m_);
            gone_.push_back(tgid);
        }
        cv_.notify_all();
    }

    std::vector<SeenCall> seen() const {
        std::lock_guard l(m_);
        return seen_;
    }
    std::vector<pid_t> interrupts() const {
        std::lock_guard l(m_);
        return interrupts_;
    }
    std::vector<pid_t> gone() const {
        std::lock_guard l(m_);
        return gone_;
    }
    // Waits (up to `timeout`) for `pred`, evaluated with the mutex held.
    bool wait_until(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock l(m_);
        return cv_.wait_for(l, timeout, pred);
    }
    bool interrupted_locked(pid_t tid) const {
        return std::find(interrupts_.begin(), interrupts_.end(), tid) != interrupts_.end();
    }
    bool gone_locked(pid_t tgid) const {
        return std::find(gone_.begin(), gone_.end(), tgid) != gone_.end();
    }

    std::mutex& mutex() { return m_; }
    std::condition_variable& cv() { return cv_; }

  private:
    std::map<std::uint32_t, Handler> handlers_;
    Handler fallback_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<SeenCall> seen_;
    std::vector<pid_t> interrupts_;
    std::vector<pid_t> gone_;
};

}  // namespace kvmemu::testing
