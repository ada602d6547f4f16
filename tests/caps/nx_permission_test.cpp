// Tests of the NX-huge-page permission check: CAP_SYS_BOOT, initial user namespace, fail closed.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include "caps/nx_permission.hpp"
#include "caps/proc_task.hpp"

namespace fs = std::filesystem;
using kvmemu::caps::may_disable_nx_huge_pages;
using kvmemu::caps::PermissionSource;
using kvmemu::caps::ProcTask;

namespace {

pid_t gettid_() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// A fake /proc with entries for pid 1 and one caller, whose user namespaces may be the same
// (a hard link: same st_dev/st_ino) or different.
class FakeProc : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("kvmemu-fakeproc-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        add_task(1, 1);
        std::ofstream(root_ / "1" / "ns" / "user") << "init-userns";
    }
    void TearDown() override { fs::remove_all(root_); }

    void add_task(pid_t tid, pid_t tgid) {
        fs::create_directories(root_ / std::to_string(tid) / "ns");
        std::ofstream(root_ / std::to_string(tid) / "status")
            << "Name:\tprobe\nTgid:\t" << tgid << "\nPid:\t" << tid << "\nCapEff:\t0\n";
    }
    void same_userns_as_init(pid_t tid) {
        fs::create_hard_link(root_ / "1" / "ns" / "user", root_ / std::to_string(tid) / "ns" / "user");
    }
    void child_userns(pid_t tid) { std::ofstream(root_ / std::to_string(tid) / "ns" / "user") << "child"; }
    PermissionSource source(int (*has)(pid_t)) const { return {root_.string(), has}; }

    fs::path root_;
};

int has_boot(pid_t) { return 1; }
int lacks_boot(pid_t) { return 0; }
int cap_read_fails(pid_t) { return -ESRCH; }

fs::path g_vanish_dir;
int has_boot_then_vanish(pid_t) {
    fs::remove(g_vanish_dir / "status");  // the thread exits while being checked
    return 1;
}

TEST_F(FakeProc, AllowsCapSysBootInInitialUserNamespace) {
    add_task(4242, 4240);
    same_userns_as_init(4242);
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(has_boot)), 0);
}

TEST_F(FakeProc, RefusesWithoutCapSysBoot) {
    add_task(4242, 4240);
    same_userns_as_init(4242);
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(lacks_boot)), EPERM);
}

TEST_F(FakeProc, RefusesCapSysBootHeldInsideAChildUserNamespace) {
    add_task(4242, 4240);
    child_userns(4242);
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(has_boot)), EPERM);
}

TEST_F(FakeProc, FailsClosed) {
    EXPECT_EQ(may_disable_nx_huge_pages(0, source(has_boot)), EPERM);     // release: no caller
    EXPECT_EQ(may_disable_nx_huge_pages(-5, source(has_boot)), EPERM);
    EXPECT_EQ(may_disable_nx_huge_pages(777, source(has_boot)), EPERM);   // vanished caller
    add_task(4242, 4240);                                                  // no ns/user entry
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(has_boot)), EPERM);
    same_userns_as_init(4242);
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(cap_read_fails)), EPERM);
}

TEST_F(FakeProc, RefusesWhenTheThreadVanishesDuringTheCheck) {
    add_task(4242, 4240);
    same_userns_as_init(4242);
    g_vanish_dir = root_ / "4242";
    EXPECT_EQ(may_disable_nx_huge_pages(4242, source(has_boot_then_vanish)), EPERM);
}

TEST_F(FakeProc, ProcTaskReadsTgidAndFields) {
    add_task(4242, 4240);
    auto t = ProcTask::open(4242, root_.string());
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->tgid());
    EXPECT_EQ(*t->tgid(), 4240);
    EXPECT_EQ(*t->status_field("Name"), "probe");
    EXPECT_EQ(t->status_field("Nope").error(), ENOENT);
    EXPECT_TRUE(t->alive());
}

// The real thing: libcap and /proc on this machine. The suite runs as root in CI.
bool running_with_sys_boot() {
    cap_t c = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    cap_get_flag(c, CAP_SYS_BOOT, CAP_EFFECTIVE, &v);
    cap_free(c);
    return v == CAP_SET;
}

TEST(RealProc, ChecksTheCallingThreadNotItsProcess) {
    if (!running_with_sys_boot()) GTEST_SKIP() << "needs CAP_SYS_BOOT (run as root)";
    EXPECT_EQ(may_disable_nx_huge_pages(gettid_()), 0);
    // Capabilities are per thread: a thread that drops CAP_SYS_BOOT from its effective set is
    // refused while its sibling keeps permission.
    int dropped_result = -1;
    std::thread t([&] {
        cap_t c = cap_get_proc();
        const cap_value_t boot = CAP_SYS_BOOT;
        cap_set_flag(c, CAP_EFFECTIVE, 1, &boot, CAP_CLEAR);
        ASSERT_EQ(cap_set_proc(c), 0);
        cap_free(c);
        dropped_result = may_disable_nx_huge_pages(gettid_());
    });
    t.join();
    EXPECT_EQ(dropped_result, EPERM);
    EXPECT_EQ(may_disable_nx_huge_pages(gettid_()), 0);
}

TEST(RealProc, RefusesAChildUserNamespaceThatHoldsCapSysBoot) {
    if (!running_with_sys_boot()) GTEST_SKIP() << "needs CAP_SYS_BOOT (run as root)";
    int to_parent[2];
    int to_child[2];
    ASSERT_EQ(::pipe(to_parent), 0);
    ASSERT_EQ(::pipe(to_child), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        char ok = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        (void)!::write(to_parent[1], &ok, 1);
        (void)!::read(to_child[0], &ok, 1);  // stay alive until checked
        ::_exit(0);
    }
    char ok = 0;
    ASSERT_EQ(::read(to_parent[0], &ok, 1), 1);
    if (ok == 'y') {
        EXPECT_EQ(may_disable_nx_huge_pages(child), EPERM);
    }
    (void)!::write(to_child[1], &ok, 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) ::close(fd);
    if (ok != 'y') GTEST_SKIP() << "unshare(CLONE_NEWUSER) not permitted here";
}

}  // namespace
