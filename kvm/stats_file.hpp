// StatsFile: binary statistics (KVM_GET_STATS_FD format) of a VM or vCPU in a sealed memfd that
// the daemon updates in place and readers read with read()/pread() at any offset.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/expected.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"
#include "kvm/vm_stats.hpp"

namespace kvmemu::kvm {

class StatsFile {
public:
    // id: the header's id string, e.g. "kvm-1234"; descriptors in KVM's order; data_size: bytes.
    static Expected<StatsFile> create(const std::string& id,
                                      std::span<const StatDescriptor> descriptors,
                                      std::size_t data_size);
    // A VM's stats file.
    static Expected<StatsFile> create_vm(const std::string& id) {
        return create(id, kVmStatDescriptors, sizeof(VmStatsData));
    }

    // Writes the live values into the data block (data.size() <= data_size).
    void publish(std::span<const std::byte> data);
    template <class T>
    void publish_obj(const T& data) {
        publish(std::as_bytes(std::span(&data, 1)));
    }
    // A new read-only open file of the memfd: its own file offset, like a new stats fd.
    [[nodiscard]] Expected<UniqueFd> open_reader() const;
    [[nodiscard]] std::size_t size() const { return map_.size(); }
    // The memfd itself (its st_dev/st_ino identify every reader).
    [[nodiscard]] int fd() const { return fd_.get(); }

private:
    StatsFile(UniqueFd fd, Mapping map, std::uint32_t data_offset)
        : fd_(std::move(fd)), map_(std::move(map)), data_offset_(data_offset) {}

    UniqueFd fd_;
    Mapping map_;
    std::uint32_t data_offset_;
};

}  // namespace kvmemu::kvm
