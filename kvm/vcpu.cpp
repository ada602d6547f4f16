// Vcpu: reset state (kvm_vcpu_reset()), the vCPU ioctls of arch/x86/kvm/x86.c with their copy-in
// order and errnos, and KVM_RUN over the software CPU engine.
#include "kvm/vcpu.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kvm/cpu_features.hpp"
#include "kvm/cpu_model.hpp"
#include "kvm/msr_io.hpp"
#include "kvm/vcpu_state.hpp"
#include "kvm/vm.hpp"
#include "kvm/vm_phys_bus.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

namespace {
constexpr std::uint64_t kCr0Pg = 1ULL << 31, kCr0Pe = 1ULL << 0, kCr0Cd = 1ULL << 30,
                        kCr0Nw = 1ULL << 29;
constexpr std::uint64_t kCr4Pae = 1ULL << 5;
constexpr std::uint64_t kEferLme = 1ULL << 8, kEferLma = 1ULL << 10;
constexpr std::uint64_t kApicBaseBsp = 1ULL << 8, kApicBaseX2apic = 1ULL << 10,
                        kApicBaseEnable = 1ULL << 11, kApicBaseDefault = 0xfee00000;
constexpr std::uint64_t kPioOffset = u::PIO_PAGE_OFFSET * u::VCPU_PAGE_SIZE;

cpu::Segment segment(std::uint16_t sel, std::uint64_t base, std::uint8_t type, bool s) {
    cpu::Segment seg;
    seg.base = base;
    seg.limit = 0xffff;
    seg.selector = sel;
    seg.type = type;
    seg.present = 1;
    seg.s = s ? 1 : 0;
    return seg;
}
}  // namespace

Expected<std::unique_ptr<Vcpu>> Vcpu::create(std::uint32_t id, pid_t owner_tgid,
                                             std::unique_ptr<GuestPages> pages,
                                             bool in_kernel_lapic,
                                             const RunAreaFactory& run_area) {
    auto area = run_area ? run_area() : make_memfd_run_area();
    if (!area) return Errno{area.error()};
    auto stats = StatsFile::create("kvm-" + std::to_string(owner_tgid) + "/vcpu-" + std::to_string(id),
                                   kVcpuStatDescriptors, kVcpuStatsDataSize);
    if (!stats) return Errno{stats.error()};
    if (!pages) pages = std::make_unique<LocalGuestPages>();
    return std::make_unique<Vcpu>(Key{}, id, std::move(*area), std::move(*stats),
                                  std::move(pages), in_kernel_lapic);
}

Vcpu::Vcpu(Key /*key*/, std::uint32_t id, RunArea run_area, StatsFile stats,
           std::unique_ptr<GuestPages> pages, bool in_kernel_lapic)
    : id_(id), run_area_(std::move(run_area)), stats_(std::move(stats)),
      pages_(std::move(pages)) {
    // kvm_vcpu_is_reset_bsp(): vCPU 0 is the BSP. With an in-kernel APIC, the other vCPUs wait
    // for INIT/SIPI (KVM_MP_STATE_UNINITIALIZED).
    if (in_kernel_lapic) {
        lapic_.emplace(id, id == 0);
        if (id != 0) mp_state_ = u::MP_STATE_UNINITIALIZED;
    }
    reset();
    engine_.set_unsupported_hook([id](std::uint64_t rip, std::span<const std::uint8_t> bytes,
                                      const char* what) {
        std::string hex;
        for (auto b : bytes) hex += fmt::format("{:02x} ", b);
        spdlog::debug("vCPU {}: unsupported instruction '{}' at rip {:#x} ({}): #UD to the guest", id,
                      what, rip, hex);
    });
    publish_stats();
}

