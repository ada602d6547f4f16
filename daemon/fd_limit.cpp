#include "daemon/fd_limit.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace kvmemu::daemon {

void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        spdlog::warn("getrlimit(RLIMIT_NOFILE) failed: {}", std::strerror(errno));
        return;
    }
    if (lim.rlim_cur == lim.rlim_max) return;
    const rlim_t old = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        spdlog::warn("raising the open-file limit from {} failed: {}", old, std::strerror(errno));
        return;
    }
    spdlog::debug("open-file limit raised from {} to {}", old, lim.rlim_cur);
}

}  // namespace kvmemu::daemon
