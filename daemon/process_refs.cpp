// process_holds_any(): a scan of /proc/PID/fd (stat through the links) and /proc/PID/maps
// (device and inode columns).
#include "daemon/process_refs.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace kvmemu::daemon {

namespace {

bool contains(std::span<const FileId> ids, dev_t dev, ino_t ino) {
    return std::find(ids.begin(), ids.end(), FileId{dev, ino}) != ids.end();
}

bool fds_hold(pid_t tgid, std::span<const FileId> ids) {
    const std::string dir = "/proc/" + std::to_string(tgid) + "/fd";
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) return false;
    while (const dirent* e = ::readdir(d.get())) {
        if (e->d_name[0] == '.') continue;
        struct stat st {};
        if (::stat((dir + "/" + e->d_name).c_str(), &st) == 0 && contains(ids, st.st_dev, st.st_ino))
            return true;
    }
    return false;
}

bool maps_hold(pid_t tgid, std::span<const FileId> ids) {
    std::ifstream maps("/proc/" + std::to_string(tgid) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
        // address perms offset major:minor inode [path]
        std::istringstream in(line);
        std::string addr, perms, offset, dev;
        unsigned long long inode = 0;
        if (!(in >> addr >> perms >> offset >> dev >> inode) || inode == 0) continue;
        unsigned maj = 0, min = 0;
        if (std::sscanf(dev.c_str(), "%x:%x", &maj, &min) != 2) continue;
        if (contains(ids, makedev(maj, min), static_cast<ino_t>(inode))) return true;
    }
    return false;
}

}  // namespace

bool process_holds_any(pid_t tgid, std::span<const FileId> ids) {
    if (tgid <= 0 || ids.empty()) return false;
    return fds_hold(tgid, ids) || maps_hold(tgid, ids);
}

}  // namespace kvmemu::daemon