void Vcpu::reset() {
    // The architectural INIT/RESET state KVM gives a new vCPU (kvm_vcpu_reset(), vmx/svm reset).
    state_ = cpu::CpuState{};
    state_.rip = 0xfff0;
    state_.rflags = 0x2;
    state_.gpr[cpu::RDX] = 0x600;  // no CPUID yet: KVM's default signature
    state_.seg[cpu::CS] = segment(0xf000, 0xffff0000, 0xb, true);
    for (auto i : {cpu::DS, cpu::ES, cpu::FS, cpu::GS, cpu::SS}) state_.seg[i] = segment(0, 0, 0x3, true);
    state_.tr = segment(0, 0, 0xb, false);
    state_.ldt = segment(0, 0, 0x2, false);
    state_.gdt = {0, 0xffff};
    state_.idt = {0, 0xffff};
    state_.cr0 = 0x60000010;
    // Enabled at the default base (also without an in-kernel APIC); the BSP flag on vCPU 0 only.
    state_.apic_base = kApicBaseDefault | kApicBaseEnable | (id_ == 0 ? kApicBaseBsp : 0);
    events_ = {};  // kvm_vcpu_reset(): DR0-3 cleared, DR6/DR7 at their reset values
    xinuse_ = 0;   // every XSAVE component in its init state
    state_.fx.fcw = 0x37f;
    state_.fx.mxcsr = 0;  // KVM_GET_FPU reads 0 after reset on the oracle
    // kvm_arch_vcpu_postcreate() -> kvm_synchronize_tsc(): a new vCPU's TSC starts at 0.
    engine_.set_msr(state_, cpu::msr::TSC, 0);
}

std::uint64_t Vcpu::stat(std::uint32_t offset) const { return stats_data_[offset / 8]; }

long Vcpu::ioctl(const Caller& /*caller*/, std::uint32_t cmd, std::uint64_t arg, UserIo& io) {
    const std::lock_guard lock(mu_);
    return ioctl_locked(cmd, arg, io);
}

std::optional<long> Vcpu::try_ioctl(const Caller& /*caller*/, std::uint32_t cmd,
                                    std::uint64_t arg, UserIo& io) {
    const std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return std::nullopt;
    return ioctl_locked(cmd, arg, io);
}

long Vcpu::ioctl_locked(std::uint32_t cmd, std::uint64_t arg, UserIo& io) {
    switch (cmd) {
        case u::GET_REGS: return -io.write_obj(arg, to_kvm_regs(state_));
        case u::SET_REGS: {
            auto r = io.read_obj<u::kvm_regs>(arg);
            if (!r) return -r.error();
            from_kvm_regs(*r, state_);
            return 0;
        }
        case u::GET_SREGS: return -io.write_obj(arg, to_kvm_sregs(state_));
        case u::SET_SREGS: return set_sregs(arg, io);
        case u::GET_FPU: return -io.write_obj(arg, to_kvm_fpu(state_));
        case u::SET_FPU: {
            auto f = io.read_obj<u::kvm_fpu>(arg);
            if (!f) return -f.error();
            from_kvm_fpu(*f, state_);
            xinuse_ = kXsaveModelled;  // the values written are the ones the guest gets
            return 0;
        }
        case u::GET_XSAVE: return -io.write_obj(arg, to_kvm_xsave(state_, xinuse_));
        case u::SET_XSAVE: {
            auto x = io.read_obj<u::kvm_xsave>(arg);
            if (!x) return -x.error();
            return from_kvm_xsave(*x, state_, xinuse_);
        }
        // The CPU model has no XSAVE instruction (CPUID.1:ECX.XSAVE clear), so these behave as
        // on a host without it: no XCRs to report, none to set (and KVM_CAP_XCRS is 0).
        case u::GET_XCRS: return -io.write_obj(arg, u::kvm_xcrs{});
        case u::SET_XCRS: {
            auto x = io.read_obj<u::kvm_xcrs>(arg);
            if (!x) return -x.error();
            return -EINVAL;
        }
        case u::GET_MP_STATE: return -io.write_obj(arg, u::kvm_mp_state{mp_state()});
        case u::SET_MP_STATE: return set_mp_state(arg, io);
        case u::SET_CPUID2: return set_cpuid2(arg, io);
        case u::GET_CPUID2: return get_cpuid2(arg, io);
        case u::GET_MSRS: return msr_io(arg, io, false);
        case u::SET_MSRS: return msr_io(arg, io, true);
        case u::INTERRUPT: return interrupt(arg, io);
        case u::GET_LAPIC:
            if (!lapic_) return -EINVAL;  // no in-kernel APIC
            return -io.write_obj(arg, lapic_->get(state_.cr8));
        case u::SET_LAPIC: return set_lapic(arg, io);
        case u::GET_VCPU_EVENTS: return -io.write_obj(arg, get_vcpu_events(state_, events_));
        case u::SET_VCPU_EVENTS: {
            auto ev = io.read_obj<u::kvm_vcpu_events>(arg);
            if (!ev) return -ev.error();
            return set_vcpu_events(*ev, lapic_.has_value(), state_, events_);
        }
        case u::GET_DEBUGREGS: return -io.write_obj(arg, get_debugregs(events_));
        case u::SET_DEBUGREGS: {
            auto d = io.read_obj<u::kvm_debugregs>(arg);
            if (!d) return -d.error();
            return set_debugregs(*d, events_);
        }
        case u::GET_TSC_KHZ: return engine_.tsc_khz();
        case u::SET_TSC_KHZ:
            if (arg == 0 || arg > 0xffffffffULL) return -EINVAL;
            engine_.set_tsc_khz(static_cast<std::uint32_t>(arg));
            return 0;
        case u::VCPU_ENABLE_CAP: {
            // kvm_vcpu_ioctl_enable_cap(): copied first (EFAULT), flags refused, and no per-vCPU
            // capability is modelled (the x86 ones are Hyper-V and SynIC features).
            auto cap = io.read_obj<u::kvm_enable_cap>(arg);
            if (!cap) return -cap.error();
            return -EINVAL;
        }
        default: return -EINVAL;  // kvm_arch_vcpu_ioctl(): unknown requests are EINVAL
    }
}

