// CuseUserIo: caller memory as CUSE's unrestricted-ioctl protocol provides it: the handler sees
// the buffers the kernel copied for this round, and asks for more with kRetryWithBuffers.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/user_io.hpp"

namespace kvmemu::daemon {

struct IoRegion {
    std::uint64_t addr = 0;
    std::uint64_t len = 0;
    bool operator==(const IoRegion&) const = default;
};

// The regions requested so far for one ioctl, in the order the kernel lays them out.
struct IoPlan {
    std::vector<IoRegion> in;   // copied from the caller, concatenated in in_buf
    std::vector<IoRegion> out;  // copied back to the caller from our reply, concatenated
};

// The regions an ioctl's _IOC direction and size describe at `arg`: the first round's plan.
IoPlan initial_plan(std::uint32_t cmd, std::uint64_t arg);

class CuseUserIo final : public UserIo {
public:
    // plan: what the kernel was asked for; in: what it delivered (the in regions, in order).
    CuseUserIo(IoPlan plan, std::span<const std::byte> in);

    int read(std::uint64_t addr, std::span<std::byte> dst) override;
    int write(std::uint64_t addr, std::span<const std::byte> src) override;

    // True if the handler asked for bytes outside the plan: answer with retry_plan().
    [[nodiscard]] bool needs_retry() const { return needs_retry_; }
    [[nodiscard]] const IoPlan& retry_plan() const { return next_; }
    // The reply payload: the out regions, concatenated.
    [[nodiscard]] std::span<const std::byte> out_buffer() const { return out_; }

private:
    IoPlan plan_;
    std::span<const std::byte> in_;
    std::vector<std::byte> out_;
    IoPlan next_;
    bool needs_retry_ = false;
};

}  // namespace kvmemu::daemon
