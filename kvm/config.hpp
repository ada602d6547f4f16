// Settings of the KVM object model that the daemon's command line chooses.
#pragma once

#include <cstdint>
#include <string>

namespace kvmemu::kvm {

// Which numbers KVM_CAP_VM_DISABLE_NX_HUGE_PAGES answers to: 216 (the original patch, "seed"),
// 220 (mainline), or both (the default; 216 means nothing else on x86).
enum class CapNumbering { Both, Seed, Mainline };

bool parse_cap_numbering(const std::string& text, CapNumbering& out);
const char* to_string(CapNumbering n);

// How the MMU learns the host page size behind a client address (--host-mapping-level):
//  detect: from the client's real mapping (hugetlb, THP), per fault;
//  4k:     every address as if backed by 4 KiB pages: no huge SPTE is ever built;
//  2m:     every address as if backed by 2 MiB pages (e.g. under UML, which has no huge pages);
//  1g:     every address as if backed by 1 GiB pages.
// Memslot bounds, alignment, dirty logging and the NX rule still limit the level in every case.
enum class HostMappingLevel { Detect, k4K, k2M, k1G };

bool parse_host_mapping_level(const std::string& text, HostMappingLevel& out);
const char* to_string(HostMappingLevel l);

struct Config {
    CapNumbering cap_numbering = CapNumbering::Both;
    HostMappingLevel host_mapping_level = HostMappingLevel::k4K;
};

}  // namespace kvmemu::kvm
