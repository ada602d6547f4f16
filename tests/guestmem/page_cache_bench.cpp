// page_cache_bench (Google Benchmark, run by hand, not a test): what guest memory access through
// the client costs -- one page read/pidfd check, a PageCache run (invalidate, touch, dirty,
// flush) by pages touched, cache hits, and DetectingHostLevel hit and cold lookups.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "guestmem/detecting_host_level.hpp"
#include "guestmem/page_cache.hpp"
#include "guestmem/process_memory.hpp"
#include "tests/guestmem/test_child.hpp"

namespace kvmemu::guestmem {
namespace {

using test::MapKind;
using test::TestChild;

constexpr std::size_t kPage = 4096;
constexpr std::size_t kPages = 4096;  // 16 MiB of client memory

// One client child for the whole run, with 16 MiB of small pages (populated).
struct Client {
    TestChild child;
    std::uint64_t base = 0;
    std::unique_ptr<ProcessMemory> memory;

    Client() {
        base = child.map(MapKind::Small, kPages * kPage);
        auto p = ClientProcess::open(child.pid());
        if (base == 0 || !p) std::abort();
        memory = std::make_unique<ProcessMemory>(std::move(*p));
    }
};

Client& client() {
    static Client c;
    return c;
}

void BM_PidfdExitedCheck(benchmark::State& state) {
    const ClientProcess& p = client().memory->process();
    for (auto _ : state) benchmark::DoNotOptimize(p.exited());
}
BENCHMARK(BM_PidfdExitedCheck);

// ProcessMemory::read of one page: process_vm_readv + the pidfd check.
void BM_ReadOnePage(benchmark::State& state) {
    Client& c = client();
    std::vector<std::byte> buf(kPage);
    std::size_t i = 0;
    for (auto _ : state) {
        if (c.memory->read(c.base + (i++ % kPages) * kPage, buf) != 0) state.SkipWithError("read");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPage));
}
BENCHMARK(BM_ReadOnePage);

// One KVM_RUN's memory traffic: invalidate, first touch of N pages (spread over the 16 MiB),
// a write to every 4th of them, flush (changed bytes, or whole pages). Counters per run.
void BM_PageCacheRun(benchmark::State& state) {
    Client& c = client();
    PageCache cache(*c.memory, state.range(2) != 0 ? WriteBack::WholePages : WriteBack::ChangedBytes);
    const auto n = static_cast<std::size_t>(state.range(0));
    const bool prefetch = state.range(1) != 0;
    const std::size_t stride = prefetch ? 1 : 7;  // prefetch: one contiguous range
    std::uint64_t run = 0;
    for (auto _ : state) {
        cache.invalidate();
        const std::uint64_t first = (run++ * 131) % (kPages - n * stride);
        if (prefetch && cache.prefetch(c.base + first * kPage, n * kPage) != 0)
            state.SkipWithError("prefetch");
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t hva = c.base + (first + i * stride) * kPage;
            std::uint8_t* p = cache.page(hva, i % 4 == 0);
            if (p == nullptr) state.SkipWithError("page");
            if (i % 4 == 0) p[8] = static_cast<std::uint8_t>(p[8] + 1);
            benchmark::DoNotOptimize(p[0]);
        }
        if (cache.flush() != 0) state.SkipWithError("flush");
    }
    const auto runs = static_cast<double>(state.iterations());
    state.counters["pages"] = static_cast<double>(n);
    state.counters["dirty"] = static_cast<double>((n + 3) / 4);
    state.counters["read_calls/run"] = static_cast<double>(cache.stats().read_calls) / runs;
    state.counters["write_calls/run"] = static_cast<double>(cache.stats().write_calls) / runs;
    state.counters["ns/page"] = benchmark::Counter(
        runs * static_cast<double>(n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PageCacheRun)
    ->ArgsProduct({{1, 4, 16, 64, 256}, {0}, {0}})
    ->ArgsProduct({{16, 256}, {1}, {0}})
    ->ArgsProduct({{64, 256}, {0}, {1}})
    ->ArgNames({"pages", "prefetch", "whole"});

// page() on pages already cached: the same page (lookaside) and round-robin over 64 (hash).
void BM_PageCacheHit(benchmark::State& state) {
    Client& c = client();
    PageCache cache(*c.memory);
    const auto n = static_cast<std::uint64_t>(state.range(0));
    for (std::uint64_t i = 0; i < n; ++i)
        if (cache.page(c.base + i * kPage, false) == nullptr) state.SkipWithError("page");
    std::uint64_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(cache.page(c.base + (i++ % n) * kPage, false));
}
BENCHMARK(BM_PageCacheHit)->Arg(1)->Arg(64);

// Host level answered from the per-2M cache.
void BM_HostLevelCachedHit(benchmark::State& state) {
    Client& c = client();
    DetectingHostLevel d(c.memory->process().dup());
    std::uint64_t i = 0;
    for (std::uint64_t r = 0; r < 8; ++r) (void)d.host_level(c.base + r * (kPage * 512));
    for (auto _ : state)
        benchmark::DoNotOptimize(d.host_level(c.base + ((i++ % 8) * 512 + 3) * kPage));
}
BENCHMARK(BM_HostLevelCachedHit);

// Host level after invalidate(): smaps re-read and parsed, one pagemap probe.
void BM_HostLevelCold(benchmark::State& state) {
    Client& c = client();
    DetectingHostLevel d(c.memory->process().dup());
    for (auto _ : state) {
        d.invalidate();
        benchmark::DoNotOptimize(d.host_level(c.base + 600 * kPage));
    }
    state.counters["errors"] = static_cast<double>(d.stats().errors);
}
BENCHMARK(BM_HostLevelCold);

}  // namespace
}  // namespace kvmemu::guestmem

BENCHMARK_MAIN();