long Vcpu::set_sregs(std::uint64_t arg, UserIo& io) {
    auto s = io.read_obj<u::kvm_sregs>(arg);
    if (!s) return -s.error();
    return apply_sregs_locked(*s);
}

long Vcpu::apply_sregs_locked(const u::kvm_sregs& s) {
    // kvm_is_valid_sregs(): long mode needs PAE and LMA; otherwise no LMA and no 64-bit CS.
    if ((s.efer & kEferLme) != 0 && (s.cr0 & kCr0Pg) != 0) {
        if ((s.cr4 & kCr4Pae) == 0 || (s.efer & kEferLma) == 0) return -EINVAL;
    } else if ((s.efer & kEferLma) != 0 || s.cs.l != 0) {
        return -EINVAL;
    }
    // kvm_is_valid_cr4(): bits KVM's CPU model lacks, and (after KVM_SET_CPUID2) bits the
    // guest's CPUID lacks.
    std::uint64_t cr4_reserved = cr4_reserved_bits(supported_cpuid());
    if (cpuid_set_) cr4_reserved |= cr4_reserved_bits(cpuid_);
    if ((s.cr4 & cr4_reserved) != 0) return -EINVAL;
    // kvm_is_valid_cr0(): PG needs PE; NW needs CD.
    if (((s.cr0 & kCr0Pg) != 0 && (s.cr0 & kCr0Pe) == 0) ||
        ((s.cr0 & kCr0Nw) != 0 && (s.cr0 & kCr0Cd) == 0) || (s.cr0 >> 32) != 0)
        return -EINVAL;
    // __set_sregs_common(): the APIC base goes through kvm_apic_set_base().
    if (!valid_apic_base(s.apic_base)) return -EINVAL;
    from_kvm_sregs(s, state_);
    engine_.flush_tlb();
    return 0;
}

