// SupervisorService: creates the socket's directory and starts/stops the supervisor Server.
#include "daemon/supervisor_service.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kvmemu::daemon {

SupervisorService::SupervisorService(boost::asio::io_context& io, supervisor::Backend& backend,
                                     std::string socket_path)
    : io_(io), backend_(backend), socket_path_(std::move(socket_path)) {}

SupervisorService::~SupervisorService() { stop(); }

bool SupervisorService::start() {
    std::error_code ec;
    const auto dir = std::filesystem::path(socket_path_).parent_path();
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
        ::chmod(dir.c_str(), 0755);
    }
    supervisor::ServerConfig config;
    config.socket_path = socket_path_;
    auto server = supervisor::Server::start(io_, backend_, config);
    if (!server) {
        spdlog::error("cannot listen on {}: {}", socket_path_, std::strerror(server.error()));
        return false;
    }
    server_ = std::move(*server);
    spdlog::info("supervisor listening on {}", socket_path_);
    return true;
}

void SupervisorService::stop() {
    if (server_) server_->stop();
    server_.reset();
}

}  // namespace kvmemu::daemon
