// CPUID table lookup with KVM's rules (significant-index flag, out-of-range leaf fallback per
// class, none for AMD/Hygon vendors).
#include "cpu/cpuid.hpp"

namespace kvmemu::cpu {

const CpuidEntry* CpuidTable::find(uint32_t function, uint32_t index) const {
    for (const auto& e : entries_) {
        if (e.function != function) continue;
        if ((e.flags & kSignificantIndex) != 0 && e.index != index) continue;
        return &e;
    }
    return nullptr;
}

CpuidResult CpuidTable::lookup(uint32_t function, uint32_t index) const {
    // kvm_cpuid(): the exact entry if there is one; else get_out_of_range_cpuid_entry().
    if (const CpuidEntry* e = find(function, index)) return {e->eax, e->ebx, e->ecx, e->edx};
    const CpuidEntry* basic = find(0, 0);
    if (basic == nullptr) return {};
    // AMD and Hygon answer zeros for leaves they do not have.
    const auto vendor_is = [basic](const char (&v)[13]) {
        const auto word = [&v](int k) {
            return static_cast<uint32_t>(static_cast<unsigned char>(v[k])) |
                   static_cast<uint32_t>(static_cast<unsigned char>(v[k + 1])) << 8 |
                   static_cast<uint32_t>(static_cast<unsigned char>(v[k + 2])) << 16 |
                   static_cast<uint32_t>(static_cast<unsigned char>(v[k + 3])) << 24;
        };
        return basic->ebx == word(0) && basic->edx == word(4) && basic->ecx == word(8);
    };
    if (vendor_is("AuthenticAMD") || vendor_is("HygonGenuine")) return {};
    // The class's maximum leaf: 0x4000xx00 for the hypervisor ranges, 0xc0000000, 0x80000000, 0.
    uint32_t class_leaf = function & 0x80000000u;
    if (function >= 0x40000000u && function <= 0x4fffffffu) class_leaf = function & 0xffffff00u;
    else if (function >= 0xc0000000u) class_leaf = 0xc0000000u;
    const CpuidEntry* cls = find(class_leaf, 0);
    if (cls != nullptr && function <= cls->eax) return {};
    // Out of range: the highest basic leaf, with the index asked for.
    const CpuidEntry* e = find(basic->eax, index);
    if (e == nullptr) return {};
    return {e->eax, e->ebx, e->ecx, e->edx};
}

bool CpuidTable::has(uint32_t function, uint32_t index, unsigned reg, unsigned bit) const {
    const CpuidResult r = lookup(function, index);
    const uint32_t regs[4] = {r.eax, r.ebx, r.ecx, r.edx};
    return reg < 4 && ((regs[reg] >> bit) & 1u) != 0;
}

}  // namespace kvmemu::cpu
