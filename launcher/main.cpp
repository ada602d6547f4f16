// kvmemu-run: installs the KVM seccomp filter, hands its listener to kvmemud, execs PROGRAM.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "launcher/device_mount.hpp"
#include "launcher/module_params.hpp"
#include "launcher/options.hpp"
#include "launcher/seccomp_filter.hpp"
#include "launcher/send_listener.hpp"
#include "launcher/trapped_requests.hpp"

namespace {

constexpr int kOwnFailure = 125;
constexpr int kCannotExec = 126;
constexpr int kNotFound = 127;

void say(const std::string& line) {
    std::fprintf(stderr, "kvmemu-run: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kvmemu::launcher;
    const auto parsed = parse_options(argc, argv);
    if (!parsed.error.empty()) {
        say(parsed.error);
        std::fprintf(stderr, "Try 'kvmemu-run --help'.\n");
        return kOwnFailure;
    }
    const Options& opt = parsed.options;
    if (opt.help) {
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    }

    // Mounts first: they need CAP_SYS_ADMIN, which NO_NEW_PRIVS does not take away but which a
    // single-threaded process must use before anything else.
    if (!opt.device.empty()) {
        if (auto st = show_device_at(opt.device); !st.ok()) {
            say(describe(st, opt.device));
            return kOwnFailure;
        }
        if (opt.verbose) say(opt.device + " is shown at /dev/kvm in a private mount namespace");
    }
    // As root, the daemon's kvm module parameters appear at /sys/module/kvm/parameters, where
    // harnesses read and write them. Without root (no mounts) the program sees the host's.
    if (::geteuid() == 0) {
        const auto slash = opt.socket.rfind('/');
        const std::string control =
            (slash == std::string::npos ? std::string(".") : opt.socket.substr(0, slash)) +
            "/control.sock";
        std::string why;
        if (int e = show_module_parameters(control, !opt.device.empty(), why); e != 0) {
            if (e != ENOENT || opt.verbose)
                say("kvm module parameters not shown at /sys/module/kvm/parameters: " + why);
        } else if (opt.verbose) {
            say("kvmemud's kvm module parameters are shown at /sys/module/kvm/parameters");
        }
    }

    auto filter = load_notify_filter(kTrappedRequests);
    if (!filter) {
        say(std::string("cannot install the seccomp filter: ") + std::strerror(filter.error()));
        return kOwnFailure;
    }
    if (opt.verbose) {
        say(filter->no_new_privs
                ? "seccomp filter installed with NO_NEW_PRIVS (not root): file capabilities and "
                  "setuid bits of PROGRAM will not apply"
                : "seccomp filter installed without NO_NEW_PRIVS");
    }

    const auto hs = send_listener(opt.socket, filter->listener.get());
    if (!hs.ok()) {
        say(describe(hs, opt.socket));
        const bool not_running = hs.stage == HandshakeStatus::Stage::Connect &&
                                 (hs.error == ENOENT || hs.error == ECONNREFUSED);
        return not_running ? kNotFound : kOwnFailure;
    }
    filter->listener.reset();  // the daemon holds it now
    if (opt.verbose) say("kvmemud at " + opt.socket + " supervises " + opt.command[0]);

    std::vector<char*> args;
    args.reserve(opt.command.size() + 1);
    for (const auto& a : opt.command) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    const int e = errno;
    say(opt.command[0] + ": " + std::strerror(e));
    return e == ENOENT ? kNotFound : kCannotExec;
}
