// stat_caller_fd: what a traced thread's fd is, in one system call that also proves the caller.
#pragma once

#include <sys/stat.h>

#include "supervisor/caller_registry.hpp"

namespace kvmemu::supervisor {

// stat() of fd `fd` of thread `caller.tid`, looked up as task/<tid>/fd/<fd> under the /proc
// directory of `caller`'s process. Success proves, at that moment, that the thread `tid` is in
// that very process (the directory is bound to it: a reaped process's lookups fail even if its
// pid is reused) and what its fd is, from that thread's own fd table. 0, or -errno: -ENOENT
// when the thread is not in the process (or gone), or the fd is not open.
int stat_caller_fd(const Caller& caller, int fd, struct stat& st);

}  // namespace kvmemu::supervisor
