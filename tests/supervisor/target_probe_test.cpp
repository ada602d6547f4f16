// stat_caller_fd: the fast-path proof that a cached thread is still in its process, and what its
// fd is. Checked against the test's own threads and a child that is reaped.
#include "supervisor/target_probe.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace kvmemu::testing {
namespace {

using supervisor::Caller;
using supervisor::ProcessHandles;

std::shared_ptr<const ProcessHandles> handles_of(pid_t pid) {
    ProcessHandles h;
    h.proc_dir.reset(::open(("/proc/" + std::to_string(pid)).c_str(),
                            O_PATH | O_DIRECTORY | O_CLOEXEC));
    return std::make_shared<const ProcessHandles>(std::move(h));
}

TEST(TargetProbe, StatsTheThreadsOwnFd) {
    UniqueFd fd(::memfd_create("probe", MFD_CLOEXEC));
    ASSERT_TRUE(fd);
    struct stat want {};
    ASSERT_EQ(::fstat(fd.get(), &want), 0);
    const Caller me{::gettid(), ::getpid(), handles_of(::getpid())};
    ASSERT_TRUE(me.process->proc_dir);
    struct stat st {};
    ASSERT_EQ(supervisor::stat_caller_fd(me, fd.get(), st), 0);
    EXPECT_EQ(st.st_ino, want.st_ino);
    EXPECT_EQ(st.st_dev, want.st_dev);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    // Another thread of the process is in it too.
    std::promise<pid_t> tid;
    std::promise<void> done;
    std::thread t([&] {
        tid.set_value(::gettid());
        done.get_future().wait();
    });
    const Caller other{tid.get_future().get(), ::getpid(), me.process};
    EXPECT_EQ(supervisor::stat_caller_fd(other, fd.get(), st), 0);
    done.set_value();
    t.join();
    // Gone thread, closed fd, bad fd.
    EXPECT_EQ(supervisor::stat_caller_fd(other, fd.get(), st), -ENOENT);
    const int n = fd.get();
    fd.reset();
    EXPECT_EQ(supervisor::stat_caller_fd(me, n, st), -ENOENT);
    EXPECT_EQ(supervisor::stat_caller_fd(me, -1, st), -EBADF);
}

TEST(TargetProbe, AThreadOfAnotherProcessIsNotInThisOne) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    // The child's main thread, claimed to be in our process: refused.
    const Caller wrong{child, ::getpid(), handles_of(::getpid())};
    struct stat st {};
    EXPECT_EQ(supervisor::stat_caller_fd(wrong, 0, st), -ENOENT);
    // In its own process it is found, until that process is reaped; the handle then finds
    // nothing, whatever later gets the pid.
    const Caller right{child, child, handles_of(child)};
    EXPECT_EQ(supervisor::stat_caller_fd(right, 0, st), 0);
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_NE(supervisor::stat_caller_fd(right, 0, st), 0);
}

}  // namespace
}  // namespace kvmemu::testing
