// Daemon: start-up order (device, then supervisor once the device exists), readiness and
// shutdown through the event loop.
#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <csignal>

#include "caps/nx_permission.hpp"
#include "daemon/supervisor_service.hpp"

namespace kvmemu::daemon {

Daemon::Daemon(Options options)
    : options_(std::move(options)),
      signals_(io_, SIGTERM, SIGINT),
      system_(options_.kvm, [](pid_t tid) { return caps::may_disable_nx_huge_pages(tid); }),
      device_(system_, CuseDevice::Options{options_.device_name, "/dev/cuse"}) {}

Daemon::~Daemon() { shutdown("exit"); }

int Daemon::run() {
    std::signal(SIGPIPE, SIG_IGN);
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (!ec) shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
    spdlog::info("kvmemud {} starting: device /dev/{}, cap numbering {}", KVMEMU_VERSION,
                 options_.device_name, kvm::to_string(options_.kvm.cap_numbering));
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
    sd_notify(0, "READY=1\nSTATUS=serving");
    spdlog::info("ready");
}

void Daemon::shutdown(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    spdlog::info("shutting down ({})", why);
    sd_notify(0, "STOPPING=1");
    if (supervisor_) supervisor_->stop();
    device_.stop();
    io_.stop();
}

}  // namespace kvmemu::daemon
