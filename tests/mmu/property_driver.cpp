// The property run: a random mix of operations on two VMs sharing one set of module
// parameters; after every step both VMs are audited (stats == leaves walked, no executable huge
// leaf under the mitigation, tracked splits linked, leaves consistent with slots) and
// operation-specific expectations are checked.
#include "tests/mmu/property_driver.hpp"

#include <array>
#include <memory>
#include <random>
#include <sstream>
#include <vector>

#include "mmu/mapping_level.hpp"
#include "mmu/mmu.hpp"
#include "mmu/nx_params.hpp"

namespace kvmemu::mmu::testing {

namespace {

// Host levels by address: within each 1 GiB of hva one answer, consistent for every address of
// a huge host page: 1G, 2M, or 2M/4K alternating per 2 MiB.
class PatternHostLevel final : public HostMappingOracle {
  public:
    Level host_level(std::uint64_t hva) override {
        switch ((hva >> 30) % 3) {
            case 0:
                return Level::k1G;
            case 1:
                return Level::k2M;
            default:
                return ((hva >> 21) & 1) != 0 ? Level::k2M : Level::k4K;
        }
    }
};

constexpr std::uint64_t kGpaSpaceGfns = std::uint64_t{4}
                                        << 18;  // 4 GiB of GPA space: slots reuse ranges
// Biased towards "on" so that the mitigation is active most of the time.
constexpr std::array<const char*, 18> kNxValues{"off",  "force", "auto",  "never", "Y",    "n",
                                                "on",   "off\n", "1",     "0",     "junk", "",
                                                "true", "2",     "force", "Y",     "on",   "1"};
constexpr std::array<const char*, 9> kUintValues{"0",   "1",  "2", "60",        "0x10",
                                                 "010", "-1", "x", "4294967296"};

struct Vm {
    std::unique_ptr<Mmu> mmu;
    std::uint32_t next_slot_id = 0;
};

class Driver {
  public:
    explicit Driver(std::uint64_t seed) : rng_(seed), params_(true) {
        for (auto& vm : vms_) new_vm(vm);
    }

    PropertyResult run(std::size_t steps) {
        for (std::size_t i = 0; i < steps && result_.ok(); ++i) {
            step();
            for (std::size_t v = 0; v < vms_.size() && result_.ok(); ++v) {
                const AuditReport a = vms_[v].mmu->audit();
                if (!a.ok()) fail("vm" + std::to_string(v) + " audit: " + a.error);
            }
            if (!result_.ok()) {
                result_.error =
                    "step " + std::to_string(i) + " (" + last_op_ + "): " + result_.error;
                break;
            }
            result_.steps_done = i + 1;
        }
        return result_;
    }

  private:
    std::uint64_t rand(std::uint64_t n) {
        return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
    }
    void fail(const std::string& msg) {
        if (result_.error.empty()) result_.error = msg;
    }

    void new_vm(Vm& vm) {
        vm.mmu = std::make_unique<Mmu>(host_, params_.nx_huge_pages());
        vm.next_slot_id = 0;
        if (rand(5) == 0) vm.mmu->disable_nx_huge_pages();
        const std::size_t n = 1 + rand(4);
        for (std::size_t i = 0; i < n; ++i) add_slot(vm);
    }

    void add_slot(Vm& vm) {
        // Mixed alignment: bases aligned to 1G, 2M or 4K; sizes whole or ragged; hva congruent
        // with the gfn or not.
        static constexpr std::array<std::uint64_t, 3> kAlign{std::uint64_t{1} << 18, 512, 1};
        const std::uint64_t align = kAlign[rand(3)];
        const std::uint64_t base = (rand(kGpaSpaceGfns) / align) * align;
        std::uint64_t npages = (1 + rand(3)) * (rand(2) != 0 ? 512 : (std::uint64_t{1} << 18) / 4);
        if (rand(3) == 0) npages += rand(700);
        std::uint64_t hva_pfn = (std::uint64_t{1} << 28) + rand(64) * (std::uint64_t{1} << 18);
        if (rand(3) == 0)
            hva_pfn += rand(1024);
        else if (rand(2) == 0)
            hva_pfn += base & ((std::uint64_t{1} << 18) - 1);
        else
            hva_pfn += base & 511;
        Memslot s{vm.next_slot_id++, base, npages, hva_pfn << 12, 0};
        if (rand(5) == 0) s.flags |= kMemReadonly;
        if (rand(6) == 0) s.flags |= kMemLogDirtyPages;
        (void)vm.mmu->create_memslot(s);  // overlapping candidates are simply refused
    }

