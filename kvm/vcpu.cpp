// Vcpu: reset state (kvm_vcpu_reset()), and the vCPU ioctls of arch/x86/kvm/x86.c with their
// copy-in order and errnos.
#include "kvm/vcpu.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kvm/cpu_model.hpp"
#include "kvm/vcpu_stats.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

namespace {
constexpr std::uint32_t kMaxIoMsrs = 256;  // MAX_IO_MSRS
constexpr std::uint64_t kCr0Pg = 1ULL << 31, kCr0Pe = 1ULL << 0, kCr0Cd = 1ULL << 30,
                        kCr0Nw = 1ULL << 29;
constexpr std::uint64_t kCr4Pae = 1ULL << 5;
constexpr std::uint64_t kEferLme = 1ULL << 8, kEferLma = 1ULL << 10;

u::kvm_segment segment(std::uint16_t sel, std::uint64_t base, std::uint8_t type, bool s) {
    u::kvm_segment seg{};
    seg.base = base;
    seg.limit = 0xffff;
    seg.selector = sel;
    seg.type = type;
    seg.present = 1;
    seg.s = s ? 1 : 0;
    return seg;
}
}  // namespace

Expected<std::unique_ptr<Vcpu>> Vcpu::create(std::uint32_t id, pid_t owner_tgid) {
    UniqueFd fd(::memfd_create("kvm-vcpu", MFD_CLOEXEC));
    if (!fd) return Errno{errno};
    if (::ftruncate(fd.get(), static_cast<off_t>(u::VCPU_MMAP_SIZE)) != 0) return Errno{errno};
    Mapping map = Mapping::map(u::VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
    if (!map.valid()) return Errno{errno};
    auto stats = StatsFile::create("kvm-" + std::to_string(owner_tgid) + "/vcpu-" + std::to_string(id),
                                   kVcpuStatDescriptors, kVcpuStatsDataSize);
    if (!stats) return Errno{stats.error()};
    return std::make_unique<Vcpu>(Key{}, id, std::move(fd), std::move(map), std::move(*stats));
}

Vcpu::Vcpu(Key /*key*/, std::uint32_t id, UniqueFd memfd, Mapping run_map, StatsFile stats)
    : id_(id), memfd_(std::move(memfd)), run_map_(std::move(run_map)), stats_(std::move(stats)) {
    reset();
}

void Vcpu::reset() {
    // The architectural INIT/RESET state KVM gives a new vCPU (kvm_vcpu_reset(), vmx/svm reset).
    regs_ = {};
    regs_.rip = 0xfff0;
    regs_.rflags = 0x2;
    regs_.rdx = 0x600;  // no CPUID yet: KVM's default signature
    sregs_ = {};
    sregs_.cs = segment(0xf000, 0xffff0000, 0xb, true);
    sregs_.ds = sregs_.es = sregs_.fs = sregs_.gs = sregs_.ss = segment(0, 0, 0x3, true);
    sregs_.tr = segment(0, 0, 0xb, false);
    sregs_.ldt = segment(0, 0, 0x2, false);
    sregs_.gdt.limit = 0xffff;
    sregs_.idt.limit = 0xffff;
    sregs_.cr0 = 0x60000010;
    sregs_.apic_base = 0xfee00900;  // enabled, BSP: reported even without an in-kernel APIC
    fpu_ = {};
    fpu_.fcw = 0x37f;
    fpu_.mxcsr = 0;  // KVM_GET_FPU reads 0 after reset on the oracle
    mp_state_ = u::MP_STATE_RUNNABLE;
    msrs_.clear();
    msrs_[0x277] = 0x0007040600070406ULL;  // PAT power-on value
    msrs_[0x1a0] = 0x1;                    // MISC_ENABLE: fast strings
}

long Vcpu::ioctl(const Caller& /*caller*/, std::uint32_t cmd, std::uint64_t arg, UserIo& io) {
    const std::lock_guard lock(mu_);
    switch (cmd) {
        case u::GET_REGS: return -io.write_obj(arg, regs_);
        case u::SET_REGS: {
            auto r = io.read_obj<u::kvm_regs>(arg);
            if (!r) return -r.error();
            regs_ = *r;
            return 0;
        }
        case u::GET_SREGS: return -io.write_obj(arg, sregs_);
        case u::SET_SREGS: return set_sregs(arg, io);
        case u::GET_FPU: return -io.write_obj(arg, fpu_);
        case u::SET_FPU: {
            auto f = io.read_obj<u::kvm_fpu>(arg);
            if (!f) return -f.error();
            fpu_ = *f;
            return 0;
        }
        case u::GET_MP_STATE: return -io.write_obj(arg, u::kvm_mp_state{mp_state_});
        case u::SET_MP_STATE: return set_mp_state(arg, io);
        case u::SET_CPUID2: return set_cpuid2(arg, io);
        case u::GET_CPUID2: return get_cpuid2(arg, io);
        case u::GET_MSRS: return msr_io(arg, io, false);
        case u::SET_MSRS: return msr_io(arg, io, true);
        case u::VCPU_ENABLE_CAP: {
            // kvm_vcpu_ioctl_enable_cap(): copied first (EFAULT), flags refused, and no per-vCPU
            // capability is modelled (the x86 ones are Hyper-V and SynIC features).
            auto cap = io.read_obj<u::kvm_enable_cap>(arg);
            if (!cap) return -cap.error();
            return -EINVAL;
        }
        case u::RUN:
            // The software CPU engine is not wired yet: KVM_RUN is refused, documented in README.
            return -EOPNOTSUPP;
        default: return -EINVAL;  // kvm_arch_vcpu_ioctl(): unknown requests are EINVAL
    }
}

long Vcpu::set_sregs(std::uint64_t arg, UserIo& io) {
    auto s = io.read_obj<u::kvm_sregs>(arg);
    if (!s) return -s.error();
    // kvm_is_valid_sregs(): long mode needs PAE and LMA; otherwise no LMA and no 64-bit CS.
    if ((s->efer & kEferLme) != 0 && (s->cr0 & kCr0Pg) != 0) {
        if ((s->cr4 & kCr4Pae) == 0 || (s->efer & kEferLma) == 0) return -EINVAL;
    } else if ((s->efer & kEferLma) != 0 || s->cs.l != 0) {
        return -EINVAL;
    }
    // kvm_is_valid_cr0(): PG needs PE; NW needs CD.
    if (((s->cr0 & kCr0Pg) != 0 && (s->cr0 & kCr0Pe) == 0) ||
        ((s->cr0 & kCr0Nw) != 0 && (s->cr0 & kCr0Cd) == 0) || (s->cr0 >> 32) != 0)
        return -EINVAL;
    sregs_ = *s;
    return 0;
}

long Vcpu::set_mp_state(std::uint64_t arg, UserIo& io) {
    auto m = io.read_obj<u::kvm_mp_state>(arg);
    if (!m) return -m.error();
    // Without an in-kernel local APIC only RUNNABLE is accepted.
    if (m->mp_state != u::MP_STATE_RUNNABLE) return -EINVAL;
    mp_state_ = m->mp_state;
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
    cpuid_ = std::move(entries);
    for (const auto& e : cpuid_)
        if (e.function == 1) regs_.rdx = regs_.rdx == 0x600 ? e.eax : regs_.rdx;
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
    auto hdr = io.read_obj<u::kvm_msrs>(arg);
    if (!hdr) return -hdr.error();
    if (hdr->nmsrs >= kMaxIoMsrs) return -E2BIG;
    std::vector<u::kvm_msr_entry> entries(hdr->nmsrs);
    const std::uint64_t at = arg + sizeof(u::kvm_msrs);
    if (int e = io.read(at, std::as_writable_bytes(std::span(entries))); e != 0) return -e;
    // __msr_io(): processes entries in order and stops at the first one it cannot handle.
    long done = 0;
    for (auto& e : entries) {
        if (!is_known_msr(e.index)) break;
        if (write) msrs_[e.index] = e.data;
        else e.data = msrs_.count(e.index) != 0 ? msrs_[e.index] : 0;
        ++done;
    }
    if (!write) {
        if (int e = io.write(at, std::as_bytes(std::span(entries))); e != 0) return -e;
    }
    return done;
}

}  // namespace kvmemu::kvm
