// Logging setup: the systemd journal when started by systemd, stderr otherwise.
#pragma once

#include <string>

namespace kvmemu::daemon {

// level: trace, debug, info, warn, error. Returns false for an unknown level.
bool setup_logging(const std::string& level);

}  // namespace kvmemu::daemon