bool Vcpu::valid_apic_base(std::uint64_t value) const {
    // kvm_apic_set_base(): bits 0-7 and 9, bits at or above MAXPHYADDR and, without x2APIC in
    // the guest's CPUID, the x2APIC enable are reserved; x2APIC without xAPIC enable is invalid.
    const auto& table = cpuid_set_ ? std::span<const u::kvm_cpuid_entry2>(cpuid_)
                                   : std::span<const u::kvm_cpuid_entry2>();
    std::uint64_t reserved = 0x2ff | ~((1ULL << max_phys_addr_bits(table)) - 1);
    if (!has_x2apic(table)) reserved |= kApicBaseX2apic;
    if ((value & reserved) != 0) return false;
    return !((value & kApicBaseX2apic) != 0 && (value & kApicBaseEnable) == 0);
}

std::uint32_t Vcpu::mp_state() const {
    if (state_.halted) return u::MP_STATE_HALTED;
    return lapic_ ? mp_state_ : u::MP_STATE_RUNNABLE;
}

long Vcpu::set_mp_state(std::uint64_t arg, UserIo& io) {
    auto m = io.read_obj<u::kvm_mp_state>(arg);
    if (!m) return -m.error();
    // Without an in-kernel local APIC only RUNNABLE is accepted.
    if (!lapic_) {
        if (m->mp_state != u::MP_STATE_RUNNABLE) return -EINVAL;
        state_.halted = false;
        return 0;
    }
    // kvm_arch_vcpu_ioctl_set_mpstate() with an in-kernel APIC.
    switch (m->mp_state) {
        case u::MP_STATE_RUNNABLE:
        case u::MP_STATE_UNINITIALIZED:
        case u::MP_STATE_INIT_RECEIVED:
        case u::MP_STATE_AP_RESET_HOLD:
            mp_state_ = m->mp_state;
            state_.halted = false;
            return 0;
        case u::MP_STATE_HALTED:
            mp_state_ = u::MP_STATE_RUNNABLE;
            state_.halted = true;
            return 0;
        case u::MP_STATE_SIPI_RECEIVED: {
            // INIT_RECEIVED with a SIPI pending, which kvm_apic_accept_events() delivers before
            // the state is next read or run: CS = vector << 8, RIP 0, runnable. The SIPI vector
            // is 0: no ICR write (the only source of another vector) is modelled.
            constexpr std::uint16_t kSipiVector = 0;
            state_.seg[cpu::CS].selector = static_cast<std::uint16_t>(kSipiVector << 8);
            state_.seg[cpu::CS].base = static_cast<std::uint64_t>(kSipiVector) << 12;
            state_.rip = 0;
            mp_state_ = u::MP_STATE_RUNNABLE;
            state_.halted = false;
            return 0;
        }
        default: return -EINVAL;
    }
}

long Vcpu::set_lapic(std::uint64_t arg, UserIo& io) {
    if (!lapic_) return -EINVAL;  // no in-kernel APIC
    auto l = io.read_obj<u::kvm_lapic_state>(arg);
    if (!l) return -l.error();
    state_.cr8 = lapic_->set(*l);
    return 0;
}

long Vcpu::interrupt(std::uint64_t arg, UserIo& io) {
    auto irq = io.read_obj<u::kvm_interrupt>(arg);
    if (!irq) return -irq.error();
    // kvm_vcpu_ioctl_interrupt(): with an in-kernel irqchip (its PIC), userspace cannot inject.
    if (irq->irq >= u::NR_INTERRUPTS) return -EINVAL;
    if (lapic_) return -ENXIO;
    if (state_.pending_irq >= 0) return -ENXIO;
    state_.pending_irq = static_cast<std::int32_t>(irq->irq);
    return 0;
}

