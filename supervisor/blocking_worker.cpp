// BlockingWorker: per-traced-thread queue and thread for calls that may block.
#include "supervisor/blocking_worker.hpp"

#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

BlockingWorker::BlockingWorker(pid_t tid, pid_t tgid, CallRunner& runner)
    : tid_(tid), tgid_(tgid), runner_(runner), thread_([this] { loop(); }) {}

BlockingWorker::~BlockingWorker() {
    stop();
}

void BlockingWorker::push(PendingCall call) {
    {
        std::lock_guard lock(m_);
        queue_.push_back(std::move(call));
    }
    cv_.notify_one();
}

bool BlockingWorker::idle() const {
    std::lock_guard lock(m_);
    return queue_.empty() && !running_;
}

bool BlockingWorker::running() const {
    std::lock_guard lock(m_);
    return running_.has_value();
}

bool BlockingWorker::watch() {
    std::lock_guard lock(m_);
    if (!running_) return false;
    // Under the lock: the call cannot finish meanwhile, so the interrupt reaches this very call
    // (a reply not yet sent keeps the notification valid, so only the caller leaving fails it).
    if (!interrupted_ && sys::notif_id_valid(runner_.listener(), *running_) != 0) {
        interrupt_locked();
    }
    return true;
}

void BlockingWorker::interrupt() {
    std::lock_guard lock(m_);
    interrupt_locked();
}

void BlockingWorker::interrupt_locked() {
    if (!running_ || interrupted_) return;
    interrupted_ = true;
    runner_.backend().interrupt(tid_);
}

void BlockingWorker::stop() {
    {
        std::lock_guard lock(m_);
        stopping_ = true;
        queue_.clear();
        interrupt_locked();
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void BlockingWorker::loop() {
    for (;;) {
        PendingCall call;
        {
            std::unique_lock lock(m_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            call = std::move(queue_.front());
            queue_.pop_front();
            running_ = call.notif.id;
            interrupted_ = false;
        }
        Reply reply = runner_.handle(call);
        {
            std::lock_guard lock(m_);
            running_.reset();
        }
        runner_.reply(call, reply);
    }
}

}  // namespace kvmemu::supervisor
