// Module parameters: kernel parsing (kstrtobool, kstrtouint, sysfs_streq) and the errnos of
// set_nx_huge_pages() / set_nx_huge_pages_recovery_param() in arch/x86/kvm/mmu/mmu.c.
#include <gtest/gtest.h>

#include <cerrno>

#include "mmu/kstrto.hpp"
#include "mmu/nx_params.hpp"
#include "mmu/nx_recovery.hpp"

namespace kvmemu::mmu {
namespace {

TEST(Kstrtobool, KernelSpellings) {
    // lib/kstrtox.c: first character decides; "o" needs the second.
    for (const char* t : {"y", "Y", "yes", "1", "t", "true", "on", "ON", "On\n"})
        EXPECT_TRUE(*kstrtobool(t)) << t;
    for (const char* f : {"n", "N", "no", "0", "f", "false", "off", "OF"})
        EXPECT_FALSE(*kstrtobool(f)) << f;
    for (const char* bad : {"", "o", "ox", "2", " y", "x", "enable"})
        EXPECT_EQ(kstrtobool(bad).error(), EINVAL) << bad;
}

TEST(Kstrtouint, BaseDetectionNewlineAndRange) {
    EXPECT_EQ(*kstrtouint("60"), 60u);
    EXPECT_EQ(*kstrtouint("60\n"), 60u);
    EXPECT_EQ(*kstrtouint("+7"), 7u);
    EXPECT_EQ(*kstrtouint("0x10"), 16u);
    EXPECT_EQ(*kstrtouint("010"), 8u);
    EXPECT_EQ(*kstrtouint("0"), 0u);
    EXPECT_EQ(*kstrtouint("4294967295"), 4294967295u);
    EXPECT_EQ(kstrtouint("4294967296").error(), ERANGE);
    EXPECT_EQ(kstrtouint("99999999999999999999999").error(), ERANGE);
    for (const char* bad : {"", "-1", "x", "08", "0x", "1 ", " 1", "1\n\n", "12a", "\n"})
        EXPECT_EQ(kstrtouint(bad).error(), EINVAL) << bad;
}

TEST(SysfsStreq, OneTrailingNewline) {
    EXPECT_TRUE(sysfs_streq("never\n", "never"));
    EXPECT_TRUE(sysfs_streq("auto", "auto\n"));
    EXPECT_FALSE(sysfs_streq("auto\n\n", "auto"));
    EXPECT_FALSE(sysfs_streq("autox", "auto"));
}

TEST(NxParams, DefaultIsAutoFromCpuBug) {
    // nx_huge_pages=-1 ("auto") at module init: on iff iTLB multihit and mitigations on.
    EXPECT_EQ(NxParams(true).show_nx_huge_pages(), "Y\n");
    EXPECT_EQ(NxParams(false).show_nx_huge_pages(), "N\n");
    EXPECT_EQ(NxParams(false).show_recovery_ratio(), "60\n");
    EXPECT_EQ(NxParams(false).show_recovery_period_ms(), "0\n");
}

TEST(NxParams, OffForceAutoAndBooleans) {
    NxParams p(false);
    EXPECT_TRUE(*p.set_nx_huge_pages("force", true));  // changed N -> Y
    EXPECT_FALSE(*p.set_nx_huge_pages("Y", true));     // unchanged
    EXPECT_TRUE(*p.set_nx_huge_pages("off\n", true));
    EXPECT_FALSE(*p.set_nx_huge_pages("auto", true));  // auto is off on this CPU
    EXPECT_TRUE(*p.set_nx_huge_pages("on", true));
    EXPECT_EQ(p.show_nx_huge_pages(), "Y\n");
    EXPECT_TRUE(*p.set_nx_huge_pages("0", true));
    EXPECT_EQ(p.set_nx_huge_pages("maybe", true).error(), EINVAL);
    EXPECT_EQ(p.set_nx_huge_pages("", true).error(), EINVAL);
    NxParams q(true);
    EXPECT_TRUE(*q.set_nx_huge_pages("off", true));
    EXPECT_TRUE(*q.set_nx_huge_pages("auto", true));
    EXPECT_TRUE(q.nx_huge_pages());
}

TEST(NxParams, NeverOnlyWithoutVmsThenEverythingIsEperm) {
    NxParams p(true);
    EXPECT_EQ(p.set_nx_huge_pages("never", true).error(), EBUSY);  // vm_list not empty
    EXPECT_TRUE(p.nx_huge_pages());
    EXPECT_FALSE(p.hard_disabled());
    EXPECT_TRUE(*p.set_nx_huge_pages("never\n", false));  // Y -> N
    EXPECT_TRUE(p.hard_disabled());
    EXPECT_EQ(p.show_nx_huge_pages(), "never\n");
    for (const char* v : {"never", "off", "force", "Y", "junk"})
        EXPECT_EQ(p.set_nx_huge_pages(v, false).error(), EPERM);
    EXPECT_EQ(p.set_recovery_ratio("5").error(), EPERM);
    EXPECT_EQ(p.set_recovery_period_ms("junk").error(), EPERM);  // EPERM before parsing
    EXPECT_EQ(p.recovery_period_ms(), std::nullopt);
}

TEST(NxParams, RecoveryParamsParseAndWake) {
    NxParams p(true);
    EXPECT_EQ(p.recovery_period_ms(), 60000u);  // 3,600,000 / 60
    EXPECT_EQ(p.set_recovery_ratio("x").error(), EINVAL);
    EXPECT_EQ(p.set_recovery_ratio("-1").error(), EINVAL);
    EXPECT_EQ(p.set_recovery_ratio("4294967296").error(), ERANGE);
    EXPECT_EQ(p.recovery_ratio(), 60u);         // unchanged on error
    EXPECT_FALSE(*p.set_recovery_ratio("30"));  // period grows: no wake
    EXPECT_TRUE(*p.set_recovery_ratio("120"));  // period shrinks: wake
    EXPECT_FALSE(*p.set_recovery_ratio("0"));   // disabled
    EXPECT_EQ(p.recovery_period_ms(), std::nullopt);
    EXPECT_TRUE(*p.set_recovery_ratio("1"));         // enabled again: wake
    EXPECT_TRUE(*p.set_recovery_period_ms("1000"));  // 3,600,000 -> 1000
    EXPECT_EQ(p.show_recovery_period_ms(), "1000\n");
    EXPECT_EQ(p.recovery_period_ms(), 1000u);
}

TEST(NxRecovery, PeriodAndBatch) {
    // calc_nx_huge_pages_recovery_period(): disabled if nx_huge_pages off or ratio 0; period 0
    // -> 3,600,000 / min(ratio, 3600).
    EXPECT_EQ(nx_recovery_period_ms(false, 60, 0), std::nullopt);
    EXPECT_EQ(nx_recovery_period_ms(true, 0, 10), std::nullopt);
    EXPECT_EQ(nx_recovery_period_ms(true, 60, 0), 60000u);
    EXPECT_EQ(nx_recovery_period_ms(true, 7200, 0), 1000u);
    EXPECT_EQ(nx_recovery_period_ms(true, 60, 250), 250u);
    // kvm_recover_nx_huge_pages(): DIV_ROUND_UP(nx_lpage_splits, ratio).
    EXPECT_EQ(nx_recovery_batch(2, 60), 1u);
    EXPECT_EQ(nx_recovery_batch(0, 60), 0u);
    EXPECT_EQ(nx_recovery_batch(121, 60), 3u);
    EXPECT_EQ(nx_recovery_batch(5, 0), 0u);
    EXPECT_EQ(nx_recovery_batch(5, 1), 5u);
}

}  // namespace
}  // namespace kvmemu::mmu