long Vcpu::set_cpuid2(std::uint64_t arg, UserIo& io) {
    auto hdr = io.read_obj<u::kvm_cpuid2>(arg);
    if (!hdr) return -hdr.error();
    if (hdr->nent > u::MAX_CPUID_ENTRIES) return -E2BIG;
    std::vector<u::kvm_cpuid_entry2> entries(hdr->nent);
    if (int e = io.read(arg + sizeof(u::kvm_cpuid2), std::as_writable_bytes(std::span(entries)));
        e != 0)
        return -e;
    // kvm_set_cpuid(): once the vCPU has entered the guest, only the same table is accepted.
    if (has_run_) {
        const auto same = [](const u::kvm_cpuid_entry2& a, const u::kvm_cpuid_entry2& b) {
            return a.function == b.function && a.index == b.index && a.flags == b.flags &&
                   a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
        };
        if (entries.size() != cpuid_.size() ||
            !std::equal(entries.begin(), entries.end(), cpuid_.begin(), same))
            return -EINVAL;
    }
    cpuid_ = std::move(entries);
    cpuid_set_ = true;
    for (const auto& e : cpuid_)
        if (e.function == 1 && state_.gpr[cpu::RDX] == 0x600) state_.gpr[cpu::RDX] = e.eax;
    engine_.set_cpuid(to_cpuid_table(cpuid_));
    return 0;
}

long Vcpu::get_cpuid2(std::uint64_t arg, UserIo& io) {
    auto hdr = io.read_obj<u::kvm_cpuid2>(arg);
    if (!hdr) return -hdr.error();
    if (hdr->nent < cpuid_.size()) return -E2BIG;
    if (int e = io.write(arg + sizeof(u::kvm_cpuid2), std::as_bytes(std::span(cpuid_))); e != 0)
        return -e;
    u::kvm_cpuid2 out = *hdr;
    out.nent = static_cast<std::uint32_t>(cpuid_.size());
    return -io.write_obj(arg, out);
}

long Vcpu::msr_io(std::uint64_t arg, UserIo& io, bool write) {
    // __msr_io(): entries in order, stopping at the first one the CPU model cannot handle.
    const long r = kvm::msr_io(arg, io, !write, [&](u::kvm_msr_entry& e) {
        return write ? engine_.set_msr(state_, e.index, e.data)
                     : engine_.get_msr(state_, e.index, e.data);
    });
    if (write) engine_.flush_tlb();
    return r;
}

bool Vcpu::kick_if_running(pid_t tid) {
    if (tid == 0 || running_tid_.load() != tid) return false;
    kick_.store(true);
    kick_.notify_all();  // a vCPU blocked in block_locked()
    return true;
}

void Vcpu::complete_pending_locked() {
    // The data the VMM left in kvm_run for the IN or MMIO read the last exit asked for.
    auto* run = run_page();
    auto data = engine_.completion_data();
    if (pending_ == Pending::IoIn) {
        const auto* src = reinterpret_cast<const std::uint8_t*>(run) + run->io.data_offset;
        const std::size_t n = static_cast<std::size_t>(run->io.size) * run->io.count;
        std::memcpy(data.data(), src, std::min(n, data.size()));
    } else if (pending_ == Pending::MmioRead) {
        std::memcpy(data.data(), run->mmio.data, std::min<std::size_t>(run->mmio.len, 8));
    }
    pending_ = Pending::None;
}

long Vcpu::run(Vm& vm, const Caller& caller) {
    const std::lock_guard lock(mu_);
    auto* run = run_page();
    // kvm_arch_vcpu_ioctl_run(): unknown sync-register bits -> EINVAL; sync_regs() applies the
    // dirty sets (clearing their bits) before the run; store_regs() fills the valid ones after
    // it, whatever its result.
    long r = 0;
    if (((run->kvm_valid_regs | run->kvm_dirty_regs) & ~u::SYNC_X86_VALID_FIELDS) != 0) {
        r = -EINVAL;
    } else if (run->kvm_dirty_regs != 0) {
        r = sync_regs_locked();
    }
    if (r == 0) r = run_locked(vm, caller);
    if (run->kvm_valid_regs != 0) store_regs_locked();
    return r;
}

