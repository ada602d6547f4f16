// CPUID-derived limits on register writes, as arch/x86/kvm/x86.h and cpuid.c compute them.
#include "kvm/cpu_features.hpp"

namespace kvmemu::kvm {

namespace {

enum class Reg { Eax, Ebx, Ecx, Edx };

bool has(std::span<const uapi::kvm_cpuid_entry2> cpuid, std::uint32_t leaf, std::uint32_t index,
         Reg reg, unsigned bit) {
    for (const auto& e : cpuid) {
        if (e.function != leaf) continue;
        // Leaf 7 is indexed; leaf 1 is not (its index is ignored).
        if (leaf == 7 && e.index != index) continue;
        std::uint32_t v = 0;
        switch (reg) {
            case Reg::Eax: v = e.eax; break;
            case Reg::Ebx: v = e.ebx; break;
            case Reg::Ecx: v = e.ecx; break;
            case Reg::Edx: v = e.edx; break;
        }
        return ((v >> bit) & 1) != 0;
    }
    return false;
}

// CR4 bit numbers.
constexpr unsigned kUmip = 11, kLa57 = 12, kVmxe = 13, kFsgsbase = 16, kPcide = 17, kOsxsave = 18,
                   kSmep = 20, kSmap = 21, kPke = 22;
constexpr std::uint64_t bit(unsigned n) { return 1ULL << n; }

// CR4_RESERVED_BITS: everything but VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR,
// OSXMMEXCPT and the feature-gated bits above. (CET and LAM are not modelled: reserved too.)
constexpr std::uint64_t kAllowed = 0x7ffULL | bit(kUmip) | bit(kLa57) | bit(kVmxe) |
                                   bit(kFsgsbase) | bit(kPcide) | bit(kOsxsave) | bit(kSmep) |
                                   bit(kSmap) | bit(kPke);

}  // namespace

std::uint64_t cr4_reserved_bits(std::span<const uapi::kvm_cpuid_entry2> cpuid) {
    std::uint64_t r = ~kAllowed;
    if (!has(cpuid, 1, 0, Reg::Ecx, 26)) r |= bit(kOsxsave);   // XSAVE
    if (!has(cpuid, 7, 0, Reg::Ebx, 7)) r |= bit(kSmep);       // SMEP
    if (!has(cpuid, 7, 0, Reg::Ebx, 20)) r |= bit(kSmap);      // SMAP
    if (!has(cpuid, 7, 0, Reg::Ebx, 0)) r |= bit(kFsgsbase);   // FSGSBASE
    if (!has(cpuid, 7, 0, Reg::Ecx, 3)) r |= bit(kPke);        // PKU
    if (!has(cpuid, 7, 0, Reg::Ecx, 16)) r |= bit(kLa57);      // LA57
    if (!has(cpuid, 7, 0, Reg::Ecx, 2)) r |= bit(kUmip);       // UMIP
    if (!has(cpuid, 1, 0, Reg::Ecx, 5)) r |= bit(kVmxe);       // VMX
    if (!has(cpuid, 1, 0, Reg::Ecx, 17)) r |= bit(kPcide);     // PCID
    return r;
}

unsigned max_phys_addr_bits(std::span<const uapi::kvm_cpuid_entry2> cpuid) {
    for (const auto& e : cpuid)
        if (e.function == 0x80000008 && (e.eax & 0xff) != 0) return e.eax & 0xff;
    return 36;
}

bool has_x2apic(std::span<const uapi::kvm_cpuid_entry2> cpuid) {
    return has(cpuid, 1, 0, Reg::Ecx, 21);
}

}  // namespace kvmemu::kvm
