// Supported CPUID of the emulated CPU: a 64-bit Intel-signature CPU with the
// features the software vCPU implements (x87/FXSR, SSE, SSE2, long mode, NX), and KVM's
// paravirtual signature leaf, as real KVM lists it.
#include "kvm/cpu_model.hpp"

#include <array>
#include <cstring>

namespace kvmemu::kvm {
namespace {

constexpr std::uint32_t str4(const char* s) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}

constexpr std::uint32_t bit(unsigned n) { return 1U << n; }

// CPUID.1:EDX
constexpr std::uint32_t kLeaf1Edx = bit(0) /*FPU*/ | bit(4) /*TSC*/ | bit(5) /*MSR*/ |
                                    bit(6) /*PAE*/ | bit(8) /*CX8*/ | bit(13) /*PGE*/ |
                                    bit(15) /*CMOV*/ | bit(16) /*PAT*/ | bit(19) /*CLFSH*/ |
                                    bit(23) /*MMX*/ | bit(24) /*FXSR*/ | bit(25) /*SSE*/ |
                                    bit(26) /*SSE2*/;
// CPUID.1:ECX: CX16, POPCNT, and the hypervisor bit KVM always sets.
constexpr std::uint32_t kLeaf1Ecx = bit(13) /*CX16*/ | bit(23) /*POPCNT*/ | bit(31) /*HYPERVISOR*/;
// CPUID.80000001:EDX / ECX
constexpr std::uint32_t kExt1Edx = bit(11) /*SYSCALL*/ | bit(20) /*NX*/ | bit(29) /*LM*/;
constexpr std::uint32_t kExt1Ecx = bit(0) /*LAHF_LM*/ | bit(5) /*ABM: LZCNT*/;

using Entry = uapi::kvm_cpuid_entry2;

constexpr Entry leaf(std::uint32_t fn, std::uint32_t a, std::uint32_t b, std::uint32_t c,
                     std::uint32_t d, std::uint32_t index = 0, std::uint32_t flags = 0) {
    return Entry{fn, index, flags, a, b, c, d, {0, 0, 0}};
}

// "kvmemu virtual CPU" in three 16-byte brand-string leaves.
constexpr char kBrand[49] = "kvmemu virtual x86-64 CPU                       ";

constexpr std::array<Entry, 12> kCpuid = {
    leaf(0x0, 0x7, str4("Genu"), str4("ntel"), str4("ineI")),
    // Family 6, model 0x55 stepping 4; CLFLUSH line 8 qwords; 1 logical processor.
    leaf(0x1, 0x00050654, (8U << 8) | (1U << 16), kLeaf1Ecx, kLeaf1Edx),
    leaf(0x7, 0, bit(1) /*TSC_ADJUST*/, 0, 0, 0, uapi::CPUID_FLAG_SIGNIFCANT_INDEX),
    leaf(0x40000000, 0x40000001, str4("KVMK"), str4("VMKV"), str4("M\0\0\0")),
    leaf(0x40000001, 0, 0, 0, 0),
    leaf(0x80000000, 0x80000008, 0, 0, 0),
    leaf(0x80000001, 0, 0, kExt1Ecx, kExt1Edx),
    leaf(0x80000002, str4(kBrand + 0), str4(kBrand + 4), str4(kBrand + 8), str4(kBrand + 12)),
    leaf(0x80000003, str4(kBrand + 16), str4(kBrand + 20), str4(kBrand + 24), str4(kBrand + 28)),
    leaf(0x80000004, str4(kBrand + 32), str4(kBrand + 36), str4(kBrand + 40), str4(kBrand + 44)),
    leaf(0x80000006, 0, 0, 0x01006040, 0),
    // 40 physical, 48 linear address bits.
    leaf(0x80000008, 0x3028, 0, 0, 0),
};

}  // namespace

std::span<const uapi::kvm_cpuid_entry2> supported_cpuid() { return kCpuid; }

}  // namespace kvmemu::kvm
