// ProcTask: reads of /proc/<tid> through a directory fd bound to the thread's struct pid.
#include "caps/proc_task.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace kvmemu::caps {

Expected<ProcTask> ProcTask::open(pid_t tid, const std::string& proc_root) {
    if (tid <= 0) return Errno{ESRCH};
    const std::string path = proc_root + "/" + std::to_string(tid);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return Errno{errno == ENOENT ? ESRCH : errno};
    return ProcTask(tid, std::move(dir));
}

Expected<std::string> ProcTask::read_status() const {
    UniqueFd fd(::openat(dir_.get(), "status", O_RDONLY | O_CLOEXEC));
    if (!fd) return Errno{errno == ENOENT ? ESRCH : errno};
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Errno{errno};
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    // A dead task's status reads as empty or fails with ESRCH.
    if (out.empty()) return Errno{ESRCH};
    return out;
}

Expected<std::string> ProcTask::status_field(const std::string& key) const {
    auto status = read_status();
    if (!status) return Errno{status.error()};
    const std::string needle = key + ":";
    std::size_t pos = 0;
    while (pos < status->size()) {
        const std::size_t eol = status->find('\n', pos);
        const std::size_t end = eol == std::string::npos ? status->size() : eol;
        if (status->compare(pos, needle.size(), needle) == 0) {
            std::size_t b = pos + needle.size();
            while (b < end && ((*status)[b] == ' ' || (*status)[b] == '\t')) ++b;
            return status->substr(b, end - b);
        }
        pos = end + 1;
    }
    return Errno{ENOENT};
}

Expected<pid_t> ProcTask::tgid() const {
    auto field = status_field("Tgid");
    if (!field) return Errno{field.error()};
    char* end = nullptr;
    const long v = std::strtol(field->c_str(), &end, 10);
    if (end == field->c_str() || v <= 0) return Errno{EINVAL};
    return static_cast<pid_t>(v);
}

Expected<std::pair<dev_t, ino_t>> ProcTask::namespace_id(const char* name) const {
    const std::string rel = std::string("ns/") + name;
    struct stat st {};
    if (::fstatat(dir_.get(), rel.c_str(), &st, 0) != 0) return Errno{errno};
    return std::pair{st.st_dev, st.st_ino};
}

bool ProcTask::alive() const { return read_status().has_value(); }

}  // namespace kvmemu::caps
