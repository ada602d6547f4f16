// kvmemu-run's command line: [--device PATH] [--socket PATH] [--verbose] [--] PROGRAM ARGS...
#pragma once

#include <string>
#include <vector>

namespace kvmemu::launcher {

struct Options {
    std::string device;  // empty: use /dev/kvm as it is
    std::string socket;
    bool verbose = false;
    bool help = false;
    std::vector<std::string> command;  // PROGRAM ARGS...
};

struct ParsedOptions {
    Options options;
    std::string error;  // empty on success
};

// Options end at "--" or at the first argument that is not an option (like env), so PROGRAM's
// own options are never taken for ours.
ParsedOptions parse_options(int argc, const char* const argv[]);
std::string usage_text();

}  // namespace kvmemu::launcher
