// Engine: the run loop (completions, interrupt injection, block dispatch, fault delivery with
// double/triple fault) and the public API around it.
#include "cpu/engine.hpp"

#include <cstdio>

#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {

void complete_in(Core& c, const PendingIn& p, const uint8_t* data);

[[noreturn]] void internal_error(Core& c, std::string why) {
    c.result->reason = ExitReason::InternalError;
    c.result->error = std::move(why);
    throw ExitNow{};
}

namespace {

// Delivers a fault; a fault during delivery becomes #DF, one during #DF a triple fault (false).
bool deliver_fault(Core& c, const GuestFault& f) {
    try {
        deliver_event(c, f.vector, f.has_error, f.error, false, c.st->rip);
        return true;
    } catch (const GuestFault&) {
        if (f.vector == 8) return false;
    }
    try {
        deliver_event(c, 8, true, 0, false, c.st->rip);
        return true;
    } catch (const GuestFault&) {
        return false;
    }
}

// For the log: the fault whose delivery failed, where, and CR2 for a #PF.
std::string triple_fault_reason(const GuestFault& f, const CpuState& st) {
    char buf[320];
    std::snprintf(buf, sizeof buf, "triple fault: vector %u (error %#x) at rip %#llx, rsp %#llx, cr3 %#llx, cr2 %#llx, idt base %#llx limit %#x",
                  f.vector, f.has_error ? f.error : 0U, static_cast<unsigned long long>(st.rip),
                  static_cast<unsigned long long>(st.gpr[RSP]), static_cast<unsigned long long>(st.cr3),
                  static_cast<unsigned long long>(st.cr2), static_cast<unsigned long long>(st.idt.base),
                  static_cast<unsigned>(st.idt.limit));
    return buf;
}

void finish(Core& c, RunResult& r) {
    r.if_flag = (c.st->rflags & fl::IF) != 0;
    r.ready_for_interrupt_injection = r.if_flag && !c.st->irq_shadow && c.st->pending_irq < 0;
}

}  // namespace

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
    impl_->config = config;
    impl_->core.eng = impl_.get();
}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

std::span<uint8_t> Engine::completion_data() noexcept { return impl_->completion; }

void Engine::flush_tlb() noexcept {
    tlb_flush(impl_->core);
    impl_->blocks.clear();
}

void Engine::set_cpuid(std::vector<CpuidEntry> entries) {
    impl_->cpuid.set(std::move(entries));
    impl_->blocks.clear();  // decoding depends on CPUID (LZCNT/TZCNT/POPCNT)
    const CpuidResult r = impl_->cpuid.lookup(0x80000008, 0);
    const unsigned maxphy = (r.eax & 0xff) != 0 ? (r.eax & 0xff) : 52;
    impl_->rsvd_mask = maxphy >= 52 ? 0 : (((1ULL << 52) - 1) & ~((1ULL << maxphy) - 1));
}
const CpuidTable& Engine::cpuid() const noexcept { return impl_->cpuid; }
void Engine::set_unsupported_hook(UnsupportedHook hook) { impl_->unsupported = std::move(hook); }
void Engine::set_tsc_khz(uint32_t khz) noexcept { impl_->config.tsc_khz = khz; }
uint32_t Engine::tsc_khz() const noexcept { return impl_->config.tsc_khz; }

