// make_memfd_run_area: the default run area, a memfd the daemon maps shared.
#include "kvm/run_area.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "uapi/kvm_run.hpp"

namespace kvmemu::kvm {

Expected<RunArea> make_memfd_run_area() {
    UniqueFd fd(::memfd_create("kvm-vcpu", MFD_CLOEXEC));
    if (!fd) return Errno{errno};
    if (::ftruncate(fd.get(), static_cast<off_t>(uapi::VCPU_MMAP_SIZE)) != 0) return Errno{errno};
    Mapping map = Mapping::map(uapi::VCPU_MMAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
    if (!map.valid()) return Errno{errno};
    return RunArea(std::move(fd), std::move(map));
}

}  // namespace kvmemu::kvm
