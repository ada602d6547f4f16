// SupervisorService: placeholder until the supervisor library is integrated (see issue 2).
#include "daemon/supervisor_service.hpp"

namespace kvmemu::daemon {

SupervisorService::SupervisorService(boost::asio::io_context& io, supervisor::Backend& backend,
                                     std::string socket_path)
    : io_(io), backend_(backend), socket_path_(std::move(socket_path)) {}

SupervisorService::~SupervisorService() { stop(); }

bool SupervisorService::start() { return false; }

void SupervisorService::stop() {}

}  // namespace kvmemu::daemon
