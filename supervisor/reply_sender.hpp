// send_reply: answers one notification with a Backend Reply (CONTINUE, a value, an errno, or an
// fd installed in the caller with SECCOMP_IOCTL_NOTIF_ADDFD + SECCOMP_ADDFD_FLAG_SEND).
#pragma once

#include <cstdint>

#include "supervisor/backend.hpp"

namespace kvmemu::supervisor {

// 0, or -errno: -ENOENT when the caller no longer waits (it got a signal or died). A failed fd
// injection (e.g. EMFILE in the caller) is answered with that errno, as the kernel would.
int send_reply(int listener, std::uint64_t id, const Reply& reply);

}  // namespace kvmemu::supervisor
