// SupervisorService: the supervisor library's socket server on the daemon's event loop, with
// the daemon's logging of what happened.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "supervisor/backend.hpp"
#include "supervisor/server.hpp"

namespace kvmemu::daemon {

class SupervisorService {
public:
    SupervisorService(boost::asio::io_context& io, supervisor::Backend& backend, std::string socket_path);
    ~SupervisorService();
    // Binds the socket; false (logged) if it cannot.
    bool start();
    void stop();

private:
    boost::asio::io_context& io_;
    supervisor::Backend& backend_;
    std::string socket_path_;
    std::unique_ptr<supervisor::Server> server_;
};

}  // namespace kvmemu::daemon
