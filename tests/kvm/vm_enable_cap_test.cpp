// KVM_ENABLE_CAP(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES) on a VM: order of checks, numbering, effect.
// Expectations follow kvm_vm_ioctl_enable_cap() in arch/x86/kvm/x86.c and the oracle.
#include <gtest/gtest.h>

#include "kvm/system.hpp"
#include "tests/kvm/fake_user_io.hpp"
#include "uapi/caps.hpp"
#include "uapi/ioctls.hpp"

namespace u = kvmemu::uapi;
using kvmemu::kvm::Caller;
using kvmemu::kvm::CapNumbering;
using kvmemu::kvm::Config;
using kvmemu::kvm::System;
using kvmemu::test::FakeUserIo;

namespace {

constexpr Caller kOwner{101, 100};
constexpr Caller kStranger{201, 200};

struct Fixture {
    explicit Fixture(CapNumbering n = CapNumbering::Both, bool permitted = true)
        : system(Config{n}, [this](pid_t tid) {
              last_checked_tid = tid;
              return allow ? 0 : EPERM;
          }) {
        allow = permitted;
        vm = *system.create_vm(kOwner, 0);
    }
    long enable(std::uint32_t cap, std::uint64_t arg0 = 0, std::uint32_t flags = 0,
                Caller who = kOwner) {
        u::kvm_enable_cap c{};
        c.cap = cap;
        c.flags = flags;
        c.args[0] = arg0;
        io.put(FakeUserIo::kBase, c);
        return vm->ioctl(who, u::ENABLE_CAP, FakeUserIo::kBase, io);
    }
    bool allow = true;
    pid_t last_checked_tid = 0;
    System system;
    std::shared_ptr<kvmemu::kvm::Vm> vm;
    FakeUserIo io;
};

TEST(VmEnableCap, SucceedsAndMayBeRepeated) {
    Fixture f;
    EXPECT_FALSE(f.vm->nx_huge_pages_disabled());
    EXPECT_EQ(f.enable(220), 0);
    EXPECT_TRUE(f.vm->nx_huge_pages_disabled());
    EXPECT_EQ(f.enable(220), 0);
    EXPECT_EQ(f.last_checked_tid, kOwner.tid);  // the calling thread, not the process
}

TEST(VmEnableCap, PermissionIsCheckedBeforeArgs) {
    Fixture f(CapNumbering::Both, false);
    EXPECT_EQ(f.enable(220, 1), -EPERM);
    EXPECT_EQ(f.enable(220, 0), -EPERM);
    EXPECT_FALSE(f.vm->nx_huge_pages_disabled());
}

TEST(VmEnableCap, NonZeroArgIsEinvalForPermittedCaller) {
    Fixture f;
    EXPECT_EQ(f.enable(220, 1), -EINVAL);
    EXPECT_FALSE(f.vm->nx_huge_pages_disabled());
}

TEST(VmEnableCap, FlagsAndUnknownCapsAreEinvalEvenWithoutPermission) {
    Fixture f(CapNumbering::Mainline, false);
    EXPECT_EQ(f.enable(220, 0, 1), -EINVAL);  // flags are refused before the capability switch
    EXPECT_EQ(f.enable(216), -EINVAL);        // unknown under mainline numbering
    EXPECT_EQ(f.enable(12345), -EINVAL);
}

TEST(VmEnableCap, RefusedOnceAVcpuExists) {
    Fixture f;
    ASSERT_TRUE(f.system.create_vcpu(*f.vm, kOwner, 0));
    EXPECT_EQ(f.enable(220), -EINVAL);
    EXPECT_FALSE(f.vm->nx_huge_pages_disabled());
}

TEST(VmEnableCap, StaysEnabledAfterVcpuCreation) {
    Fixture f;
    ASSERT_EQ(f.enable(220), 0);
    ASSERT_TRUE(f.system.create_vcpu(*f.vm, kOwner, 0));
    EXPECT_TRUE(f.vm->nx_huge_pages_disabled());
    EXPECT_EQ(f.enable(220), -EINVAL);
}

TEST(VmEnableCap, BadPointerIsEfault) {
    Fixture f;
    EXPECT_EQ(f.vm->ioctl(kOwner, u::ENABLE_CAP, 1, f.io), -EFAULT);
}

TEST(VmEnableCap, OtherProcessGetsEio) {
    Fixture f;
    EXPECT_EQ(f.enable(220, 0, 0, kStranger), -EIO);
    EXPECT_FALSE(f.vm->nx_huge_pages_disabled());
}

TEST(VmEnableCap, NumberingSelectsTheNumbers) {
    {
        Fixture both(CapNumbering::Both);
        EXPECT_EQ(both.enable(216), 0);
        EXPECT_EQ(both.vm->ioctl(kOwner, u::CHECK_EXTENSION, 216, both.io), 1);
        EXPECT_EQ(both.vm->ioctl(kOwner, u::CHECK_EXTENSION, 220, both.io), 1);
    }
    {
        Fixture seed(CapNumbering::Seed);
        EXPECT_EQ(seed.enable(220), -EINVAL);
        EXPECT_FALSE(seed.vm->nx_huge_pages_disabled());
        EXPECT_EQ(seed.enable(216), 0);
        EXPECT_TRUE(seed.vm->nx_huge_pages_disabled());
        EXPECT_EQ(seed.vm->ioctl(kOwner, u::CHECK_EXTENSION, 220, seed.io), 0);
    }
    {
        Fixture mainline(CapNumbering::Mainline);
        EXPECT_EQ(mainline.vm->ioctl(kOwner, u::CHECK_EXTENSION, 216, mainline.io), 0);
        EXPECT_EQ(mainline.system.ioctl(kOwner, u::CHECK_EXTENSION, 216, mainline.io), 0);
        EXPECT_EQ(mainline.system.ioctl(kOwner, u::CHECK_EXTENSION, 220, mainline.io), 1);
    }
}

TEST(VmEnableCap, OtherVmsKeepTheMitigation) {
    Fixture f;
    auto other = *f.system.create_vm(kOwner, 0);
    ASSERT_EQ(f.enable(220), 0);
    EXPECT_TRUE(f.vm->nx_huge_pages_disabled());
    EXPECT_FALSE(other->nx_huge_pages_disabled());
}

}  // namespace