RunResult Engine::run(CpuState& st, PhysBus& bus, const RunControl& ctl) {
    Impl& im = *impl_;
    Core& c = im.core;
    RunResult res;
    c.st = &st;
    c.bus = &bus;
    c.result = &res;
    c.eng = &im;
    c.stop = false;
    c.exit_pending = false;
    load_cs_ss_for_cpl(c);
    tlb_flush(c);
    im.blocks.new_run(++im.epoch);
    im.blocks.collect_garbage();

    auto leave = [&]() -> RunResult {
        finish(c, res);
        c.st = nullptr;
        c.bus = nullptr;
        c.result = nullptr;
        return res;
    };
    auto mmio_write_exit = [&]() -> RunResult {
        res.reason = ExitReason::Mmio;
        res.mmio = c.mmio_writes.front();
        c.mmio_writes.pop_front();
        return leave();
    };
    if (!c.mmio_writes.empty()) return mmio_write_exit();

    try {
        try {
            if (im.pending_in.active) {
                im.pending_in.active = false;
                complete_in(c, im.pending_in, im.completion.data());
            }
            if (im.pending_mmio_read) {
                im.pending_mmio_read = false;
                MmioExit m = im.pending_read;
                std::memcpy(m.data.data(), im.completion.data(), m.len);
                c.mmio_reads_done.push_back(m);
            }
        } catch (const GuestFault& f) {
            if (!deliver_fault(c, f)) {
                res.reason = ExitReason::Shutdown;
                res.error = triple_fault_reason(f, st);
                return leave();
            }
        }
    } catch (const ExitNow&) {
        return leave();
    }
    if (ctl.immediate_exit) {
        res.reason = ExitReason::Intr;
        return leave();
    }
    if (st.seg[CS].l == 0 || (st.cr0 & 1) == 0) {
        res.reason = ExitReason::InternalError;
        res.error = "only 64-bit long mode is supported (CS.L=0 or CR0.PE=0)";
        return leave();
    }

    static const std::atomic<bool> never{false};
    const std::atomic<bool>& kick = ctl.kick != nullptr ? *ctl.kick : never;
    const uint64_t limit = ctl.max_instructions != 0 ? ctl.max_instructions : ~0ULL;
    uint64_t retired = 0;
    for (;;) {
        // Slow path: between fast-path stretches (run start, after a block that set c.stop, after a
        // fault): exits, interrupt injection, garbage from invalidated blocks.
        if (kick.load(std::memory_order_relaxed) || retired >= limit) {
            res.reason = ExitReason::Intr;
            break;
        }
        const bool shadow = st.irq_shadow;
        size_t k = 0;
        try {
            try {
                if (st.pending_irq >= 0 && (st.rflags & fl::IF) != 0 && !shadow) {
                    const auto vec = static_cast<uint8_t>(st.pending_irq);
                    st.pending_irq = -1;
                    deliver_event(c, vec, false, 0, false, st.rip);
                }
                if (st.halted) {
                    res.reason = ExitReason::Hlt;
                    break;
                }
                im.blocks.collect_garbage();
                Block* b = im.blocks.lookup(c);
                // Fast path: run chained blocks until one sets c.stop, or a kick / the limit.
                for (;;) {
                    const Insn* p = b->insns.data();
                    const size_t n = b->insns.size();
                    c.stop = false;
                    k = 0;
                    while (k < n) {
                        const Insn& i = p[k++];
                        c.next_rip = st.rip + i.len;
                        i.fn(c, i);
                        st.rip = c.next_rip;
                        if (c.stop) [[unlikely]] break;
                    }
                    retired += k;
                    k = 0;
                    if (c.stop || shadow) break;
                    if (kick.load(std::memory_order_relaxed) || retired >= limit) [[unlikely]] break;
                    b = im.blocks.next(c, b);
                }
                if (shadow) st.irq_shadow = false;
                if (c.exit_pending) {
                    c.exit_pending = false;
                    break;
                }
                if (c.stop && !c.mmio_writes.empty()) {
                    res.instructions = retired;
                    return mmio_write_exit();
                }
            } catch (const GuestFault& f) {
                if (k > 0) retired += k - 1;
                k = 0;
                c.mmio_reads_done.clear();
                if (!deliver_fault(c, f)) {
                    res.reason = ExitReason::Shutdown;
                    res.error = triple_fault_reason(f, st);
                    break;
                }
            }
        } catch (const ExitNow&) {
            retired += k;
            break;
        }
    }
    res.instructions = retired;
    return leave();
}

}  // namespace kvmemu::cpu
