// mmu_bench: Google Benchmark cases for the MMU library: 4K and 2M faults over 1 GiB, NX split
// of a 2M leaf, zap of 1 GiB mapped at 4K, memory per GiB mapped (counters), and a long
// property run (MMU_PROPERTY_STEPS, MMU_PROPERTY_SEED environment variables).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <string>

#include "mmu/host_mapping.hpp"
#include "mmu/mmu.hpp"
#include "tests/mmu/property_driver.hpp"

namespace {

using namespace kvmemu::mmu;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t k2MiB = std::uint64_t{2} << 20;
constexpr std::uint64_t kHva = std::uint64_t{0x7f00} << 32;
constexpr std::uint64_t kGpa = 4 * kGiB;

struct Vm {
    explicit Vm(Level level, bool nx = true) : host(level), mmu(host, nx) {
        if (!mmu.create_memslot(Memslot{0, kGpa >> 12, kGiB >> 12, kHva, 0})) std::abort();
    }
    FixedHostLevel host;
    Mmu mmu;
};

void map_all(Mmu& mmu, std::uint64_t step, Access access = Access::Read) {
    for (std::uint64_t off = 0; off < kGiB; off += step)
        benchmark::DoNotOptimize(mmu.fault(kGpa + off, access));
}

// >= 10 M faults/s target: every fault maps a new 4K page of a 1 GiB slot.
void BM_Fault4K(benchmark::State& state) {
    Vm vm(Level::k4K);
    for (auto _ : state) {
        map_all(vm.mmu, 4096, Access::Write);
        state.PauseTiming();
        vm.mmu.zap_all();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (kGiB / 4096)));
}
BENCHMARK(BM_Fault4K)->Unit(benchmark::kMillisecond);

void BM_Fault2M(benchmark::State& state) {
    Vm vm(Level::k2M);
    for (auto _ : state) {
        map_all(vm.mmu, k2MiB);
        state.PauseTiming();
        vm.mmu.zap_all();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (kGiB / k2MiB)));
}
BENCHMARK(BM_Fault2M)->Unit(benchmark::kMicrosecond);

// <= 2 us target: an exec fault on a mapped 2M leaf under the mitigation (allocate a table,
// build 512 children, link, track). Timed over the 512 regions of 1 GiB per iteration.
void BM_NxSplit2M(benchmark::State& state) {
    Vm vm(Level::k2M, true);
    for (auto _ : state) {
        state.PauseTiming();
        vm.mmu.zap_all();
        map_all(vm.mmu, k2MiB);
        state.ResumeTiming();
        map_all(vm.mmu, k2MiB, Access::Exec);
    }
    if (vm.mmu.stats().nx_lpage_splits != kGiB / k2MiB) state.SkipWithError("splits not tracked");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (kGiB / k2MiB)));
}
BENCHMARK(BM_NxSplit2M)->Unit(benchmark::kMicrosecond);

void BM_Zap1GiB4K(benchmark::State& state) {
    Vm vm(Level::k4K);
    for (auto _ : state) {
        state.PauseTiming();
        map_all(vm.mmu, 4096);
        state.ResumeTiming();
        vm.mmu.zap_all();
    }
}
BENCHMARK(BM_Zap1GiB4K)->Unit(benchmark::kMicrosecond);

std::size_t heap_in_use() {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

// Memory held per GiB mapped, as counters: the MMU's own accounting and the heap growth glibc
// reports (mallinfo2) while mapping 1 GiB into a fresh VM.
void memory_case(benchmark::State& state, Level level, std::uint64_t step) {
    double own = 0;
    double heap = 0;
    for (auto _ : state) {
        const std::size_t before = heap_in_use();
        auto vm = std::make_unique<Vm>(level);
        map_all(vm->mmu, step);
        heap = static_cast<double>(heap_in_use() - before);
        own = static_cast<double>(vm->mmu.memory_bytes());
    }
    state.counters["MiB_per_GiB"] = own / (1 << 20);
    state.counters["heap_MiB_per_GiB"] = heap / (1 << 20);
}
void BM_MemoryPerGiB4K(benchmark::State& state) {
    memory_case(state, Level::k4K, 4096);
}
void BM_MemoryPerGiB2M(benchmark::State& state) {
    memory_case(state, Level::k2M, k2MiB);
}
BENCHMARK(BM_MemoryPerGiB4K)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_MemoryPerGiB2M)->Unit(benchmark::kMicrosecond)->Iterations(3);

std::uint64_t env_u64(const char* name, std::uint64_t dflt) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::strtoull(v, nullptr, 0) : dflt;
}

// The property test's driver, much longer than in CI.
void BM_PropertyLong(benchmark::State& state) {
    const std::uint64_t steps = env_u64("MMU_PROPERTY_STEPS", 200000);
    const std::uint64_t seed = env_u64("MMU_PROPERTY_SEED", 20261125);
    kvmemu::mmu::testing::PropertyResult r;
    for (auto _ : state) r = kvmemu::mmu::testing::run_property({seed, steps});
    if (!r.ok()) state.SkipWithError(r.error.c_str());
    state.counters["steps"] = static_cast<double>(r.steps_done);
    state.counters["faults"] = static_cast<double>(r.faults);
    state.counters["nx_splits_seen"] = static_cast<double>(r.nx_splits_seen);
    state.counters["recovered"] = static_cast<double>(r.recovered);
}
BENCHMARK(BM_PropertyLong)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
