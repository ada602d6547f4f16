// kvmemud entry point: options, logging, the refusal to shadow an existing device, then Daemon.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "daemon/daemon.hpp"
#include "daemon/fd_limit.hpp"
#include "daemon/logging.hpp"
#include "daemon/options.hpp"

int main(int argc, char** argv) {
    int exit_code = 0;
    auto options = kvmemu::daemon::parse_options(argc, argv, exit_code);
    if (!options) return exit_code;
    if (!kvmemu::daemon::setup_logging(options->log_level)) {
        spdlog::error("unknown --log-level '{}'", options->log_level);
        return 2;
    }
    const std::string path = "/dev/" + options->device_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        spdlog::error(
            "{} already exists and is not ours ({}, device {}:{}). If it is a real KVM device, "
            "start kvmemud with --device-name=kvmemu and run programs as "
            "'kvmemu-run --device /dev/kvmemu -- PROGRAM'; if it is stale, remove it.",
            path, S_ISCHR(st.st_mode) ? "character device" : "not a character device",
            major(st.st_rdev), minor(st.st_rdev));
        return 1;
    }
    kvmemu::daemon::raise_fd_limit();
    std::string error;
    auto params = kvmemu::daemon::Daemon::initial_params(*options, error);
    if (!params) {
        spdlog::error("{}", error);
        return 2;
    }
    kvmemu::daemon::Daemon daemon(std::move(*options), *params);
    return daemon.run();
}
