// nx_auto_mode(): sysfs vulnerability file and the kernel command line.
#include "daemon/host_cpu.hpp"

#include <fstream>
#include <sstream>

namespace kvmemu::daemon {

bool nx_auto_mode(const std::string& sysfs_root, const std::string& cmdline) {
    std::ifstream vuln(sysfs_root + "/devices/system/cpu/vulnerabilities/itlb_multihit");
    std::string state;
    if (!std::getline(vuln, state) || state.rfind("Not affected", 0) == 0) return false;
    std::ifstream cmd(cmdline);
    std::string word;
    while (cmd >> word)
        if (word == "mitigations=off") return false;
    return true;
}

}  // namespace kvmemu::daemon
