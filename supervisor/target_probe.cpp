// stat_caller_fd: fstatat(<proc dir>, "task/<tid>/fd/<fd>"), path built without allocating.
#include "supervisor/target_probe.hpp"

#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace kvmemu::supervisor {

int stat_caller_fd(const Caller& caller, int fd, struct stat& st) {
    if (!caller.process || !caller.process->proc_dir || caller.tid <= 0) return -ESRCH;
    if (fd < 0) return -EBADF;
    char path[64];
    char* p = path;
    char* const end = path + sizeof path - 1;
    auto put = [&](const char* s) { const std::size_t n = std::strlen(s); std::memcpy(p, s, n); p += n; };
    put("task/");
    p = std::to_chars(p, end, caller.tid).ptr;
    put("/fd/");
    p = std::to_chars(p, end, fd).ptr;
    *p = '\0';
    if (::fstatat(caller.process->proc_dir.get(), path, &st, 0) != 0) return -errno;
    return 0;
}

}  // namespace kvmemu::supervisor
