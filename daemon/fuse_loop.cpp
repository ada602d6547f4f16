// FuseLoop: a libfuse session loop on its own thread, woken by SIGUSR1 to stop.
#define FUSE_USE_VERSION 31
#include "daemon/fuse_loop.hpp"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace kvmemu::daemon {

namespace {

void wake_handler(int /*sig*/) {}

void fuse_log_to_spdlog(enum fuse_log_level level, const char* fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string msg(buf);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (level <= FUSE_LOG_ERR) spdlog::error("libfuse: {}", msg);
    else if (level <= FUSE_LOG_NOTICE) spdlog::info("libfuse: {}", msg);
    else spdlog::debug("libfuse: {}", msg);
}

}  // namespace

void FuseLoop::start(fuse_session* session, std::string label) {
    fuse_set_log_func(fuse_log_to_spdlog);
    // The loop thread is woken from its read of the device by SIGUSR1 when stopping.
    struct sigaction sa {};
    sa.sa_handler = wake_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the read must return EINTR
    sigaction(SIGUSR1, &sa, nullptr);
    session_ = session;
    label_ = std::move(label);
    thread_ = std::thread([this] {
        const int r = fuse_session_loop(session_);
        ended_ = true;
        if (r != 0 && !stopping_) spdlog::error("{} loop ended: {}", label_, std::strerror(-r));
    });
}

void FuseLoop::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    fuse_session_exit(session_);
    // A signal landing just before the loop blocks again is lost: knock until it has ended.
    while (!ended_) {
        pthread_kill(thread_.native_handle(), SIGUSR1);
        for (int i = 0; i < 10 && !ended_; ++i) ::usleep(1000);
    }
    thread_.join();
}

}  // namespace kvmemu::daemon
