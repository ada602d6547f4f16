// Daemon: start-up order (device, then supervisor once the device exists), readiness and
// shutdown through the event loop.
#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <csignal>

#include "caps/nx_permission.hpp"
#include "daemon/host_cpu.hpp"
#include "daemon/process_guest_pages.hpp"
#include "guestmem/detecting_host_level.hpp"

#include <cerrno>
#include <cstring>
#include "daemon/supervisor_service.hpp"

namespace kvmemu::daemon {

namespace {

kvm::HostOracleFactory host_oracles(kvm::HostMappingLevel level) {
    if (level != kvm::HostMappingLevel::Detect) return nullptr;  // the System's fixed level
    return [](pid_t owner) -> std::unique_ptr<mmu::HostMappingOracle> {
        return guestmem::DetectingHostLevel::for_pid(owner, [owner](std::string_view msg) {
            spdlog::debug("host mapping level of pid {}: {}", owner, msg);
        });
    };
}

}  // namespace

Expected<mmu::NxParams> Daemon::initial_params(const Options& options, std::string& error) {
    mmu::NxParams params(nx_auto_mode());
    const auto apply = [&](const char* name, const std::optional<std::string>& value,
                           auto set) -> bool {
        if (!value) return true;
        if (auto r = set(*value); !r) {
            error = std::string("--") + name + "=" + *value + ": " + std::strerror(r.error());
            return false;
        }
        return true;
    };
    if (!apply("nx-huge-pages", options.nx_huge_pages,
               [&](const std::string& v) { return params.set_nx_huge_pages(v, false); }) ||
        !apply("nx-huge-pages-recovery-ratio", options.nx_huge_pages_recovery_ratio,
               [&](const std::string& v) { return params.set_recovery_ratio(v); }) ||
        !apply("nx-huge-pages-recovery-period-ms", options.nx_huge_pages_recovery_period_ms,
               [&](const std::string& v) { return params.set_recovery_period_ms(v); }))
        return Errno{EINVAL};
    return params;
}

Daemon::Daemon(Options options, mmu::NxParams params)
    : options_(std::move(options)),
      signals_(io_, SIGTERM, SIGINT),
      system_(options_.kvm, [](pid_t tid) { return caps::may_disable_nx_huge_pages(tid); }, params,
              host_oracles(options_.kvm.host_mapping_level), make_process_guest_pages),
      vcpu_files_(system_, VcpuFiles::Options{"/dev/fuse", options_.cuse_io}),
      device_(system_, CuseDevice::Options{options_.device_name, "/dev/cuse", options_.cuse_io}),
      recovery_(io_, system_),
      control_(io_, system_, options_.control_path) {}

Daemon::~Daemon() { shutdown("exit"); }

int Daemon::run() {
    std::signal(SIGPIPE, SIG_IGN);
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (!ec) shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
    spdlog::info("kvmemud {} starting: device /dev/{}, cap numbering {}, host mapping level {}, "
                 "nx_huge_pages={}",
                 KVMEMU_VERSION, options_.device_name, kvm::to_string(options_.kvm.cap_numbering),
                 kvm::to_string(options_.kvm.host_mapping_level),
                 system_.read_param("nx_huge_pages").value().substr(0, 5));
    if (vcpu_files_.start() != 0) return 1;
    system_.set_run_area_factory([this] { return vcpu_files_.make_run_area(); });
    recovery_.start();
    const int e = device_.start([this] {
        // On the CUSE thread: continue on the event loop.
        boost::asio::post(io_, [this] { on_device_ready(); });
    });
    if (e != 0) return 1;
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
    return 0;
}

void Daemon::on_device_ready() {
    if (stopping_) return;
    backend_ = std::make_unique<KvmBackend>(system_, device_.path(), device_.rdev());
    supervisor_ = std::make_unique<SupervisorService>(io_, *backend_, options_.socket_path);
    if (!supervisor_->start()) {
        spdlog::warn("supervisor socket {} unavailable: programs can query {} but not create VMs",
                     options_.socket_path, device_.path());
    }
    control_.start();
    sd_notify(0, "READY=1\nSTATUS=serving");
    spdlog::info("ready");
}

void Daemon::shutdown(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    spdlog::info("shutting down ({})", why);
    sd_notify(0, "STOPPING=1");
    if (supervisor_) supervisor_->stop();  // ends running KVM_RUNs
    recovery_.stop();
    control_.stop();
    vcpu_files_.stop();
    device_.stop();
    io_.stop();
}

}  // namespace kvmemu::daemon
