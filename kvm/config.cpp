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

}  // namespace kvmemu::kvm
