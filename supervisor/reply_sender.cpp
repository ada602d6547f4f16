// send_reply: Reply -> seccomp_notif_resp or SECCOMP_IOCTL_NOTIF_ADDFD.
#include "supervisor/reply_sender.hpp"

#include <linux/seccomp.h>

#include <cerrno>

#include "supervisor/notify_syscalls.hpp"

namespace kvmemu::supervisor {

namespace {

int send_plain(int listener, std::uint64_t id, std::int64_t val, int error, std::uint32_t flags) {
    seccomp_notif_resp resp{};
    resp.id = id;
    resp.val = val;
    resp.error = error == 0 ? 0 : -error;
    resp.flags = flags;
    return sys::notif_send(listener, resp);
}

}  // namespace

int send_reply(int listener, std::uint64_t id, const Reply& reply) {
    switch (reply.kind) {
        case Reply::Kind::Continue:
            return send_plain(listener, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
        case Reply::Kind::Value:
            if (reply.value < 0) return send_plain(listener, id, 0, EIO, 0);
            return send_plain(listener, id, reply.value, 0, 0);
        case Reply::Kind::Error:
            return send_plain(listener, id, 0, reply.error > 0 ? reply.error : EIO, 0);
        case Reply::Kind::InjectFd: {
            if (!reply.fd.valid()) return send_plain(listener, id, 0, EIO, 0);
            const int r = sys::notif_addfd_send(listener, id, reply.fd.get(), reply.cloexec);
            if (r >= 0 || r == -ENOENT) return r < 0 ? r : 0;
            // Nothing was sent: answer with the reason (EMFILE, ...), as a failed open would.
            const int sent = send_plain(listener, id, 0, -r, 0);
            return sent < 0 ? sent : r;
        }
    }
    return send_plain(listener, id, 0, EIO, 0);
}

}  // namespace kvmemu::supervisor
