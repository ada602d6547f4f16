// ProcTask: a handle on one thread's /proc entry that stays bound to that thread, so that reads
// made through it fail (instead of reading a stranger) once the thread is gone and its tid reused.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/expected.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::caps {

class ProcTask {
public:
    // Opens /proc/<tid> under `proc_root` (tests pass a fake tree). tid <= 0 -> ESRCH.
    static Expected<ProcTask> open(pid_t tid, const std::string& proc_root = "/proc");

    [[nodiscard]] pid_t tid() const noexcept { return tid_; }
    // Thread-group id (the process) from the Tgid: line of status.
    [[nodiscard]] Expected<pid_t> tgid() const;
    // One "Key:\tvalue" line of status, value trimmed.
    [[nodiscard]] Expected<std::string> status_field(const std::string& key) const;
    // st_dev/st_ino of ns/<name> (e.g. "user").
    [[nodiscard]] Expected<std::pair<dev_t, ino_t>> namespace_id(const char* name) const;
    // True while the thread this handle was opened on still exists.
    [[nodiscard]] bool alive() const;

private:
    ProcTask(pid_t tid, UniqueFd dir) : tid_(tid), dir_(std::move(dir)) {}
    [[nodiscard]] Expected<std::string> read_status() const;

    pid_t tid_;
    UniqueFd dir_;
};

}  // namespace kvmemu::caps
