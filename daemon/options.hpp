// kvmemud's command line.
#pragma once

#include <optional>
#include <string>

#include "kvm/config.hpp"

namespace kvmemu::daemon {

struct Options {
    std::string device_name = "kvm";
    std::string socket_path = "/run/kvmemu/supervisor.sock";
    std::string log_level = "info";
    kvm::Config kvm;
};

// Parses argv. Returns nullopt when the program should exit with `exit_code` (help, version,
// or an error already printed).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code);

}  // namespace kvmemu::daemon
