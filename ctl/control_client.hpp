// ControlClient: a blocking client of kvmemud's control socket (common/control_protocol.hpp).
#pragma once

#include <string>
#include <vector>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::control {

class ControlClient {
public:
    static Expected<ControlClient> connect(const std::string& path);

    // A one-line request answered "ok[ VALUE]": VALUE, or the errno of "err ERRNO".
    Expected<std::string> call(const std::string& request);
    // A listing: the lines before ".", or the errno of "err ERRNO".
    Expected<std::vector<std::string>> call_list(const std::string& request);

private:
    explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
    Expected<std::string> read_line();

    UniqueFd fd_;
    std::string buffer_;
};

}  // namespace kvmemu::control
