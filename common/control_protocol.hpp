// The text protocol of kvmemud's control socket (kvmemuctl, and the launcher's parameter files).
// One request line; the reply is "ok[ VALUE]" or "err ERRNO" on one line, or for listings
// several lines ended by a line ".". Values never contain newlines.
//   get PARAM            -> ok VALUE            (PARAM: nx_huge_pages, ...; VALUE as sysfs shows it)
//   set PARAM VALUE      -> ok | err ERRNO      (root only: EACCES otherwise, like a 0644 sysfs file)
//   list                 -> one line per VM: "vm ID pid PID vcpus N memslots N nx_mitigation on|off
//                           disable_nx_cap on|off", then "."
//   stats VMID           -> "NAME VALUE" per VM statistic, then "." (or err ENOENT)
#pragma once

namespace kvmemu::control {

inline constexpr const char* kDefaultSocket = "/run/kvmemu/control.sock";
inline constexpr unsigned kMaxLine = 4096;

}  // namespace kvmemu::control
