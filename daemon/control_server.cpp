// ControlServer: accept loop, one line-oriented session per connection, and the requests.
#include "daemon/control_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <istream>
#include <sstream>

#include "common/control_protocol.hpp"

namespace kvmemu::daemon {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

namespace {

std::string err(int e) { return "err " + std::to_string(e) + "\n"; }

std::string list_vms(kvm::System& system) {
    std::ostringstream out;
    for (const auto& vm : system.vms()) {
        out << "vm " << vm->id() << " pid " << vm->owner() << " vcpus " << vm->vcpu_count()
            << " memslots " << vm->memslots().size() << " nx_mitigation "
            << (vm->nx_mitigation_active() ? "on" : "off") << " disable_nx_cap "
            << (vm->nx_huge_pages_disabled() ? "on" : "off") << "\n";
    }
    out << ".\n";
    return out.str();
}

std::string vm_stats(kvm::System& system, const std::string& id_text) {
    char* end = nullptr;
    const unsigned long long id = std::strtoull(id_text.c_str(), &end, 10);
    auto vm = (end != id_text.c_str() && *end == 0) ? system.find_vm(id) : nullptr;
    if (!vm) return err(ENOENT);
    const auto data = vm->stats();
    const auto* values = reinterpret_cast<const std::uint64_t*>(&data);
    std::ostringstream out;
    for (const auto& d : kvm::kVmStatDescriptors) out << d.name << " " << values[d.offset / 8] << "\n";
    out << ".\n";
    return out.str();
}

// One connection: reads request lines until EOF.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(stream::socket socket, kvm::System& system, uid_t uid)
        : socket_(std::move(socket)), system_(system), uid_(uid) {}
    void read() {
        auto self = shared_from_this();
        asio::async_read_until(socket_, buf_, '\n', [self](const boost::system::error_code& ec,
                                                           std::size_t) {
            if (ec) return;
            std::istream in(&self->buf_);
            std::string line;
            std::getline(in, line);
            self->reply_ = ControlServer::handle(self->system_, line, self->uid_);
            asio::async_write(self->socket_, asio::buffer(self->reply_),
                              [self](const boost::system::error_code& wec, std::size_t) {
                                  if (!wec) self->read();
                              });
        });
    }

private:
    stream::socket socket_;
    kvm::System& system_;
    uid_t uid_;
    asio::streambuf buf_{control::kMaxLine};
    std::string reply_;
};

}  // namespace

std::string ControlServer::handle(kvm::System& system, const std::string& line, uid_t uid) {
    std::istringstream in(line);
    std::string verb, name, value;
    in >> verb >> name;
    std::getline(in >> std::ws, value);
    if (verb == "get") {
        auto v = system.read_param(name);
        if (!v) return err(v.error());
        std::string text = *v;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        return "ok " + text + "\n";
    }
    if (verb == "set") {
        if (!kvm::System::is_param(name)) return err(ENOENT);
        if (uid != 0) return err(EACCES);
        const int e = system.write_param(name, value);
        if (e != 0) {
            spdlog::info("write of '{}' to {} refused: {}", value, name, std::strerror(e));
            return err(e);
        }
        spdlog::info("{} set to '{}'", name, value);
        return "ok\n";
    }
    if (verb == "list") return list_vms(system);
    if (verb == "stats") return vm_stats(system, name);
    return err(EINVAL);
}

ControlServer::ControlServer(asio::io_context& io, kvm::System& system, std::string path)
    : io_(io), system_(system), path_(std::move(path)) {}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start() {
    ::unlink(path_.c_str());
    boost::system::error_code ec;
    acceptor_ = std::make_unique<stream::acceptor>(io_);
    acceptor_->open(stream(), ec);
    if (!ec) acceptor_->bind(stream::endpoint(path_), ec);
    if (!ec) acceptor_->listen(16, ec);
    if (ec) {
        spdlog::error("control socket {}: {}", path_, ec.message());
        acceptor_.reset();
        return false;
    }
    // Anyone may read parameters and list VMs; writes check the peer's uid.
    ::chmod(path_.c_str(), 0666);
    accept();
    spdlog::info("control socket {}", path_);
    return true;
}

void ControlServer::accept() {
    acceptor_->async_accept([this](const boost::system::error_code& ec, stream::socket socket) {
        if (ec) return;  // stopped
        ucred cred{};
        socklen_t len = sizeof cred;
        const uid_t uid =
            ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0
                ? cred.uid
                : static_cast<uid_t>(-1);
        std::make_shared<Session>(std::move(socket), system_, uid)->read();
        accept();
    });
}

void ControlServer::stop() {
    if (!acceptor_) return;
    boost::system::error_code ec;
    acceptor_->close(ec);
    acceptor_.reset();
    ::unlink(path_.c_str());
}

}  // namespace kvmemu::daemon