    std::uint64_t random_gpa(const Mmu& mmu) {
        const auto& slots = mmu.memslots().slots();
        if (!slots.empty() && rand(5) != 0) {
            const Memslot& s = slots[rand(slots.size())];
            return ((s.base_gfn + rand(s.npages)) << 12) + rand(4096);
        }
        return rand(kGpaSpaceGfns + (std::uint64_t{1} << 18)) << 12;
    }

    void do_fault(Mmu& mmu) {
        const std::uint64_t gpa = random_gpa(mmu);
        const Access access = static_cast<Access>(rand(3));
        const bool nx_active = mmu.nx_mitigation_active();
        const FaultResult r = mmu.fault(gpa, access);
        ++result_.faults;
        const Memslot* slot = mmu.memslots().find(gpa >> 12);
        if (slot == nullptr) {
            if (r.outcome != FaultOutcome::NoSlot) fail("fault outside slots was not NoSlot");
            return;
        }
        if (access == Access::Write && slot->readonly()) {
            if (r.outcome != FaultOutcome::ReadOnlyWrite)
                fail("write to read-only slot not reported");
            if (mmu.lookup(gpa) && is_writable_pte(mmu.lookup(gpa)->spte))
                fail("read-only slot mapped writable");
            return;
        }
        if (!r.mapped()) {
            fail("fault in a slot not mapped");
            return;
        }
        ++result_.mapped;
        const auto leaf = mmu.lookup(gpa);
        if (!leaf || leaf->spte != r.spte || leaf->level != r.level)
            fail("lookup disagrees with fault result");
        if (r.hva != slot->gpa_to_hva(gpa) || (leaf && leaf->hva != r.hva)) fail("hva mismatch");
        const int req = max_mapping_level(*slot, gpa >> 12, host_.host_level(r.hva));
        if (to_int(r.level) > req) fail("mapped above the allowed level");
        if (access == Access::Write && !is_writable_pte(r.spte))
            fail("write fault mapped without W");
        // Without the mitigation nothing lowers the level below what host and slot allow.
        if (!nx_active && to_int(r.level) != req)
            fail("mapped below the allowed level without the mitigation");
        if (access == Access::Exec) {
            if (!is_executable_pte(r.spte)) fail("exec fault mapped without X");
            if (nx_active && r.level != Level::k4K)
                fail("exec fault mapped huge under the mitigation");
            if (nx_active && req >= 2) {
                bool tracked = false;
                for (const NxSplit& s : mmu.nx_splits()) {
                    if (s.huge_level == Level::k2M && s.base_gfn == level_base_gfn(gpa >> 12, 2))
                        tracked = true;
                }
                if (!tracked) fail("exec fault under the mitigation left no tracked 2M split");
                ++result_.nx_splits_seen;
            }
        }
    }

    void step() {
        const std::uint64_t op = rand(1000);
        Vm& vm = vms_[rand(vms_.size())];
        Mmu& mmu = *vm.mmu;
        if (op < 700) {
            last_op_ = "fault";
            do_fault(mmu);
        } else if (op < 760) {
            last_op_ = "zap range";
            const std::uint64_t start = rand(kGpaSpaceGfns);
            mmu.zap_gfn_range(start,
                              start + 1 + rand(std::uint64_t{1} << (rand(2) != 0 ? 10 : 19)));
        } else if (op < 770) {
            last_op_ = "zap all";
            mmu.zap_all();
            if (mmu.stats().pages_4k + mmu.stats().pages_2m + mmu.stats().pages_1g +
                    mmu.stats().nx_lpage_splits !=
                0)
                fail("zap_all left leaves or splits");
        } else if (op < 830) {
            slot_op(vm);
        } else if (op < 840) {
            last_op_ = "nx_huge_pages param";
            auto changed = params_.set_nx_huge_pages(kNxValues[rand(kNxValues.size())], true);
            if (changed && *changed) {
                for (auto& v : vms_) {
                    if (!v.mmu->set_nx_huge_pages(params_.nx_huge_pages()))
                        fail("policy change not applied");
                    if (v.mmu->stats().pages_4k + v.mmu->stats().pages_2m +
                            v.mmu->stats().pages_1g !=
                        0)
                        fail("policy change did not zap");
                }
            }
        } else if (op < 850) {
            last_op_ = "recovery params";
            (void)(rand(2) != 0
                       ? params_.set_recovery_ratio(kUintValues[rand(kUintValues.size())])
                       : params_.set_recovery_period_ms(kUintValues[rand(kUintValues.size())]));
        } else if (op < 865) {
            last_op_ = "capability";
            capability_op();
        } else if (op < 880) {
            last_op_ = "recreate vm";
            new_vm(vm);
        } else {
            last_op_ = "recovery";
            recovery_op(mmu);
        }
    }

