// The daemon keeps two fds per vCPU (run area and stats memfds) and one per VM: a VM with KVM's
// 1024 vCPUs needs more than the usual soft limit of 1024 open files.
#pragma once

namespace kvmemu::daemon {

// Raises RLIMIT_NOFILE's soft limit to its hard limit (systemd gives services 524288); logs the
// outcome. Failure is not fatal: fewer vCPUs can be created (EMFILE).
void raise_fd_limit();

}  // namespace kvmemu::daemon
