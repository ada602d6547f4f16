// Server: asynchronous accept and handshake on the io_context; one Session per listener.
#include "supervisor/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <mutex>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "supervisor/listener_handshake.hpp"
#include "supervisor/log_once.hpp"
#include "supervisor/server_socket.hpp"
#include "supervisor/session.hpp"

namespace kvmemu::supervisor {

namespace asio = boost::asio;

class Server::Impl : public std::enable_shared_from_this<Impl> {
  public:
    Impl(asio::io_context& io, Backend& backend, ServerConfig config, UniqueFd listening)
        : io_(io), backend_(backend), config_(std::move(config)), acceptor_(io) {
        struct stat st {};
        if (::stat(config_.socket_path.c_str(), &st) == 0) socket_id_ = {st.st_dev, st.st_ino};
        acceptor_.assign(listening.release());
    }

    void accept_next();
    void stop();
    std::size_t session_count() const {
        std::lock_guard lock(m_);
        return sessions_.size();
    }
    const std::string& socket_path() const { return config_.socket_path; }

  private:
    // One launcher connection waiting for its Hello.
    struct Connection {
        Connection(asio::io_context& io, int fd) : socket(io, fd), timer(io) {}
        asio::posix::stream_descriptor socket;
        asio::steady_timer timer;
    };

    void accept_ready();
    void await_hello(const std::shared_ptr<Connection>& conn);
    void take_hello(const std::shared_ptr<Connection>& conn);
    int adopt(ReceivedListener received);
    void reap();

    asio::io_context& io_;
    Backend& backend_;
    const ServerConfig config_;
    asio::posix::stream_descriptor acceptor_;
    std::pair<dev_t, ino_t> socket_id_{};
    LogOnce log_once_;
    mutable std::mutex m_;
    bool stopped_ = false;
    std::list<std::unique_ptr<Session>> sessions_;
};

void Server::Impl::accept_next() {
    acceptor_.async_wait(asio::posix::stream_descriptor::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                             if (ec) return;  // closed by stop()
                             {
                                 std::lock_guard lock(self->m_);
                                 if (self->stopped_) return;
                             }
                             self->accept_ready();
                             self->accept_next();
                         });
}

void Server::Impl::accept_ready() {
    for (;;) {
        const int fd =
            ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
                log_once_.first("accept " + std::to_string(errno))) {
                spdlog::error("supervisor: accept on {} failed: {}", config_.socket_path,
                              std::strerror(errno));
            }
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;
        }
        auto conn = std::make_shared<Connection>(io_, fd);
        conn->timer.expires_after(config_.handshake_timeout);
        conn->timer.async_wait([conn](const boost::system::error_code& ec) {
            if (!ec) {
                boost::system::error_code ignored;
                conn->socket.close(ignored);  // cancels the wait for the Hello
            }
        });
        await_hello(conn);
    }
}

void Server::Impl::await_hello(const std::shared_ptr<Connection>& conn) {
    conn->socket.async_wait(asio::posix::stream_descriptor::wait_read,
                            [self = shared_from_this(), conn](const boost::system::error_code& ec) {
                                if (ec) return;  // timed out or stopped
                                self->take_hello(conn);
                            });
}

void Server::Impl::take_hello(const std::shared_ptr<Connection>& conn) {
    const int fd = conn->socket.native_handle();
    auto received = receive_listener(fd);
    if (!received && received.error() == EAGAIN) {
        await_hello(conn);
        return;
    }
    int status = received ? adopt(std::move(*received)) : received.error();
    if (status != 0 && status != ECONNRESET) {
        spdlog::warn("supervisor: refused a launcher on {}: {}", config_.socket_path,
                     std::strerror(status));
    }
    if (status > 255) status = EIO;
    send_status(fd, static_cast<std::uint8_t>(status));
    conn->timer.cancel();
    boost::system::error_code ignored;
    conn->socket.close(ignored);
}

int Server::Impl::adopt(ReceivedListener received) {
    std::lock_guard lock(m_);
    if (stopped_) return ESHUTDOWN;
    if (sessions_.size() >= config_.max_sessions) return EAGAIN;
    auto on_finished = [weak = weak_from_this(), io = &io_] {
        asio::post(*io, [weak] {
            if (auto self = weak.lock()) self->reap();
        });
    };
    auto session = Session::start(std::move(received.listener), received.pid, backend_, log_once_,
                                  std::move(on_finished));
    if (!session) return session.error();
    spdlog::info("supervisor: serving the program of pid {} (uid {})", received.pid, received.uid);
    sessions_.push_back(std::move(*session));
    return 0;
}

void Server::Impl::reap() {
    std::list<std::unique_ptr<Session>> done;
    {
        std::lock_guard lock(m_);
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            auto next = std::next(it);
            if ((*it)->finished()) done.splice(done.end(), sessions_, it);
            it = next;
        }
    }
    done.clear();  // joins threads that have already returned
}

void Server::Impl::stop() {
    std::list<std::unique_ptr<Session>> all;
    {
        std::lock_guard lock(m_);
        if (stopped_) return;
        stopped_ = true;
        all.swap(sessions_);
    }
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    all.clear();  // each stops: interrupt, join, close its listener
    struct stat st {};
    if (::stat(config_.socket_path.c_str(), &st) == 0 &&
        std::pair{st.st_dev, st.st_ino} == socket_id_) {
        ::unlink(config_.socket_path.c_str());
    }
}

Expected<std::unique_ptr<Server>> Server::start(asio::io_context& io, Backend& backend,
                                                ServerConfig config) {
    auto listening = listen_seqpacket(config.socket_path, config.socket_mode);
    if (!listening) return Errno{listening.error()};
    auto impl = std::make_shared<Impl>(io, backend, std::move(config), std::move(*listening));
    impl->accept_next();
    spdlog::debug("supervisor: listening on {}", impl->socket_path());
    return std::make_unique<Server>(std::move(impl));
}

Server::~Server() {
    stop();
}

void Server::stop() {
    impl_->stop();
}

std::size_t Server::session_count() const {
    return impl_->session_count();
}

const std::string& Server::socket_path() const {
    return impl_->socket_path();
}

}  // namespace kvmemu::supervisor
