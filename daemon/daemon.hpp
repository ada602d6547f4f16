// Daemon: kvmemud's top object. Owns the KVM model, the CUSE device, the vCPU files, the
// supervisor server and the Boost.Asio event loop (signals, sockets, timers); the only holder of
// mutable global state.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>

#include "daemon/control_server.hpp"
#include "daemon/cuse_device.hpp"
#include "daemon/kvm_backend.hpp"
#include "daemon/nx_recovery_scheduler.hpp"
#include "daemon/options.hpp"
#include "daemon/vcpu_files.hpp"
#include "kvm/system.hpp"
#include "mmu/nx_params.hpp"

namespace kvmemu::daemon {

class SupervisorService;

class Daemon {
public:
    // The kvm module parameters as the options set them at start, or a message saying why not.
    static Expected<mmu::NxParams> initial_params(const Options& options, std::string& error);

    Daemon(Options options, mmu::NxParams params);
    ~Daemon();

    // Runs until SIGTERM/SIGINT. Returns the process exit code.
    int run();

private:
    void on_device_ready();
    void shutdown(const char* why);

    Options options_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    kvm::System system_;
    VcpuFiles vcpu_files_;
    CuseDevice device_;
    NxRecoveryScheduler recovery_;
    ControlServer control_;
    std::unique_ptr<KvmBackend> backend_;
    std::unique_ptr<SupervisorService> supervisor_;
    bool stopping_ = false;
};

}  // namespace kvmemu::daemon
