// The parameter filesystem: mount preparation, a double-forked server process, and its FUSE
// low-level operations (lookup, getattr, setattr, open, read, write, readdir).
#define FUSE_USE_VERSION 34
#include "launcher/module_params.hpp"

#include <fuse_lowlevel.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/unique_fd.hpp"
#include "ctl/control_client.hpp"

namespace kvmemu::launcher {
namespace {

constexpr const char* kTarget = "/sys/module/kvm/parameters";
constexpr std::array<const char*, 3> kNames = {"nx_huge_pages", "nx_huge_pages_recovery_ratio",
                                               "nx_huge_pages_recovery_period_ms"};
constexpr fuse_ino_t kRoot = FUSE_ROOT_ID;  // parameter i has inode kRoot + 1 + i

std::string g_control;  // the server process's only configuration

int param_index(fuse_ino_t ino) {
    return ino > kRoot && ino <= kRoot + kNames.size() ? static_cast<int>(ino - kRoot - 1) : -1;
}

struct stat attr_of(fuse_ino_t ino) {
    struct stat st {};
    st.st_ino = ino;
    st.st_uid = 0;
    st.st_gid = 0;
    if (ino == kRoot) {
        st.st_mode = S_IFDIR | 0755;
        st.st_nlink = 2;
    } else {
        st.st_mode = S_IFREG | 0644;  // as sysfs shows module parameters
        st.st_nlink = 1;
        st.st_size = 4096;
    }
    return st;
}

Expected<std::string> control(const std::string& request) {
    auto c = control::ControlClient::connect(g_control);
    if (!c) return Errno{EIO};
    return c->call(request);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (parent == kRoot && std::strcmp(name, kNames[i]) == 0) {
            fuse_entry_param e{};
            e.ino = kRoot + 1 + i;
            e.attr = attr_of(e.ino);
            fuse_reply_entry(req, &e);
            return;
        }
    }
    fuse_reply_err(req, ENOENT);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    if (ino != kRoot && param_index(ino) < 0) return (void)fuse_reply_err(req, ENOENT);
    const struct stat st = attr_of(ino);
    fuse_reply_attr(req, &st, 0);
}

// O_TRUNC of a shell redirection arrives as a size change: accepted and ignored, as sysfs does.
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat*, int, fuse_file_info* fi) {
    op_getattr(req, ino, fi);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (param_index(ino) < 0) return (void)fuse_reply_err(req, EISDIR);
    fi->direct_io = 1;  // the value is read anew on every read
    fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    const int i = param_index(ino);
    auto v = control(std::string("get ") + kNames[static_cast<std::size_t>(i)]);
    if (!v) return (void)fuse_reply_err(req, v.error());
    const std::string text = *v + "\n";
    if (static_cast<std::size_t>(off) >= text.size()) return (void)fuse_reply_buf(req, nullptr, 0);
    fuse_reply_buf(req, text.data() + off, std::min(size, text.size() - static_cast<std::size_t>(off)));
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t, fuse_file_info*) {
    const int i = param_index(ino);
    std::string value(buf, size);
    if (!value.empty() && value.back() == '\n') value.pop_back();  // sysfs_streq() ignores it
    if (value.find('\n') != std::string::npos) return (void)fuse_reply_err(req, EINVAL);
    // The kernel checked the writer against mode 0644 (default_permissions): root only.
    auto r = control(std::string("set ") + kNames[static_cast<std::size_t>(i)] + " " + value);
    if (!r) return (void)fuse_reply_err(req, r.error() == EACCES ? EPERM : r.error());
    fuse_reply_write(req, size);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    if (ino != kRoot) return (void)fuse_reply_err(req, ENOTDIR);
    std::array<char, 1024> buf{};
    std::size_t used = 0;
    for (std::size_t i = static_cast<std::size_t>(off); i < kNames.size(); ++i) {
        const struct stat st = attr_of(kRoot + 1 + i);
        const std::size_t n = fuse_add_direntry(req, buf.data() + used, std::min(size, buf.size()) - used,
                                                kNames[i], &st, static_cast<off_t>(i + 1));
        if (used + n > std::min(size, buf.size())) break;
        used += n;
    }
    fuse_reply_buf(req, buf.data(), used);
}

