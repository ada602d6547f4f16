// sys::thread_in_group(): a thread is in its own process only, whether or not the caller may
// signal it (the vCPU files' EIO check and the supervisor's worker retirement rely on both).
#include "supervisor/notify_syscalls.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace kvmemu::supervisor {
namespace {

pid_t gettid_() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

TEST(ThreadInGroup, ATidIsInItsOwnProcessOnlyWhateverThePermission) {
    const pid_t me = ::getpid(), tid = gettid_();
    EXPECT_EQ(sys::thread_in_group(me, tid), 0);
    EXPECT_EQ(sys::thread_in_group(me, me), 0);
    pid_t other_tid = 0;
    std::thread t([&] { other_tid = gettid_(); });
    t.join();  // gone
    EXPECT_EQ(sys::thread_in_group(me, other_tid), -ESRCH);
    EXPECT_EQ(sys::thread_in_group(1, tid), -ESRCH);
    EXPECT_NE(sys::thread_in_group(me, 0), 0);
    if (::geteuid() != 0) GTEST_SKIP() << "the unprivileged half needs root to drop to nobody";
    // From a process that may not signal us (another uid, no CAP_KILL): still answered.
    const pid_t child = ::fork();
    if (child == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(2);
        if (::syscall(SYS_tgkill, me, tid, 0) != -1 || errno != EPERM) ::_exit(3);  // the case
        const bool ok = sys::thread_in_group(me, tid) == 0 && sys::thread_in_group(1, tid) != 0;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace kvmemu::supervisor
