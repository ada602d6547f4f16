// run_child: posix_spawn + pipe + poll deadline + waitpid.
#include "tests/supervisor/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/unique_fd.hpp"

extern char** environ;

namespace kvmemu::testing {

int ChildResult::exit_code() const {
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string ChildResult::get(const std::string& key) const {
    std::istringstream in(out);
    std::string line;
    std::string value;
    const std::string prefix = key + "=";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) value = line.substr(prefix.size());
    }
    return value;
}

long ChildResult::num(const std::string& key) const {
    const std::string v = get(key);
    return v.empty() ? -999999 : std::strtol(v.c_str(), nullptr, 0);
}

ChildResult run_child(const std::vector<std::string>& argv, bool merge_stderr,
                      std::chrono::milliseconds timeout) {
    ChildResult res;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return res;
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    if (merge_stderr) posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int r = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    wr.reset();
    if (r != 0) return res;
    res.pid = pid;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            res.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd pf{rd.get(), POLLIN, 0};
        if (::poll(&pf, 1, static_cast<int>(left.count())) <= 0) continue;
        const ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n <= 0) break;
        res.out.append(buf, static_cast<std::size_t>(n));
    }
    ::waitpid(pid, &res.status, 0);
    return res;
}

std::string traced_child_path() {
    return KVMEMU_TRACED_CHILD;
}

}  // namespace kvmemu::testing
