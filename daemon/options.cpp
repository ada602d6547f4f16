// parse_options(): Boost.Program_options over kvmemud's flags.
#include "daemon/options.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace kvmemu::daemon {

namespace po = boost::program_options;

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
    Options o;
    std::string numbering = "both";
    po::options_description desc(
        "kvmemud: a userspace /dev/kvm over CUSE\n\nUsage: kvmemud [options]\n\nOptions");
    desc.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("device-name", po::value(&o.device_name)->default_value(o.device_name),
         "name of the character device: /dev/NAME. Refuses to start if /dev/NAME exists "
         "(e.g. a real /dev/kvm): pick another name and run programs with "
         "'kvmemu-run --device /dev/NAME'")
        ("cap-numbering", po::value(&numbering)->default_value(numbering),
         "numbers of KVM_CAP_VM_DISABLE_NX_HUGE_PAGES: both (216 and 220), seed (216 only), "
         "mainline (220 only, exactly as real KVM)")
        ("socket", po::value(&o.socket_path)->default_value(o.socket_path),
         "unix socket where kvmemu-run hands over its seccomp listener")
        ("log-level", po::value(&o.log_level)->default_value(o.log_level),
         "trace, debug, info, warn or error")
        ("foreground,f", "accepted for compatibility; kvmemud always stays in the foreground");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "kvmemud: " << e.what() << "\n(see kvmemud --help)\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (vm.count("help") != 0) {
        std::cout << desc << "\n";
        exit_code = 0;
        return std::nullopt;
    }
    if (vm.count("version") != 0) {
        std::cout << "kvmemud " << KVMEMU_VERSION << "\n";
        exit_code = 0;
        return std::nullopt;
    }
    if (!kvm::parse_cap_numbering(numbering, o.kvm.cap_numbering)) {
        std::cerr << "kvmemud: --cap-numbering must be both, seed or mainline (got '" << numbering
                  << "')\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (o.device_name.empty() || o.device_name.find('/') != std::string::npos) {
        std::cerr << "kvmemud: --device-name must be a plain name such as 'kvm'\n";
        exit_code = 2;
        return std::nullopt;
    }
    return o;
}

}  // namespace kvmemu::daemon
