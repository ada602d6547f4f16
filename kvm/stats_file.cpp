// StatsFile: layout (header, id, descriptors, data) as in KVM's kvm_stats_read(), sealing and
// re-opening of the memfd.
#include "kvm/stats_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "uapi/structs.hpp"

namespace kvmemu::kvm {

namespace u = uapi;

Expected<StatsFile> StatsFile::create(const std::string& id,
                                      std::span<const StatDescriptor> descriptors,
                                      std::size_t data_size) {
    const std::uint32_t name_size = u::STATS_NAME_SIZE;
    const auto num_desc = static_cast<std::uint32_t>(descriptors.size());
    const std::uint32_t id_offset = sizeof(u::kvm_stats_header);
    const std::uint32_t desc_offset = id_offset + name_size;
    const std::uint32_t desc_size = sizeof(u::kvm_stats_desc) + name_size;
    const std::uint32_t data_offset = desc_offset + num_desc * desc_size;
    const std::size_t total = data_offset + data_size;
    if (id.size() >= name_size) return Errno{EINVAL};

    UniqueFd fd(::memfd_create("kvm-vm-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return Errno{errno};
    if (::ftruncate(fd.get(), static_cast<off_t>(total)) != 0) return Errno{errno};
    Mapping map = Mapping::map(total, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get());
    if (!map.valid()) return Errno{errno};

    auto* base = static_cast<unsigned char*>(map.data());
    const u::kvm_stats_header header{0, name_size, num_desc, id_offset, desc_offset, data_offset};
    std::memcpy(base, &header, sizeof header);
    std::memcpy(base + id_offset, id.data(), id.size());
    for (std::uint32_t i = 0; i < num_desc; ++i) {
        const auto& d = descriptors[i];
        const u::kvm_stats_desc desc{d.flags, d.exponent, d.size, d.offset, 0};
        unsigned char* at = base + desc_offset + i * desc_size;
        std::memcpy(at, &desc, sizeof desc);
        std::strncpy(reinterpret_cast<char*>(at + sizeof desc), d.name, name_size - 1);
    }
    // Readers can neither resize the file nor write it; our mapping predates the seal.
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0)
        return Errno{errno};
    return StatsFile(std::move(fd), std::move(map), data_offset);
}

void StatsFile::publish(std::span<const std::byte> data) {
    const std::size_t room = map_.size() - data_offset_;
    std::memcpy(static_cast<unsigned char*>(map_.data()) + data_offset_, data.data(),
                std::min(room, data.size()));
}

Expected<UniqueFd> StatsFile::open_reader() const {
    const std::string path = "/proc/self/fd/" + std::to_string(fd_.get());
    UniqueFd r(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!r) return Errno{errno};
    return r;
}

}  // namespace kvmemu::kvm
