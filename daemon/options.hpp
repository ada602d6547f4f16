// kvmemud's command line.
#pragma once

#include <optional>
#include <string>

#include "daemon/fuse_ring_io.hpp"
#include "kvm/config.hpp"

namespace kvmemu::daemon {

struct Options {
    std::string device_name = "kvm";
    std::string socket_path = "/run/kvmemu/supervisor.sock";
    std::string control_path = "/run/kvmemu/control.sock";
    std::string log_level = "info";
    CuseIoMode cuse_io = CuseIoMode::ring;
    kvm::Config kvm;
    // Module parameters at start (as written to /sys/module/kvm/parameters/...); unset: default.
    std::optional<std::string> nx_huge_pages;
    std::optional<std::string> nx_huge_pages_recovery_ratio;
    std::optional<std::string> nx_huge_pages_recovery_period_ms;
};

// Parses argv. Returns nullopt when the program should exit with `exit_code` (help, version,
// or an error already printed).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace kvmemu::daemon
