// NxRecoveryScheduler: one recovery timer per VM on the daemon's event loop, as KVM runs one
// recovery worker per VM: every nx_huge_pages_recovery_period_ms since the VM's creation (or its
// last pass) the VM zaps ceil(nx_lpage_splits / ratio) NX splits, oldest first.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>

#include "kvm/system.hpp"

namespace kvmemu::daemon {

class NxRecoveryScheduler {
public:
    NxRecoveryScheduler(boost::asio::io_context& io, kvm::System& system);
    ~NxRecoveryScheduler();
    // Registers the System hooks; timers start with each VM.
    void start();
    void stop();

private:
    void add(std::uint64_t vm_id);
    void remove(std::uint64_t vm_id);
    void arm(std::uint64_t vm_id);
    void rearm_all();  // the period or ratio changed

    boost::asio::io_context& io_;
    kvm::System& system_;
    std::map<std::uint64_t, std::unique_ptr<boost::asio::steady_timer>> timers_;  // loop thread only
    bool stopped_ = false;
};

}  // namespace kvmemu::daemon
