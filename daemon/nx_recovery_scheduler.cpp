// NxRecoveryScheduler: per-VM steady_timers; hooks from other threads are posted to the loop.
#include "daemon/nx_recovery_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

namespace kvmemu::daemon {

NxRecoveryScheduler::NxRecoveryScheduler(boost::asio::io_context& io, kvm::System& system)
    : io_(io), system_(system) {}

NxRecoveryScheduler::~NxRecoveryScheduler() { stop(); }

void NxRecoveryScheduler::start() {
    system_.set_vm_hooks(
        [this](const std::shared_ptr<kvm::Vm>& vm) {
            const std::uint64_t id = vm->id();
            boost::asio::post(io_, [this, id] { add(id); });
        },
        [this](std::uint64_t id) { boost::asio::post(io_, [this, id] { remove(id); }); });
    system_.set_on_recovery_change([this] { boost::asio::post(io_, [this] { rearm_all(); }); });
}

void NxRecoveryScheduler::stop() {
    if (stopped_) return;
    stopped_ = true;
    system_.set_vm_hooks(nullptr, nullptr);
    system_.set_on_recovery_change(nullptr);
    timers_.clear();
}

void NxRecoveryScheduler::add(std::uint64_t vm_id) {
    if (stopped_ || !system_.find_vm(vm_id)) return;
    timers_[vm_id] = std::make_unique<boost::asio::steady_timer>(io_);
    arm(vm_id);
}

void NxRecoveryScheduler::remove(std::uint64_t vm_id) { timers_.erase(vm_id); }

void NxRecoveryScheduler::arm(std::uint64_t vm_id) {
    const auto it = timers_.find(vm_id);
    if (it == timers_.end()) return;
    const auto period = system_.recovery_period_ms();
    if (!period) return;  // recovery disabled: re-armed when the parameters change
    it->second->expires_after(std::chrono::milliseconds(*period));
    it->second->async_wait([this, vm_id](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        if (auto vm = system_.find_vm(vm_id)) {
            const std::size_t n = vm->recover_nx_splits(system_.recovery_ratio());
            if (n != 0) spdlog::debug("VM {}: NX recovery zapped {} split(s)", vm_id, n);
        }
        arm(vm_id);
    });
}

void NxRecoveryScheduler::rearm_all() {
    for (auto& [id, timer] : timers_) {
        timer->cancel();
        arm(id);
    }
}

}  // namespace kvmemu::daemon