// The server process: serves until the watched process exits.
[[noreturn]] void serve(int watched_pidfd, int ready_fd) {
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o{};
        o.lookup = op_lookup;
        o.getattr = op_getattr;
        o.setattr = op_setattr;
        o.open = op_open;
        o.read = op_read;
        o.write = op_write;
        o.readdir = op_readdir;
        return o;
    }();
    const char* argv[] = {"kvmemu-params", "-o", "default_permissions,allow_other,fsname=kvmemu",
                          nullptr};
    fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
    fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, nullptr);
    char status = 1;
    if (se == nullptr || fuse_session_mount(se, kTarget) != 0) {
        (void)!::write(ready_fd, &status, 1);
        ::_exit(1);
    }
    status = 0;
    (void)!::write(ready_fd, &status, 1);
    ::close(ready_fd);
    fuse_buf fbuf{};
    while (!fuse_session_exited(se)) {
        pollfd fds[2] = {{fuse_session_fd(se), POLLIN, 0}, {watched_pidfd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if ((fds[1].revents & POLLIN) != 0) break;  // the program is gone
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
        const int res = fuse_session_receive_buf(se, &fbuf);
        if (res == -EINTR) continue;
        if (res <= 0) break;
        fuse_session_process_buf(se, &fbuf);
    }
    std::free(fbuf.mem);
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    ::_exit(0);
}

int prepare_target(std::string& why) {
    std::error_code ec;
    if (std::filesystem::is_directory(kTarget, ec)) return 0;
    // No kvm module on this host: a tmpfs over /sys/module holds kvm/parameters.
    if (::mount("kvmemu", "/sys/module", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") != 0) {
        why = std::string("mount tmpfs on /sys/module: ") + std::strerror(errno);
        return errno;
    }
    std::filesystem::create_directories(kTarget, ec);
    if (ec) {
        why = std::string("mkdir ") + kTarget + ": " + ec.message();
        return ec.value();
    }
    return 0;
}

}  // namespace

int show_module_parameters(const std::string& control_socket, bool already_private,
                           std::string& why) {
    // Nothing to show without a daemon that answers (e.g. a daemon of another version).
    if (!control::ControlClient::connect(control_socket)) {
        why = "no kvmemud control socket at " + control_socket;
        return ENOENT;
    }
    if (!already_private) {
        if (::unshare(CLONE_NEWNS) != 0) {
            why = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
            return errno;
        }
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            why = std::string("make mounts private: ") + std::strerror(errno);
            return errno;
        }
    }
    if (int e = prepare_target(why); e != 0) return e;

    UniqueFd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    if (!self) {
        why = std::string("pidfd_open: ") + std::strerror(errno);
        return errno;
    }
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return errno;
    UniqueFd ready_r(pipefd[0]);
    UniqueFd ready_w(pipefd[1]);
    g_control = control_socket;
    // Double fork: the server is nobody's child, so the program's wait() never sees it.
    const pid_t first = ::fork();
    if (first < 0) return errno;
    if (first == 0) {
        ready_r.reset();
        ::setsid();
        if (::fork() == 0) serve(self.get(), ready_w.get());
        ::_exit(0);
    }
    ready_w.reset();
    self.reset();
    int status = 0;
    ::waitpid(first, &status, 0);
    char ok = 1;
    if (::read(ready_r.get(), &ok, 1) != 1 || ok != 0) {
        why = std::string("FUSE mount at ") + kTarget + " failed (is the fuse module loaded?)";
        return EIO;
    }
    return 0;
}

}  // namespace kvmemu::launcher
