// parse_options(): Boost.Program_options over kvmemud's flags.
#include "daemon/options.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace kvmemu::daemon {

namespace po = boost::program_options;

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
    Options o;
    std::string numbering = "both";
    std::string host_level = "detect";
    std::string config_file;
    std::string nx, ratio, period;
    std::string cuse_io = "ring";
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
        ("control", po::value(&o.control_path)->default_value(o.control_path),
         "unix socket of kvmemuctl (root only)")
        ("host-mapping-level", po::value(&host_level)->default_value(host_level),
         "host page size the MMU assumes behind guest memory: detect (from the VMM's real "
         "mapping: hugetlb and THP), 4k (never huge), 2m (as if 2 MiB-backed, e.g. under UML), "
         "1g (as if 1 GiB-backed); memslot alignment, dirty logging and the NX rule still apply")
        ("nx-huge-pages", po::value(&nx),
         "initial kvm.nx_huge_pages: off, force, auto, never or a boolean (default auto)")
        ("nx-huge-pages-recovery-ratio", po::value(&ratio),
         "initial kvm.nx_huge_pages_recovery_ratio (default 60; 0 disables recovery)")
        ("nx-huge-pages-recovery-period-ms", po::value(&period),
         "initial kvm.nx_huge_pages_recovery_period_ms (default 0: derived from the ratio)")
        ("config", po::value(&config_file),
         "read options from FILE too (lines 'name = value', names as the long options)")
        ("cuse-io", po::value(&cuse_io)->default_value(cuse_io),
         "how requests are read from /dev/cuse: ring (io_uring: a reply and the next read in one "
         "system call; plain system calls where io_uring is unavailable) or syscalls (read, "
         "then writev)")
        ("log-level", po::value(&o.log_level)->default_value(o.log_level),
         "trace, debug, info, warn or error")
        ("foreground,f", "accepted for compatibility; kvmemud always stays in the foreground");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        if (vm.count("config") != 0) {
            po::store(po::parse_config_file(vm["config"].as<std::string>().c_str(), desc), vm);
        }
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
    if (!kvm::parse_host_mapping_level(host_level, o.kvm.host_mapping_level)) {
        std::cerr << "kvmemud: --host-mapping-level must be detect, 4k, 2m or 1g (got '"
                  << host_level << "')\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (cuse_io == "ring" || cuse_io == "syscalls") {
        o.cuse_io = cuse_io == "ring" ? CuseIoMode::ring : CuseIoMode::syscalls;
    } else {
        std::cerr << "kvmemud: --cuse-io must be ring or syscalls (got '" << cuse_io << "')\n";
        exit_code = 2;
        return std::nullopt;
    }
    if (vm.count("nx-huge-pages") != 0) o.nx_huge_pages = nx;
    if (vm.count("nx-huge-pages-recovery-ratio") != 0) o.nx_huge_pages_recovery_ratio = ratio;
    if (vm.count("nx-huge-pages-recovery-period-ms") != 0) o.nx_huge_pages_recovery_period_ms = period;
    if (o.device_name.empty() || o.device_name.find('/') != std::string::npos) {
        std::cerr << "kvmemud: --device-name must be a plain name such as 'kvm'\n";
        exit_code = 2;
        return std::nullopt;
    }
    return o;
}

}  // namespace kvmemu::daemon
