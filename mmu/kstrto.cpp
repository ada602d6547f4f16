// Kernel-compatible parsing of module parameter strings.
#include "mmu/kstrto.hpp"

#include <cerrno>
#include <cstdint>
#include <limits>

namespace kvmemu::mmu {

std::string_view as_c_string(std::string_view s) {
    const auto nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

bool sysfs_streq(std::string_view a, std::string_view b) {
    a = as_c_string(a);
    b = as_c_string(b);
    if (a == b) return true;
    if (a.size() == b.size() + 1 && a.back() == '\n' && a.substr(0, b.size()) == b) return true;
    if (b.size() == a.size() + 1 && b.back() == '\n' && b.substr(0, a.size()) == a) return true;
    return false;
}

Expected<bool> kstrtobool(std::string_view s) {
    s = as_c_string(s);
    if (s.empty()) return Errno{EINVAL};
    switch (s[0]) {
        case 'y':
        case 'Y':
        case 't':
        case 'T':
        case '1':
            return true;
        case 'n':
        case 'N':
        case 'f':
        case 'F':
        case '0':
            return false;
        case 'o':
        case 'O':
            if (s.size() >= 2) {
                if (s[1] == 'n' || s[1] == 'N') return true;
                if (s[1] == 'f' || s[1] == 'F') return false;
            }
            return Errno{EINVAL};
        default:
            return Errno{EINVAL};
    }
}

namespace {
int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}
bool is_xdigit(char c) {
    return digit_value(c) < 16;
}
}  // namespace

Expected<unsigned> kstrtouint(std::string_view s) {
    s = as_c_string(s);
    // kstrtoull(): a leading '+' is accepted, '-' is not.
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    // _parse_integer_fixup_radix() with base 0.
    unsigned base = 10;
    if (!s.empty() && s[0] == '0') {
        if (s.size() >= 3 && (s[1] == 'x' || s[1] == 'X') && is_xdigit(s[2])) {
            base = 16;
            s.remove_prefix(2);
        } else {
            base = 8;
        }
    }
    // _parse_integer(): digits of the base; overflow of 64 bits is remembered, not fatal.
    std::uint64_t value = 0;
    bool overflow = false;
    std::size_t n = 0;
    for (; n < s.size(); ++n) {
        const int d = digit_value(s[n]);
        if (d >= static_cast<int>(base)) break;
        if (value > (std::numeric_limits<std::uint64_t>::max() - static_cast<unsigned>(d)) / base)
            overflow = true;
        value = value * base + static_cast<unsigned>(d);
    }
    if (overflow) return Errno{ERANGE};
    if (n == 0) return Errno{EINVAL};
    s.remove_prefix(n);
    if (!s.empty() && s[0] == '\n') s.remove_prefix(1);
    if (!s.empty()) return Errno{EINVAL};
    // kstrtouint(): the u64 must fit in unsigned int.
    if (value > std::numeric_limits<unsigned>::max()) return Errno{ERANGE};
    return static_cast<unsigned>(value);
}

}  // namespace kvmemu::mmu
