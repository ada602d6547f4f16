// The kernel's string parsers used by module parameter writes, reproduced for userspace:
// sysfs_streq(), kstrtobool() and kstrtouint(s, 0) (lib/string.c, lib/kstrtox.c).
#pragma once

#include <string_view>

#include "common/expected.hpp"

namespace kvmemu::mmu {

// The kernel sees a NUL-terminated buffer; text after an embedded NUL is ignored like there.
std::string_view as_c_string(std::string_view s);

// Equal, allowing one trailing newline on either side ("never\n" == "never").
bool sysfs_streq(std::string_view a, std::string_view b);

// First character y/Y/t/T/1 -> true, n/N/f/F/0 -> false, "on"/"of..." by the first two
// characters (case-insensitive); anything else EINVAL. Only the leading characters count, as in
// the kernel ("yes", "no", "true", "off" all parse).
Expected<bool> kstrtobool(std::string_view s);

// Base auto-detect (0x -> 16, leading 0 -> 8, else 10), optional leading '+', one trailing
// newline allowed; EINVAL on no digits or junk, ERANGE when the value exceeds UINT_MAX.
Expected<unsigned> kstrtouint(std::string_view s);

}  // namespace kvmemu::mmu
