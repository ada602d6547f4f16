// CPUID table lookup with KVM's rules (significant-index flag, out-of-range leaf fallback).
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
    const uint32_t class_base = function & 0x80000000u;
    const CpuidEntry* max = find(class_base, 0);
    const CpuidEntry* basic = find(0, 0);
    if (max == nullptr || function > max->eax) {
        // Out of range: the highest basic leaf's answer.
        if (basic == nullptr) return {};
        function = basic->eax;
    }
    const CpuidEntry* e = find(function, index);
    if (e == nullptr) return {};
    return {e->eax, e->ebx, e->ecx, e->edx};
}

bool CpuidTable::has(uint32_t function, uint32_t index, unsigned reg, unsigned bit) const {
    const CpuidResult r = lookup(function, index);
    const uint32_t regs[4] = {r.eax, r.ebx, r.ecx, r.edx};
    return reg < 4 && ((regs[reg] >> bit) & 1u) != 0;
}

}  // namespace kvmemu::cpu
