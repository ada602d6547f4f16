// ServerHarness: a supervisor::Server on a private socket path, its io_context run by a thread.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>

#include "supervisor/server.hpp"

namespace kvmemu::testing {

class ServerHarness {
  public:
    explicit ServerHarness(supervisor::Backend& backend) {
        char tmpl[] = "/tmp/kvmemu-sup-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        ::chmod(dir_.c_str(), 0755);  // reachable by an unprivileged launcher too
        supervisor::ServerConfig cfg;
        cfg.socket_path = dir_ + "/supervisor.sock";
        auto s = supervisor::Server::start(io_, backend, cfg);
        if (s)
            server_ = std::move(*s);
        else
            start_error_ = s.error();
        thread_ = std::thread([this] { io_.run(); });
    }
    ServerHarness(const ServerHarness&) = delete;
    ServerHarness& operator=(const ServerHarness&) = delete;
    ~ServerHarness() {
        stop();
        ::rmdir(dir_.c_str());
    }

    // Like a daemon shutting down: the event loop ends, then the server stops.
    void stop() {
        guard_.reset();
        io_.stop();
        if (thread_.joinable()) thread_.join();
        if (server_) server_->stop();
    }

    [[nodiscard]] bool ok() const { return server_ != nullptr; }
    [[nodiscard]] int start_error() const { return start_error_; }
    [[nodiscard]] std::string socket() const { return dir_ + "/supervisor.sock"; }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    supervisor::Server& server() { return *server_; }

  private:
    std::string dir_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ =
        boost::asio::make_work_guard(io_);
    std::unique_ptr<supervisor::Server> server_;
    int start_error_ = 0;
    std::thread thread_;
};

}  // namespace kvmemu::testing
