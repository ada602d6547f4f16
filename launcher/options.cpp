// kvmemu-run's command line with Boost.Program_options, and its --help text.
#include "launcher/options.hpp"

#include <boost/program_options.hpp>
#include <sstream>

#include "supervisor/handshake_protocol.hpp"

namespace kvmemu::launcher {

namespace po = boost::program_options;

namespace {

po::options_description describe_options() {
    po::options_description desc("Options");
    desc.add_options()                         //
        ("help,h", "show this help and exit")  //
        ("device", po::value<std::string>()->value_name("PATH"),
         "the daemon's device, when it is not /dev/kvm: shown to PROGRAM at /dev/kvm in a "
         "private mount namespace (needs CAP_SYS_ADMIN)")  //
        ("socket",
         po::value<std::string>()->value_name("PATH")->default_value(
             supervisor::handshake::kDefaultSocketPath),
         "kvmemud's supervisor socket")  //
        ("verbose,v", "say what is being set up");
    return desc;
}

bool takes_value(const std::string& arg) {
    return arg == "--device" || arg == "--socket";
}

}  // namespace

ParsedOptions parse_options(int argc, const char* const argv[]) {
    ParsedOptions out;
    std::vector<std::string> ours;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;  // PROGRAM
        ours.push_back(arg);
        if (takes_value(arg) && i + 1 < argc) ours.emplace_back(argv[++i]);
    }
    for (; i < argc; ++i) out.options.command.emplace_back(argv[i]);

    try {
        po::variables_map vm;
        po::store(po::command_line_parser(ours).options(describe_options()).run(), vm);
        po::notify(vm);
        out.options.help = vm.count("help") != 0;
        out.options.verbose = vm.count("verbose") != 0;
        if (vm.count("device") != 0) out.options.device = vm["device"].as<std::string>();
        out.options.socket = vm["socket"].as<std::string>();
    } catch (const po::error& e) {
        out.error = e.what();
        return out;
    }
    if (!out.options.help && out.options.command.empty()) out.error = "no PROGRAM given";
    return out;
}

std::string usage_text() {
    std::ostringstream os;
    os << "Usage: kvmemu-run [--device PATH] [--socket PATH] [--verbose] -- PROGRAM [ARGS...]\n"
          "\n"
          "Runs PROGRAM so that it can create VMs, vCPUs and stats fds on kvmemud's /dev/kvm:\n"
          "a seccomp filter hands PROGRAM's KVM fd-creating and vCPU ioctls (and those of its\n"
          "children) to kvmemud, which must be running.\n"
          "\n"
       << describe_options()
       << "\n"
          "Privileges: run as root, the filter is installed without NO_NEW_PRIVS, so PROGRAM's\n"
          "file capabilities (e.g. setcap cap_sys_boot+ep) and setuid bits still apply. Run as\n"
          "another user, the kernel requires NO_NEW_PRIVS: PROGRAM and everything it executes\n"
          "then gain no privileges from file capabilities or setuid/setgid bits.\n"
          "\n"
          "Exit status: PROGRAM's, or 125 if kvmemu-run itself fails, 126 if PROGRAM cannot be\n"
          "executed, 127 if PROGRAM is not found or kvmemud is not running.\n";
    return os.str();
}

}  // namespace kvmemu::launcher
