// PendingCall: one trapped ioctl, identified (caller, target fd) and ready for the Backend.
#pragma once

#include "supervisor/backend.hpp"
#include "supervisor/caller_registry.hpp"
#include "supervisor/notification.hpp"

namespace kvmemu::supervisor {

struct PendingCall {
    Notification notif;
    Caller caller;
    TargetFd target;
};

}  // namespace kvmemu::supervisor
