// StatsFile: one VM's binary statistics (KVM_GET_STATS_FD format) in a sealed memfd that the
// daemon updates in place and readers read with read()/pread() at any offset.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/expected.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"
#include "kvm/vm_stats.hpp"

namespace kvmemu::kvm {

class StatsFile {
public:
    // id: the header's id string, e.g. "kvm-1234".
    static Expected<StatsFile> create(const std::string& id);

    // Writes the live values into the data block.
    void publish(const VmStatsData& data);
    // A new read-only open file of the memfd: its own file offset, like a new stats fd.
    [[nodiscard]] Expected<UniqueFd> open_reader() const;
    [[nodiscard]] std::size_t size() const { return map_.size(); }

private:
    StatsFile(UniqueFd fd, Mapping map, std::uint32_t data_offset)
        : fd_(std::move(fd)), map_(std::move(map)), data_offset_(data_offset) {}

    UniqueFd fd_;
    Mapping map_;
    std::uint32_t data_offset_;
};

}  // namespace kvmemu::kvm