    void slot_op(Vm& vm) {
        Mmu& mmu = *vm.mmu;
        const auto& slots = mmu.memslots().slots();
        const std::uint64_t what = rand(4);
        if (slots.empty() || what == 0) {
            last_op_ = "create slot";
            add_slot(vm);
            return;
        }
        const Memslot s = slots[rand(slots.size())];
        if (what == 1) {
            last_op_ = "delete slot";
            if (!mmu.delete_memslot(s.id)) fail("delete failed");
            check_range_empty(mmu, s.base_gfn, s.end_gfn());
        } else if (what == 2) {
            last_op_ = "move slot";
            const std::uint64_t nb = rand(kGpaSpaceGfns);
            if (mmu.move_memslot(s.id, nb)) check_range_empty(mmu, s.base_gfn, s.end_gfn());
        } else {
            last_op_ = "toggle dirty logging";
            if (!mmu.set_memslot_flags(s.id, s.flags ^ kMemLogDirtyPages))
                fail("flags change failed");
        }
    }

    void check_range_empty(const Mmu& mmu, std::uint64_t start, std::uint64_t end) {
        mmu.for_each_leaf([&](std::uint64_t gfn, Level level, std::uint64_t) {
            if (gfn < end && start < gfn + pages_per_spte(level))
                fail("leaf left in a deleted/moved slot's range");
        });
    }

    void capability_op() {
        // Enabling the capability on one VM must leave the other VM's tree untouched.
        const std::size_t v = rand(vms_.size());
        Mmu& other = *vms_[1 - v].mmu;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> before;
        other.for_each_leaf(
            [&](std::uint64_t gfn, Level, std::uint64_t spte) { before.emplace_back(gfn, spte); });
        const MmuStats other_stats = other.stats();
        vms_[v].mmu->disable_nx_huge_pages();
        if (vms_[v].mmu->nx_mitigation_active()) fail("capability left the mitigation active");
        std::vector<std::pair<std::uint64_t, std::uint64_t>> after;
        other.for_each_leaf(
            [&](std::uint64_t gfn, Level, std::uint64_t spte) { after.emplace_back(gfn, spte); });
        if (before != after || other.stats().pages_4k != other_stats.pages_4k ||
            other.stats().pages_2m != other_stats.pages_2m ||
            other.stats().nx_lpage_splits != other_stats.nx_lpage_splits)
            fail("capability on one VM changed another VM");
    }

    void recovery_op(Mmu& mmu) {
        const unsigned ratio =
            rand(4) == 0 ? params_.recovery_ratio() : static_cast<unsigned>(rand(5));
        const std::uint64_t before = mmu.stats().nx_lpage_splits;
        const std::size_t n = mmu.recover_nx_splits(ratio);
        result_.recovered += n;
        std::uint64_t expect = 0;
        if (mmu.nx_mitigation_active() && ratio != 0)
            expect = std::min<std::uint64_t>(before, (before + ratio - 1) / ratio);
        if (n != expect)
            fail("recovery handled " + std::to_string(n) + " splits, expected " +
                 std::to_string(expect));
        if (mmu.stats().nx_lpage_splits > before - n)
            fail("recovery did not reduce nx_lpage_splits");
    }

    std::mt19937_64 rng_;
    PatternHostLevel host_;
    NxParams params_;
    std::array<Vm, 2> vms_;
    PropertyResult result_;
    std::string last_op_;
};

}  // namespace

PropertyResult run_property(const PropertyConfig& config) {
    Driver d(config.seed);
    return d.run(config.steps);
}

}  // namespace kvmemu::mmu::testing
