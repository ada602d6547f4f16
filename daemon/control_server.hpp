// ControlServer: kvmemud's control socket on the event loop: module parameters, VM listing and
// statistics (see common/control_protocol.hpp).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>

#include "kvm/system.hpp"

namespace kvmemu::daemon {

class ControlServer {
public:
    ControlServer(boost::asio::io_context& io, kvm::System& system, std::string path);
    ~ControlServer();
    bool start();
    void stop();

    // One request from a peer with uid `uid`: the reply text (newline-terminated lines).
    static std::string handle(kvm::System& system, const std::string& line, uid_t uid);

private:
    void accept();

    boost::asio::io_context& io_;
    kvm::System& system_;
    std::string path_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
};

}  // namespace kvmemu::daemon
