// listen_seqpacket: socket, stale-file check, bind, chmod, listen.
#include "supervisor/server_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kvmemu::supervisor {

namespace {

Expected<sockaddr_un> address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) return Errno{ENAMETOOLONG};
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

int make_parent(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return 0;
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return errno;
    return 0;
}

// A socket file nobody listens on any more can go; anything else stays.
int remove_stale(const std::string& path, const sockaddr_un& addr) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? 0 : errno;
    if (!S_ISSOCK(st.st_mode)) return EADDRINUSE;
    UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!probe) return errno;
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        return EADDRINUSE;
    }
    return ::unlink(path.c_str()) == 0 || errno == ENOENT ? 0 : errno;
}

}  // namespace

Expected<UniqueFd> listen_seqpacket(const std::string& path, mode_t mode) {
    auto addr = address_of(path);
    if (!addr) return Errno{addr.error()};
    if (int e = make_parent(path); e != 0) return Errno{e};
    if (int e = remove_stale(path, *addr); e != 0) return Errno{e};
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Errno{errno};
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
        return Errno{errno};
    }
    if (::chmod(path.c_str(), mode) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
        const int e = errno;
        ::unlink(path.c_str());
        return Errno{e};
    }
    return fd;
}

}  // namespace kvmemu::supervisor
