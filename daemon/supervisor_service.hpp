// SupervisorService: adapts the supervisor library (socket server + per-program sessions) to the
// daemon's event loop. Until that library lands, it serves nothing and start() says so.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>

#include "supervisor/backend.hpp"

namespace kvmemu::daemon {

class SupervisorService {
public:
    SupervisorService(boost::asio::io_context& io, supervisor::Backend& backend, std::string socket_path);
    ~SupervisorService();
    bool start();
    void stop();

private:
    boost::asio::io_context& io_;
    supervisor::Backend& backend_;
    std::string socket_path_;
};

}  // namespace kvmemu::daemon
