// RunArea: a vCPU's mmap()able run area (kvm_run, the PIO page, the coalesced-MMIO page): the
// file the program maps through its vCPU fd, and the daemon's own shared mapping of it. Who
// provides the file is the transport's business (a memfd by default; kvmemud uses a file of its
// private FUSE mount, whose ioctls then reach the daemon without seccomp).
#pragma once

#include <functional>
#include <utility>

#include "common/expected.hpp"
#include "common/mapping.hpp"
#include "common/unique_fd.hpp"

namespace kvmemu::kvm {

class RunArea {
public:
    RunArea() = default;
    // `fd`: the file (the daemon keeps it; a program gets a duplicate); `map`: a MAP_SHARED
    // mapping of all of it; `on_close` (may be empty) runs once both are gone.
    RunArea(UniqueFd fd, Mapping map, std::function<void()> on_close = {})
        : fd_(std::move(fd)), map_(std::move(map)), on_close_(std::move(on_close)) {}
    RunArea(RunArea&& o) noexcept
        : fd_(std::move(o.fd_)), map_(std::move(o.map_)), on_close_(std::exchange(o.on_close_, {})) {}
    RunArea& operator=(RunArea&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::move(o.fd_);
            map_ = std::move(o.map_);
            on_close_ = std::exchange(o.on_close_, {});
        }
        return *this;
    }
    RunArea(const RunArea&) = delete;
    RunArea& operator=(const RunArea&) = delete;
    ~RunArea() { close(); }

    [[nodiscard]] int fd() const { return fd_.get(); }
    [[nodiscard]] void* data() const { return map_.data(); }

private:
    void close() {
        map_.reset();
        fd_.reset();
        if (on_close_) std::exchange(on_close_, {})();
    }

    UniqueFd fd_;
    Mapping map_;
    std::function<void()> on_close_;
};

// Makes the run area of a new vCPU.
using RunAreaFactory = std::function<Expected<RunArea>()>;

// A memfd of KVM_GET_VCPU_MMAP_SIZE bytes (what a factory-less System uses).
Expected<RunArea> make_memfd_run_area();

}  // namespace kvmemu::kvm
