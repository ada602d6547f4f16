// FuseLoop: the thread that runs a libfuse session's loop (CUSE or FUSE), and how to end it: the
// loop blocks reading its device, so stopping knocks with SIGUSR1 until the loop has returned.
#pragma once

#include <atomic>
#include <string>
#include <thread>

struct fuse_session;

namespace kvmemu::daemon {

class FuseLoop {
public:
    FuseLoop() = default;
    ~FuseLoop() { stop(); }
    FuseLoop(const FuseLoop&) = delete;
    FuseLoop& operator=(const FuseLoop&) = delete;

    // Runs fuse_session_loop(session) on a new thread; `label` names it in the log. libfuse's
    // log goes to spdlog from here on.
    void start(fuse_session* session, std::string label);
    // Ends the loop and joins its thread (the session itself is the caller's). Idempotent.
    void stop();

private:
    fuse_session* session_ = nullptr;
    std::string label_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> ended_{false};
};

}  // namespace kvmemu::daemon
