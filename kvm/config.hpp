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

struct Config {
    CapNumbering cap_numbering = CapNumbering::Both;
};

}  // namespace kvmemu::kvm
