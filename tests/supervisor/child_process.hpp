// run_child: runs a helper program (posix_spawn) with its stdout captured, under a deadline, and
// parses its "key=value" lines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kvmemu::testing {

struct ChildResult {
    pid_t pid = -1;
    int status = -1;  // waitpid status
    bool timed_out = false;
    std::string out;  // stdout (and stderr if asked)

    [[nodiscard]] int exit_code() const;
    // The last value printed for `key` ("" if none).
    [[nodiscard]] std::string get(const std::string& key) const;
    [[nodiscard]] long num(const std::string& key) const;
};

ChildResult run_child(const std::vector<std::string>& argv, bool merge_stderr = false,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Path of the traced_child helper.
std::string traced_child_path();

}  // namespace kvmemu::testing
