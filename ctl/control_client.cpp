// ControlClient: unix stream socket, line framing and reply parsing.
#include "ctl/control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/control_protocol.hpp"

namespace kvmemu::control {

Expected<ControlClient> ControlClient::connect(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return Errno{errno};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Errno{ENAMETOOLONG};
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return Errno{errno};
    return ControlClient(std::move(fd));
}

Expected<std::string> ControlClient::read_line() {
    for (;;) {
        const auto nl = buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        if (buffer_.size() > 1 << 20) return Errno{EPROTO};
        char chunk[4096];
        const ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Errno{errno};
        if (n == 0) return Errno{ECONNRESET};
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

namespace {
int parse_err(const std::string& line) {
    const int e = std::atoi(line.c_str() + 4);
    return e > 0 ? e : EPROTO;
}
}  // namespace

Expected<std::string> ControlClient::call(const std::string& request) {
    const std::string req = request + "\n";
    if (req.size() > kMaxLine) return Errno{E2BIG};
    if (::send(fd_.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        return Errno{errno != 0 ? errno : EIO};
    auto line = read_line();
    if (!line) return line;
    if (line->rfind("err ", 0) == 0) return Errno{parse_err(*line)};
    if (*line == "ok") return std::string();
    if (line->rfind("ok ", 0) == 0) return line->substr(3);
    return Errno{EPROTO};
}

Expected<std::vector<std::string>> ControlClient::call_list(const std::string& request) {
    const std::string req = request + "\n";
    if (::send(fd_.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
        return Errno{errno != 0 ? errno : EIO};
    std::vector<std::string> lines;
    for (;;) {
        auto line = read_line();
        if (!line) return Errno{line.error()};
        if (lines.empty() && line->rfind("err ", 0) == 0) return Errno{parse_err(*line)};
        if (*line == ".") return lines;
        lines.push_back(std::move(*line));
    }
}

}  // namespace kvmemu::control
