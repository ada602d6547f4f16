// CallRunner: runs one PendingCall through Backend::handle (with the caller's memory as UserIo)
// and sends its reply; shared by the receive thread (inline calls) and the blocking workers.
#pragma once

#include "supervisor/backend.hpp"
#include "supervisor/log_once.hpp"
#include "supervisor/pending_call.hpp"

namespace kvmemu::supervisor {

class CallRunner {
  public:
    CallRunner(int listener, Backend& backend, LogOnce& log_once)
        : listener_(listener), backend_(backend), log_once_(log_once) {}

    // caller_just_checked: see RemoteMemory.
    Reply handle(PendingCall& call, bool caller_just_checked = false);
    void reply(const PendingCall& call, const Reply& reply);
    // Both, in order: for calls run on the receive thread right after their caller was checked.
    void run(PendingCall& call) { reply(call, handle(call, true)); }

    [[nodiscard]] int listener() const noexcept { return listener_; }
    [[nodiscard]] Backend& backend() const noexcept { return backend_; }

  private:
    int listener_;
    Backend& backend_;
    LogOnce& log_once_;
};

}  // namespace kvmemu::supervisor
