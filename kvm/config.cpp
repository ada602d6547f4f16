// Parsing and naming of configuration values.
#include "kvm/config.hpp"

namespace kvmemu::kvm {

bool parse_cap_numbering(const std::string& text, CapNumbering& out) {
    if (text == "both") out = CapNumbering::Both;
    else if (text == "seed") out = CapNumbering::Seed;
    else if (text == "mainline") out = CapNumbering::Mainline;
    else return false;
    return true;
}

const char* to_string(CapNumbering n) {
    switch (n) {
        case CapNumbering::Both: return "both";
        case CapNumbering::Seed: return "seed";
        case CapNumbering::Mainline: return "mainline";
    }
    return "?";
}

bool parse_host_mapping_level(const std::string& text, HostMappingLevel& out) {
    if (text == "detect") out = HostMappingLevel::Detect;
    else if (text == "4k") out = HostMappingLevel::k4K;
    else if (text == "2m") out = HostMappingLevel::k2M;
    else if (text == "1g") out = HostMappingLevel::k1G;
    else return false;
    return true;
}

const char* to_string(HostMappingLevel l) {
    switch (l) {
        case HostMappingLevel::Detect: return "detect";
        case HostMappingLevel::k4K: return "4k";
        case HostMappingLevel::k2M: return "2m";
        case HostMappingLevel::k1G: return "1g";
    }
    return "?";
}

}  // namespace kvmemu::kvm
