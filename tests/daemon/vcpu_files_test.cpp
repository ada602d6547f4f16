// VcpuFiles on the host's FUSE (needs root): a vCPU's run area is a file of the daemon's private
// mount whose fd behaves as a vCPU fd: ioctls with the kernel's errnos, EIO from another process,
// mmap() shared with the daemon, and a call that must wait for a busy vCPU does not hold up others.
#include "daemon/vcpu_files.hpp"

#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <thread>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/ioctls.hpp"

namespace kvmemu::daemon {
namespace {

namespace u = uapi;

pid_t gettid_() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

class VcpuFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0)
            GTEST_SKIP() << "needs root and /dev/fuse";
        files_ = std::make_unique<VcpuFiles>(system_, VcpuFiles::Options{});
        ASSERT_EQ(files_->start(), 0);
        system_.set_run_area_factory([this] { return files_->make_run_area(); });
        auto vm = system_.create_vm(self(), 0);
        ASSERT_TRUE(vm);
        vm_ = *vm;
    }
    void TearDown() override {
        vm_.reset();
        if (files_) files_->stop();
    }
    static kvm::Caller self() { return {gettid_(), ::getpid()}; }

    // A new vCPU and a program's fd on it (as the supervisor would inject).
    std::pair<std::shared_ptr<kvm::Vcpu>, UniqueFd> vcpu(std::uint64_t id) {
        auto v = system_.create_vcpu(*vm_, self(), id);
        EXPECT_TRUE(v);
        if (!v) return {};
        return {*v, UniqueFd(::fcntl((*v)->run_fd(), F_DUPFD_CLOEXEC, 0))};
    }

    kvm::System system_{kvm::Config{}, [](pid_t) { return 0; }};
    std::unique_ptr<VcpuFiles> files_;
    std::shared_ptr<kvm::Vm> vm_;
};

TEST_F(VcpuFilesTest, TheFileAnswersVcpuIoctlsWithTheKernelsErrnos) {
    auto [v, fd] = vcpu(0);
    ASSERT_TRUE(fd);
    struct stat st {};
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 12288);
    EXPECT_EQ(st.st_dev, files_->dev());
    EXPECT_EQ(system_.find_vcpu(st.st_dev, st.st_ino).vcpu, v);

    kvm_regs regs{};
    ASSERT_EQ(::ioctl(fd.get(), KVM_GET_REGS, &regs), 0);
    EXPECT_EQ(regs.rip, 0xfff0U);  // the reset state
    EXPECT_EQ(regs.rflags, 2U);
    regs.rax = 0x1234'5678'9abc'def0;
    regs.rip = 0x1000;
    ASSERT_EQ(::ioctl(fd.get(), KVM_SET_REGS, &regs), 0);
    kvm_regs back{};
    ASSERT_EQ(::ioctl(fd.get(), KVM_GET_REGS, &back), 0);
    EXPECT_EQ(back.rax, regs.rax);
    EXPECT_EQ(back.rip, 0x1000U);
    kvm_mp_state mp{};
    ASSERT_EQ(::ioctl(fd.get(), KVM_GET_MP_STATE, &mp), 0);
    EXPECT_EQ(mp.mp_state, static_cast<unsigned>(KVM_MP_STATE_RUNNABLE));
    EXPECT_GT(::ioctl(fd.get(), KVM_GET_TSC_KHZ, 0), 0);  // a value, not a buffer

    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), KVM_GET_REGS, reinterpret_cast<void*>(8)), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), KVM_SET_SREGS, reinterpret_cast<void*>(8)), -1);
    EXPECT_EQ(errno, EFAULT);
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), _IO(KVMIO, 0xfe), 0), -1);  // unknown
    EXPECT_EQ(errno, EINVAL);
    termios t{};
    errno = 0;
    EXPECT_EQ(::ioctl(fd.get(), TCGETS, &t), -1);  // not KVM's: still kvm_vcpu_ioctl()'s EINVAL
    EXPECT_EQ(errno, EINVAL);
    // The requests whose argument outgrows _IOC_SIZE are the supervisor's: here they cannot
    // reach the array, and say so rather than read garbage.
    alignas(8) unsigned char msrs[8 + 16] = {1, 0, 0, 0, 0, 0, 0, 0, 0x10};  // nmsrs 1: the TSC
    errno = 0;
    // (uapi's number: <linux/kvm.h> in C++ sizes struct kvm_msrs wrongly.)
    EXPECT_EQ(::ioctl(fd.get(), u::SET_MSRS, msrs), -1);
    EXPECT_EQ(errno, EFAULT);
}

