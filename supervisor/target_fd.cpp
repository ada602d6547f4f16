// TargetFd::get(): the caller's fd fetched with pidfd_getfd only when a Backend needs the file.
#include "supervisor/backend.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

int TargetFd::get() {
    if (fd_.valid()) return fd_.get();
    if (error_ != 0) return -error_;
    if (pidfd_ < 0 || number_ < 0) {
        error_ = EBADF;
        return -error_;
    }
    const int fd = sys::pidfd_getfd(pidfd_, number_);
    if (fd < 0) {
        error_ = -fd;
        return fd;
    }
    UniqueFd dup(fd);
    // pidfd_getfd reads the process's fd table, which the caller may have changed since `st`
    // was read (or, for a thread with a table of its own, which may differ): insist on the file.
    struct stat now {};
    if (::fstat(dup.get(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
        now.st_rdev != st.st_rdev || (now.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) {
        error_ = ESTALE;
        return -error_;
    }
    fd_ = std::move(dup);
    return fd_.get();
}

}  // namespace kvmemu::supervisor