long Vcpu::sync_regs_locked() {
    auto* run = run_page();
    if ((run->kvm_dirty_regs & u::SYNC_X86_REGS) != 0) {
        const u::kvm_regs regs = run->s.regs.regs;
        from_kvm_regs(regs, state_);
        run->kvm_dirty_regs &= ~u::SYNC_X86_REGS;
    }
    if ((run->kvm_dirty_regs & u::SYNC_X86_SREGS) != 0) {
        const u::kvm_sregs sregs = run->s.regs.sregs;
        if (apply_sregs_locked(sregs) != 0) return -EINVAL;
        run->kvm_dirty_regs &= ~u::SYNC_X86_SREGS;
    }
    if ((run->kvm_dirty_regs & u::SYNC_X86_EVENTS) != 0) {
        const u::kvm_vcpu_events events = run->s.regs.events;
        if (set_vcpu_events(events, lapic_.has_value(), state_, events_) != 0) return -EINVAL;
        run->kvm_dirty_regs &= ~u::SYNC_X86_EVENTS;
    }
    return 0;
}

void Vcpu::store_regs_locked() {
    auto* run = run_page();
    if ((run->kvm_valid_regs & u::SYNC_X86_REGS) != 0) run->s.regs.regs = to_kvm_regs(state_);
    if ((run->kvm_valid_regs & u::SYNC_X86_SREGS) != 0) run->s.regs.sregs = to_kvm_sregs(state_);
    if ((run->kvm_valid_regs & u::SYNC_X86_EVENTS) != 0)
        run->s.regs.events = get_vcpu_events(state_, events_);
}

long Vcpu::run_locked(Vm& vm, const Caller& caller) {
    auto* run = run_page();
    complete_pending_locked();
    kick_.store(false);  // before the tid is published: a kick from now on is seen
    running_tid_.store(caller.tid);

    // kvm_arch_vcpu_ioctl_run() with an in-kernel APIC: an AP waiting for INIT/SIPI, or a
    // halted vCPU, blocks until something wakes it.
    if (lapic_ && (state_.halted || mp_state_ != u::MP_STATE_RUNNABLE)) {
        const long r = block_locked(run->immediate_exit != 0);
        running_tid_.store(0);
        publish_stats();
        return r;
    }

    // Coherence: nothing of the VMM's memory is cached across runs; pointers into it die with
    // the cache, so the engine's translations go too.
    pages_->invalidate();
    engine_.flush_tlb();
    VmPhysBus bus(vm, *pages_);
    cpu::RunControl control;
    control.kick = &kick_;
    control.immediate_exit = run->immediate_exit != 0;
    if (!control.immediate_exit) {
        load_init_components(state_, xinuse_);
        has_run_ = true;  // kvm_vcpu_has_run(): it enters the guest
    }
    const cpu::RunResult result = engine_.run(state_, bus, control);

    if (!control.immediate_exit) xinuse_ = components_in_use(state_);
    const int flushed = pages_->flush();  // the guest's writes reach the VMM before the exit
    long r = 0;
    if (lapic_ && result.reason == cpu::ExitReason::Hlt && bus.error() == 0 && flushed == 0) {
        // kvm_emulate_halt() with an in-kernel APIC: no exit to userspace, the vCPU halts.
        count(vcpu_stat::halt_exits);
        state_.halted = true;
        r = block_locked(false);
        running_tid_.store(0);
        publish_stats();
        return r;
    }
    running_tid_.store(0);
    if (flushed == ESRCH) {  // the VMM is gone: nothing read from its pid may reach the run page
        publish_stats();
        return -EFAULT;
    }
    if (result.reason == cpu::ExitReason::Intr && control.immediate_exit) {
        // The engine checks immediate_exit before any instruction (after completing a pending
        // IN or MMIO read): -EINTR without an exit, so exit_reason stays what it was.
        r = immediate_exit_locked(result);
    } else {
        r = report_exit_locked(result);
    }
    spdlog::trace("vCPU {}: KVM_RUN -> {} exit_reason {} rip {:#x}", id_, r, run->exit_reason,
                  state_.rip);
    if (bus.error() != 0 || flushed != 0) r = -EFAULT;  // the VMM's guest memory is gone
    publish_stats();
    return r;
}

