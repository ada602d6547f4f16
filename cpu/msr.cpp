// The CPU model's MSRs (RDMSR/WRMSR and KVM_GET/SET_MSRS) and the guest TSC.
#include <time.h>

#include "cpu/internal/impl.hpp"

namespace kvmemu::cpu {
namespace {

constexpr uint32_t kMsrList[] = {
    msr::TSC,          msr::TSC_ADJUST,  msr::APIC_BASE, msr::SYSENTER_CS,
    msr::SYSENTER_ESP, msr::SYSENTER_EIP, msr::MISC_ENABLE, msr::PAT,
    msr::EFER,         msr::STAR,        msr::LSTAR,     msr::CSTAR,
    msr::SFMASK,       msr::FS_BASE,     msr::GS_BASE,   msr::KERNEL_GS_BASE,
    msr::TSC_AUX,
};

uint64_t host_tsc(uint32_t khz) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    __extension__ using U128 = unsigned __int128;
    const U128 ns = static_cast<U128>(ts.tv_sec) * 1000000000u + static_cast<U128>(ts.tv_nsec);
    return static_cast<uint64_t>(ns * khz / 1000000u);
}

bool read_msr(const CpuState& s, uint32_t khz, uint32_t index, uint64_t& v) {
    switch (index) {
        case msr::TSC: v = host_tsc(khz) + s.tsc_offset; return true;
        case msr::TSC_ADJUST: v = s.msrs.tsc_adjust; return true;
        case msr::APIC_BASE: v = s.apic_base; return true;
        case msr::SYSENTER_CS: v = s.msrs.sysenter_cs; return true;
        case msr::SYSENTER_ESP: v = s.msrs.sysenter_esp; return true;
        case msr::SYSENTER_EIP: v = s.msrs.sysenter_eip; return true;
        case msr::MISC_ENABLE: v = s.msrs.misc_enable; return true;
        case msr::PAT: v = s.msrs.pat; return true;
        case msr::EFER: v = s.efer; return true;
        case msr::STAR: v = s.msrs.star; return true;
        case msr::LSTAR: v = s.msrs.lstar; return true;
        case msr::CSTAR: v = s.msrs.cstar; return true;
        case msr::SFMASK: v = s.msrs.sfmask; return true;
        case msr::FS_BASE: v = s.seg[FS].base; return true;
        case msr::GS_BASE: v = s.seg[GS].base; return true;
        case msr::KERNEL_GS_BASE: v = s.msrs.kernel_gs_base; return true;
        case msr::TSC_AUX: v = s.msrs.tsc_aux; return true;
        default: return false;
    }
}

bool canonical(uint64_t v) {
    const auto s = static_cast<int64_t>(v);
    return (s >> 47) == 0 || (s >> 47) == -1;
}

bool write_msr(CpuState& s, uint32_t khz, uint32_t index, uint64_t v, bool host) {
    switch (index) {
        case msr::TSC: {
            // kvm_set_msr_common(): a host write synchronizes the TSC to the value; a guest write
            // moves the TSC and adds the same step to IA32_TSC_ADJUST.
            const uint64_t offset = v - host_tsc(khz);
            if (!host) s.msrs.tsc_adjust += offset - s.tsc_offset;
            s.tsc_offset = offset;
            return true;
        }
        case msr::TSC_ADJUST:
            // A guest write moves the TSC by the change; a host write only sets the MSR.
            if (!host) s.tsc_offset += v - s.msrs.tsc_adjust;
            s.msrs.tsc_adjust = v;
            return true;
        case msr::APIC_BASE: s.apic_base = v; return true;
        case msr::SYSENTER_CS: s.msrs.sysenter_cs = v; return true;
        case msr::SYSENTER_ESP: s.msrs.sysenter_esp = v; return true;
        case msr::SYSENTER_EIP: s.msrs.sysenter_eip = v; return true;
        case msr::MISC_ENABLE: s.msrs.misc_enable = v; return true;
        case msr::PAT: s.msrs.pat = v; return true;
        case msr::EFER: {
            constexpr uint64_t writable = 1u | (1u << 8) | (1u << 11);  // SCE, LME, NXE
            if (!host && (v & ~(writable | (1u << 10))) != 0) return false;
            if (host) s.efer = v;
            else s.efer = (s.efer & (1u << 10)) | (v & writable);
            return true;
        }
        case msr::STAR: s.msrs.star = v; return true;
        case msr::LSTAR: if (!host && !canonical(v)) return false; s.msrs.lstar = v; return true;
        case msr::CSTAR: if (!host && !canonical(v)) return false; s.msrs.cstar = v; return true;
        case msr::SFMASK: s.msrs.sfmask = v & 0xffffffffu; return true;
        case msr::FS_BASE: if (!host && !canonical(v)) return false; s.seg[FS].base = v; return true;
        case msr::GS_BASE: if (!host && !canonical(v)) return false; s.seg[GS].base = v; return true;
        case msr::KERNEL_GS_BASE: if (!host && !canonical(v)) return false; s.msrs.kernel_gs_base = v; return true;
        case msr::TSC_AUX: s.msrs.tsc_aux = v & 0xffffffffu; return true;
        default: return false;
    }
}

}  // namespace

uint64_t guest_tsc(const Core& c) { return host_tsc(c.eng->config.tsc_khz) + c.st->tsc_offset; }

bool msr_read(const Core& c, uint32_t index, uint64_t& value) {
    return read_msr(*c.st, c.eng->config.tsc_khz, index, value);
}

bool msr_write(Core& c, uint32_t index, uint64_t value) {
    const uint64_t old_efer = c.st->efer;
    if (!write_msr(*c.st, c.eng->config.tsc_khz, index, value, false)) return false;
    if (index == msr::EFER && ((old_efer ^ c.st->efer) & (1u << 11)) != 0) {
        tlb_flush(c);
        c.eng->blocks.flush_jump_cache();
    }
    return true;
}

bool Engine::get_msr(const CpuState& state, uint32_t index, uint64_t& value) const {
    return read_msr(state, impl_->config.tsc_khz, index, value);
}

bool Engine::set_msr(CpuState& state, uint32_t index, uint64_t value) {
    return write_msr(state, impl_->config.tsc_khz, index, value, true);
}

std::span<const uint32_t> Engine::msr_list() noexcept { return kMsrList; }

}  // namespace kvmemu::cpu
