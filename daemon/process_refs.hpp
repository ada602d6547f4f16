// Whether a process still refers to given files (by fd or by mapping): how the daemon learns that
// a VM whose VM fd was closed is still reachable through its vCPU or stats fds.
#pragma once

#include <sys/types.h>

#include <span>
#include <utility>

namespace kvmemu::daemon {

using FileId = std::pair<dev_t, ino_t>;

// True if process `tgid` has an fd open on, or a mapping of, any file in `ids`. False when the
// process is gone or cannot be inspected.
bool process_holds_any(pid_t tgid, std::span<const FileId> ids);

}  // namespace kvmemu::daemon
