// How the host maps a client address (4K page, THP/hugetlb 2M, hugetlb 1G): the interface the
// MMU asks per fault, implemented by the caller, plus a fixed-level implementation.
#pragma once

#include <cstdint>

#include "mmu/level.hpp"

namespace kvmemu::mmu {

// KVM's host_pfn_mapping_level(): the size of the host page that maps `hva` in the client.
// Called under the VM's lock during fault(); must not call back into the MMU.
class HostMappingOracle {
  public:
    virtual ~HostMappingOracle() = default;
    virtual Level host_level(std::uint64_t hva) = 0;
};

// Every address is mapped at the same level: for tests, and for a daemon option that sets the
// level instead of detecting it (e.g. --host-mapping-level=2m under UML).
class FixedHostLevel final : public HostMappingOracle {
  public:
    explicit FixedHostLevel(Level level) : level_(level) {}
    Level host_level(std::uint64_t /*hva*/) override { return level_; }
    void set(Level level) { level_ = level; }

  private:
    Level level_;
};

}  // namespace kvmemu::mmu
