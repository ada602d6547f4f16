// CallRunner: TrappedIoctl + RemoteMemory -> Backend::handle -> send_reply.
#include "supervisor/call_runner.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "supervisor/remote_memory.hpp"
#include "supervisor/reply_sender.hpp"

namespace kvmemu::supervisor {

Reply CallRunner::handle(PendingCall& call, bool caller_just_checked) {
    const TrappedIoctl trapped{call.caller.tid, call.caller.tgid, call.notif.fd, call.notif.cmd,
                               call.notif.arg};
    RemoteMemory mem(listener_, call.notif.id, call.caller.tgid, caller_just_checked);
    return backend_.handle(trapped, call.target, mem);
}

void CallRunner::reply(const PendingCall& call, const Reply& reply) {
    if (reply.kind == Reply::Kind::Value && reply.value < 0 && log_once_.first("negative value")) {
        spdlog::error("supervisor: backend answered ioctl {:#x} with a negative value {}; sent EIO",
                      call.notif.cmd, reply.value);
    }
    const int r = send_reply(listener_, call.notif.id, reply);
    if (r == -ENOENT) {
        spdlog::debug("supervisor: thread {} left ioctl {:#x} before its answer", call.caller.tid,
                      call.notif.cmd);
    } else if (r < 0 && log_once_.first("reply " + std::to_string(-r))) {
        spdlog::error("supervisor: answering ioctl {:#x} of thread {} failed: {}", call.notif.cmd,
                      call.caller.tid, std::strerror(-r));
    }
}

}  // namespace kvmemu::supervisor
