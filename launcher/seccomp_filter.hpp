// load_notify_filter: installs in the calling process a seccomp filter that sends the ioctl
// requests of a list to a user-notification listener (returned) and allows everything else.
#pragma once

#include <cstdint>
#include <span>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::launcher {

enum class NoNewPrivs {
    // Without NO_NEW_PRIVS when the kernel allows it (CAP_SYS_ADMIN, i.e. a root launcher), so
    // file capabilities and setuid still apply to the program after exec; otherwise with it.
    WhenRequired,
    Always,
};

struct LoadedFilter {
    UniqueFd listener;          // close-on-exec; send it to the daemon, then close it
    bool no_new_privs = false;  // whether NO_NEW_PRIVS had to be set
};

// Matches the low 32 bits of ioctl's request (the kernel's cmd), whatever the upper ones. Filters
// only the native ABI; calls of other ABIs (i386, x32) are allowed through untouched.
// Errors: positive errno (EACCES: not allowed; ENOSYS/EOPNOTSUPP: no user notification).
Expected<LoadedFilter> load_notify_filter(std::span<const std::uint32_t> requests,
                                          NoNewPrivs policy = NoNewPrivs::WhenRequired);

}  // namespace kvmemu::launcher
