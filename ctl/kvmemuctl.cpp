// kvmemuctl: kvmemud's control tool: list VMs, print a VM's statistics (like kvm_stat), read and
// write the kvm module parameters.
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "common/control_protocol.hpp"
#include "ctl/control_client.hpp"

namespace {

void usage() {
    std::cout << "Usage: kvmemuctl [--socket PATH] COMMAND\n"
                 "  list                  VMs: id, creator pid, vCPUs, memslots, NX state\n"
                 "  stats VMID            a VM's statistics (name value)\n"
                 "  get PARAM             a kvm module parameter (nx_huge_pages,\n"
                 "                        nx_huge_pages_recovery_ratio,\n"
                 "                        nx_huge_pages_recovery_period_ms)\n"
                 "  set PARAM VALUE       write one (root only; the kernel's errnos)\n";
}

int fail(const std::string& what, int e) {
    std::cerr << "kvmemuctl: " << what << ": " << std::strerror(e) << "\n";
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket = kvmemu::control::kDefaultSocket;
    int i = 1;
    if (i + 1 < argc && std::string(argv[i]) == "--socket") {
        socket = argv[i + 1];
        i += 2;
    }
    if (i >= argc || std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
        usage();
        return i >= argc ? 2 : 0;
    }
    const std::string cmd = argv[i];
    auto client = kvmemu::control::ControlClient::connect(socket);
    if (!client) return fail("cannot reach kvmemud at " + socket, client.error());

    if (cmd == "list" || cmd == "stats") {
        std::string req = cmd;
        if (cmd == "stats") {
            if (i + 1 >= argc) return usage(), 2;
            req += " " + std::string(argv[i + 1]);
        }
        auto lines = client->call_list(req);
        if (!lines) return fail(req, lines.error());
        for (const auto& l : *lines) std::cout << l << "\n";
        return 0;
    }
    if (cmd == "get" && i + 1 < argc) {
        auto v = client->call("get " + std::string(argv[i + 1]));
        if (!v) return fail(argv[i + 1], v.error());
        std::cout << *v << "\n";
        return 0;
    }
    if (cmd == "set" && i + 2 < argc) {
        auto v = client->call("set " + std::string(argv[i + 1]) + " " + argv[i + 2]);
        if (!v) return fail(std::string("write '") + argv[i + 2] + "' to " + argv[i + 1], v.error());
        return 0;
    }
    usage();
    return 2;
}
