// ClientProcess: pidfd_open, fdinfo check for adopted pidfds, exit test by poll(POLLIN).
#include "guestmem/client_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kvmemu::guestmem {

namespace {

// The "Pid:" line of /proc/self/fdinfo/<fd> for a pidfd: the pid, -1 once exited, 0 if the fd
// is not a pidfd (or the line is missing).
long fdinfo_pid(int fd) {
    const std::string path = "/proc/self/fdinfo/" + std::to_string(fd);
    UniqueFd info(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!info) return 0;
    char buf[1024];
    const ssize_t n = ::read(info.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const std::string text(buf, static_cast<std::size_t>(n));
    const std::size_t at = text.find("\nPid:");
    if (at == std::string::npos) return 0;
    return std::strtol(text.c_str() + at + 5, nullptr, 10);
}

}  // namespace

Expected<ClientProcess> ClientProcess::open(pid_t tgid) {
    if (tgid <= 0) return Errno{ESRCH};
    // Raw system call: glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++ callers.
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, tgid, 0U)));
    if (!fd) return Errno{errno};
    return ClientProcess(std::move(fd), tgid);
}

Expected<ClientProcess> ClientProcess::adopt(UniqueFd pidfd, pid_t tgid) {
    if (!pidfd || tgid <= 0) return Errno{EINVAL};
    const long pid = fdinfo_pid(pidfd.get());
    if (pid == -1) return Errno{ESRCH};
    if (pid != tgid) return Errno{EINVAL};
    ClientProcess p(std::move(pidfd), tgid);
    if (p.exited()) return Errno{ESRCH};
    return p;
}

Expected<ClientProcess> ClientProcess::dup() const {
    UniqueFd fd(::fcntl(pidfd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return Errno{errno};
    return ClientProcess(std::move(fd), pid_);
}

bool ClientProcess::exited() const noexcept {
    pollfd p{pidfd_.get(), POLLIN, 0};
    for (;;) {
        const int r = ::poll(&p, 1, 0);
        if (r >= 0) return r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
        if (errno != EINTR) return true;  // cannot tell: treat as gone, never reach a stranger
    }
}

Expected<UniqueFd> ClientProcess::open_proc_dir() const {
    const std::string path = "/proc/" + std::to_string(pid_);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return Errno{errno == ENOENT ? ESRCH : errno};
    // Still not exited after the open: the pid named this process when the directory was opened.
    if (exited()) return Errno{ESRCH};
    return dir;
}

}  // namespace kvmemu::guestmem
