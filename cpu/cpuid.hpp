// CpuidTable: the vCPU's CPUID answers as set by KVM_SET_CPUID2, with KVM's lookup rules.
#pragma once

#include <cstdint>
#include <vector>

namespace kvmemu::cpu {

// As struct kvm_cpuid_entry2.
struct CpuidEntry {
    uint32_t function = 0;
    uint32_t index = 0;
    uint32_t flags = 0;  // bit 0: KVM_CPUID_FLAG_SIGNIFCANT_INDEX
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

struct CpuidResult {
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

class CpuidTable {
public:
    static constexpr uint32_t kSignificantIndex = 1;

    CpuidTable() = default;
    explicit CpuidTable(std::vector<CpuidEntry> entries) : entries_(std::move(entries)) {}
    void set(std::vector<CpuidEntry> entries) { entries_ = std::move(entries); }
    [[nodiscard]] const std::vector<CpuidEntry>& entries() const noexcept { return entries_; }

    // Exact match first (index compared only when the entry says it is significant). A leaf above
    // the highest basic (0x0..) or extended (0x8000_0000..) leaf the table declares in eax of leaf
    // 0 / 0x8000_0000 answers as the highest basic leaf does (Intel's rule, which KVM follows);
    // an in-range leaf the table lacks answers zeros.
    [[nodiscard]] CpuidResult lookup(uint32_t function, uint32_t index) const;

    // Convenience for feature tests: bit `bit` of register `reg` (0=eax..3=edx) of leaf (fn, idx).
    [[nodiscard]] bool has(uint32_t function, uint32_t index, unsigned reg, unsigned bit) const;

private:
    const CpuidEntry* find(uint32_t function, uint32_t index) const;
    std::vector<CpuidEntry> entries_;
};

}  // namespace kvmemu::cpu