TEST_F(VcpuFilesTest, AnotherProcessGetsEio) {
    auto [v, fd] = vcpu(0);
    ASSERT_TRUE(fd);
    const pid_t child = ::fork();
    if (child == 0) {
        kvm_regs regs{};
        const int r = ::ioctl(fd.get(), KVM_GET_REGS, &regs);
        ::_exit(r == -1 && errno == EIO ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    kvm_regs regs{};
    EXPECT_EQ(::ioctl(fd.get(), KVM_GET_REGS, &regs), 0);  // the owner still can
}

TEST_F(VcpuFilesTest, TheProgramsMappingIsTheDaemons) {
    auto [v, fd] = vcpu(0);
    ASSERT_TRUE(fd);
    void* p = ::mmap(nullptr, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    ASSERT_NE(p, MAP_FAILED);
    auto* run = static_cast<kvm_run*>(p);
    run->immediate_exit = 1;  // the program writes ...
    EXPECT_EQ(v->run_page()->immediate_exit, 1);  // ... the daemon reads
    v->run_page()->exit_reason = KVM_EXIT_HLT;  // and back
    EXPECT_EQ(run->exit_reason, static_cast<unsigned>(KVM_EXIT_HLT));
    auto* pio = static_cast<unsigned char*>(p) + 4096;  // the PIO page
    pio[7] = 0x5a;
    EXPECT_EQ(reinterpret_cast<unsigned char*>(v->run_page())[4096 + 7], 0x5a);
    // Written back (as the kernel does every few seconds) and still the same pages.
    ASSERT_EQ(::msync(p, 12288, MS_SYNC), 0);
    run->immediate_exit = 0;
    EXPECT_EQ(v->run_page()->immediate_exit, 0);
    ::munmap(p, 12288);
}

TEST_F(VcpuFilesTest, ACallOnABusyVcpuWaitsWithoutHoldingUpOthers) {
    test::FakeUserIo io;
    ASSERT_EQ(vm_->ioctl(self(), u::CREATE_IRQCHIP, 0, io), 0);
    auto [v0, fd0] = vcpu(0);
    auto [v1, fd1] = vcpu(1);  // an AP: KVM_RUN blocks until kicked (no INIT/SIPI modelled)
    ASSERT_TRUE(fd0 && fd1);
    std::atomic<pid_t> runner{0};
    std::atomic<long> run_result{1};
    std::thread run([&, v1 = v1] {
        runner = gettid_();
        test::FakeUserIo rio;
        run_result = vm_->vcpu_ioctl(*v1, self(), u::RUN, 0, rio);
    });
    // Wait until the run holds the vCPU (a try then finds it busy).
    for (int i = 0; i < 5000; ++i) {
        test::FakeUserIo tio;
        if (!v1->try_ioctl(self(), u::GET_MP_STATE, test::FakeUserIo::kBase, tio)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::atomic<bool> regs_done{false};
    std::thread waiter([&, fd = fd1.get()] {
        kvm_regs regs{};
        EXPECT_EQ(::ioctl(fd, KVM_GET_REGS, &regs), 0);
        regs_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(regs_done);  // vcpu->mutex is the run's
    // Meanwhile the other vCPU's file answers at once: the loop is not blocked.
    kvm_regs regs{};
    EXPECT_EQ(::ioctl(fd0.get(), KVM_GET_REGS, &regs), 0);
    EXPECT_EQ(run_result, 1);
    system_.kick_thread(runner);
    run.join();
    EXPECT_EQ(run_result, -EINTR);
    waiter.join();
    EXPECT_TRUE(regs_done);
}

}  // namespace
}  // namespace kvmemu::daemon