long Vcpu::immediate_exit_locked(const cpu::RunResult& res) {
    // kvm_arch_vcpu_ioctl_run(): "if (!vcpu->wants_to_run) { r = -EINTR; goto out; }": only
    // post_kvm_run_save() touches kvm_run; exit_reason and the exit statistics do not change.
    auto* run = run_page();
    run->if_flag = res.if_flag ? 1 : 0;
    run->ready_for_interrupt_injection = res.ready_for_interrupt_injection ? 1 : 0;
    run->cr8 = state_.cr8;
    run->apic_base = state_.apic_base;
    run->flags = 0;
    return -EINTR;
}

long Vcpu::block_locked(bool immediate_exit) {
    auto* run = run_page();
    if (immediate_exit) {
        run->cr8 = state_.cr8;
        run->apic_base = state_.apic_base;
        run->flags = 0;
        return -EINTR;  // as immediate_exit_locked(): no exit
    }
    spdlog::debug("vCPU {}: {} with an in-kernel APIC: KVM_RUN waits for a signal", id_,
                  state_.halted ? "halted" : "waiting for INIT/SIPI");
    while (!kick_.load()) kick_.wait(false);
    count(vcpu_stat::exits);
    run->exit_reason = u::EXIT_INTR;
    run->flags = 0;
    count(vcpu_stat::signal_exits);
    return -EINTR;
}

long Vcpu::report_exit_locked(const cpu::RunResult& res) {
    auto* run = run_page();
    count(vcpu_stat::exits);
    run->if_flag = res.if_flag ? 1 : 0;
    run->ready_for_interrupt_injection = res.ready_for_interrupt_injection ? 1 : 0;
    run->cr8 = state_.cr8;
    run->apic_base = state_.apic_base;
    run->flags = 0;
    switch (res.reason) {
        case cpu::ExitReason::Io: {
            run->exit_reason = u::EXIT_IO;
            run->io.direction = res.io.is_in ? u::EXIT_IO_IN : u::EXIT_IO_OUT;
            run->io.size = res.io.size;
            run->io.port = res.io.port;
            run->io.count = res.io.count;
            run->io.data_offset = kPioOffset;
            auto* data = reinterpret_cast<std::uint8_t*>(run) + kPioOffset;
            const std::size_t n = std::min<std::size_t>(res.io.size * res.io.count, res.io.data.size());
            if (res.io.is_in) {
                std::memset(data, 0, n);
                pending_ = Pending::IoIn;
            } else {
                std::memcpy(data, res.io.data.data(), n);
            }
            count(vcpu_stat::io_exits);
            return 0;
        }
        case cpu::ExitReason::Mmio:
            run->exit_reason = u::EXIT_MMIO;
            run->mmio.phys_addr = res.mmio.gpa;
            run->mmio.len = res.mmio.len;
            run->mmio.is_write = res.mmio.is_write ? 1 : 0;
            std::memcpy(run->mmio.data, res.mmio.data.data(), 8);
            if (!res.mmio.is_write) pending_ = Pending::MmioRead;
            count(vcpu_stat::mmio_exits);
            return 0;
        case cpu::ExitReason::Hlt:
            run->exit_reason = u::EXIT_HLT;
            count(vcpu_stat::halt_exits);
            return 0;
        case cpu::ExitReason::Shutdown:
            spdlog::debug("vCPU {}: KVM_EXIT_SHUTDOWN: {}", id_, res.error);
            run->exit_reason = u::EXIT_SHUTDOWN;
            return 0;
        case cpu::ExitReason::Intr:
            spdlog::debug("vCPU {}: KVM_RUN interrupted ({})", id_,
                          run->immediate_exit != 0 ? "immediate_exit" : "signal");
            run->exit_reason = u::EXIT_INTR;
            count(vcpu_stat::signal_exits);
            return -EINTR;
        case cpu::ExitReason::InternalError:
            spdlog::info("vCPU {}: KVM_EXIT_INTERNAL_ERROR (emulation): {}", id_, res.error);
            run->exit_reason = u::EXIT_INTERNAL_ERROR;
            run->internal.suberror = u::INTERNAL_ERROR_EMULATION;
            run->internal.ndata = 0;
            count(vcpu_stat::insn_emulation_fail);
            return 0;
    }
    return -EIO;
}

}  // namespace kvmemu::kvm
