// Server: the daemon's supervisor endpoint. Listens on a unix socket (SOCK_SEQPACKET) through the
// daemon's io_context, takes each launcher's seccomp listener and serves it in a Session.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/expected.hpp"
#include "supervisor/backend.hpp"
#include "supervisor/handshake_protocol.hpp"

namespace kvmemu::supervisor {

struct ServerConfig {
    std::string socket_path = handshake::kDefaultSocketPath;
    // Anyone may connect: a listener fd only gives the daemon power over its sender's programs.
    mode_t socket_mode = 0666;
    // A connection that sends nothing within this time is closed.
    std::chrono::milliseconds handshake_timeout{5000};
    // Beyond this many traced programs, new launchers are refused (EAGAIN).
    std::size_t max_sessions = 4096;
};

class Server {
  public:
    // Binds the socket and starts accepting on `io` (the caller runs it). `backend` must outlive
    // the Server. Errors: positive errno (EADDRINUSE: another daemon listens at the path).
    static Expected<std::unique_ptr<Server>> start(boost::asio::io_context& io, Backend& backend,
                                                   ServerConfig config = {});
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();  // stop()

    // Stops accepting, stops every session (blocked calls get Backend::interrupt, then callers
    // still waiting get ENOSYS from the kernel) and removes the socket file. Call it on the
    // io_context's thread, or while that io_context is not running. Idempotent.
    void stop();
    // Traced programs being served.
    [[nodiscard]] std::size_t session_count() const;
    [[nodiscard]] const std::string& socket_path() const;

    class Impl;
    // Use start().
    explicit Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace kvmemu::supervisor
