// Caller: who made an ioctl (thread and process), as the transport established it.
#pragma once

#include <sys/types.h>

#include <functional>

namespace kvmemu::kvm {

struct Caller {
    pid_t tid = 0;   // calling thread (0: unknown, e.g. a release)
    pid_t tgid = 0;  // its process
};

// Answers "may this thread disable NX huge pages": 0 or EPERM. Production uses
// caps::may_disable_nx_huge_pages; tests substitute their own.
using NxPermission = std::function<int(pid_t tid)>;

}  // namespace kvmemu::kvm
