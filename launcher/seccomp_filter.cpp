// load_notify_filter with libseccomp: one SCMP_ACT_NOTIFY rule per ioctl request of the list.
#include "launcher/seccomp_filter.hpp"

#include <seccomp.h>

#include <cerrno>
#include <memory>

namespace kvmemu::launcher {

namespace {

struct CtxRelease {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

Expected<Ctx> build(std::span<const std::uint32_t> requests, bool no_new_privs) {
    Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) return Errno{ENOMEM};
    // Kernel errors as they are (EACCES, ...) instead of libseccomp's ECANCELED.
    if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_API_SYSRAWRC, 1); r < 0) return Errno{-r};
    // Other ABIs are not trapped (the daemon serves the native one); never kill them.
    if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW); r < 0) {
        return Errno{-r};
    }
    if (int r = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0); r < 0) {
        return Errno{-r};
    }
    // The kernel's cmd is the low 32 bits of the request, whatever the upper ones (a request
    // passed as a negative int arrives sign-extended): one masked compare per request.
    constexpr std::uint64_t kCmdMask = 0xffffffff;
    for (const std::uint32_t req : requests) {
        const int r = seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
                                       SCMP_A1_64(SCMP_CMP_MASKED_EQ, kCmdMask, req));
        if (r < 0) return Errno{-r};
    }
    return ctx;
}

Expected<LoadedFilter> load(std::span<const std::uint32_t> requests, bool no_new_privs) {
    if (requests.empty()) return Errno{EINVAL};  // a filter without NOTIFY has no listener
    auto ctx = build(requests, no_new_privs);
    if (!ctx) return Errno{ctx.error()};
    if (int r = seccomp_load(ctx->get()); r < 0) return Errno{-r};
    // libseccomp loaded it with SECCOMP_FILTER_FLAG_NEW_LISTENER (the filter has a NOTIFY rule)
    // and keeps the listener in its global state; we own it from here on.
    const int fd = seccomp_notify_fd(ctx->get());
    if (fd < 0) return Errno{fd == -1 ? EIO : -fd};
    return LoadedFilter{UniqueFd(fd), no_new_privs};
}

}  // namespace

Expected<LoadedFilter> load_notify_filter(std::span<const std::uint32_t> requests,
                                          NoNewPrivs policy) {
    if (policy == NoNewPrivs::WhenRequired) {
        // The kernel accepts a filter without NO_NEW_PRIVS only from CAP_SYS_ADMIN (EACCES).
        auto loaded = load(requests, false);
        if (loaded || loaded.error() != EACCES) return loaded;
    }
    return load(requests, true);
}

}  // namespace kvmemu::launcher
