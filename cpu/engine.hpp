// Engine: the software x86-64 vCPU. run() interprets guest code until an exit (IO, MMIO, HLT,
// SHUTDOWN, INTR, INTERNAL_ERROR); the daemon maps each exit onto kvm_run and KVM_RUN's result.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "cpu/cpuid.hpp"
#include "cpu/phys_bus.hpp"
#include "cpu/state.hpp"

namespace kvmemu::cpu {

// The guest TSC rate of a new vCPU (KVM: the host's TSC rate, the VM's default_tsc_khz).
inline constexpr uint32_t kDefaultTscKhz = 2'000'000;

enum class ExitReason : uint8_t {
    Io,             // KVM_EXIT_IO
    Mmio,           // KVM_EXIT_MMIO
    Hlt,            // KVM_EXIT_HLT
    Shutdown,       // KVM_EXIT_SHUTDOWN (triple fault)
    Intr,           // KVM_EXIT_INTR (kick / immediate_exit); KVM_RUN returns -EINTR
    InternalError,  // KVM_EXIT_INTERNAL_ERROR, see RunResult::reason
};

// Port I/O exit. OUT, IN and OUTS: one element (count 1); OUTS is restarted until RCX reaches 0.
// REP INS is batched as KVM's emulator batches it (pio_in_emulated()): count = min(RCX, bytes
// left in RDI's page, 1024 / size), at least 1.
// OUT: data holds the bytes written; the instruction has completed (RIP after it).
// IN / INS: the daemon writes `size * count` bytes into Engine::completion_data() and the next
// run() completes the instruction first (RIP then after it, or on it while a REP has elements
// left), even when that run() exits immediately. A REP INS whose RCX the VMM lowered meanwhile
// stores only RCX elements.
struct IoExit {
    uint16_t port = 0;
    uint8_t size = 0;  // 1, 2 or 4
    bool is_in = false;
    uint32_t count = 1;
    std::array<uint8_t, 8> data{};
};

// MMIO exit: a guest-physical access where PhysBus::page() found no memory.
// Write: the store has completed (RIP after the instruction). Read: the daemon writes `len` bytes
// into Engine::completion_data(); the next run() re-executes the instruction with that data.
struct MmioExit {
    uint64_t gpa = 0;
    uint8_t len = 0;  // 1..8 (wider SSE accesses are split into 8-byte pieces)
    bool is_write = false;
    std::array<uint8_t, 8> data{};
};

struct RunResult {
    ExitReason reason = ExitReason::Intr;
    IoExit io{};
    MmioExit mmio{};
    std::string error;         // InternalError: why; Shutdown: the fault that became a triple fault
    uint64_t instructions = 0;  // guest instructions retired in this run()
    // For kvm_run: IF and whether an interrupt could be injected right now.
    bool if_flag = false;
    bool ready_for_interrupt_injection = false;
};

struct RunControl {
    // Set (from any thread or a signal handler) to stop run() with ExitReason::Intr. Checked at
    // every block boundary and at least every kMaxBlockInsns instructions. run() does not clear it.
    const std::atomic<bool>* kick = nullptr;
    // kvm_run.immediate_exit: complete any pending IN/MMIO read, then return Intr at once.
    bool immediate_exit = false;
    // Upper bound on instructions retired by this run() (0 = none); reaching it returns Intr.
    uint64_t max_instructions = 0;
};

// Called once for each guest instruction the engine does not implement (it is #UD'd to the guest).
// Arguments: guest RIP, instruction bytes (up to 15), Zydis mnemonic text or "undecodable".
using UnsupportedHook = std::function<void(uint64_t rip, std::span<const uint8_t> bytes,
                                           const char* what)>;

struct EngineConfig {
    uint32_t tsc_khz = kDefaultTscKhz;  // guest TSC rate; RDTSC = host monotonic time scaled to this
};

class Engine {
public:
    explicit Engine(EngineConfig config = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;

    // Runs until an exit. Not reentrant; one Engine per vCPU, one thread at a time.
    RunResult run(CpuState& state, PhysBus& bus, const RunControl& control);

    // The bytes an IN or MMIO read exit asked for; write them before the next run().
    [[nodiscard]] std::span<uint8_t> completion_data() noexcept;

    // Forget all guest-virtual -> host translations and all decoded code. Call when memslots change,
    // when the daemon's MMU drops host mappings, when the client wrote guest memory holding code
    // (memory written by the client between runs is otherwise seen by data accesses only), and
    // after SET_SREGS / SET_MSRS (the engine cannot see those).
    void flush_tlb() noexcept;

    // KVM_SET_CPUID2. Decoding of POPCNT/LZCNT/TZCNT and MAXPHYADDR (CPUID 0x80000008) follow it;
    // drops decoded code.
    void set_cpuid(std::vector<CpuidEntry> entries);
    [[nodiscard]] const CpuidTable& cpuid() const noexcept;
    void set_unsupported_hook(UnsupportedHook hook);
    void set_tsc_khz(uint32_t khz) noexcept;
    [[nodiscard]] uint32_t tsc_khz() const noexcept;

    // MSR access for KVM_GET/SET_MSRS (same MSRs as rdmsr/wrmsr). False = MSR not in the model.
    bool get_msr(const CpuState& state, uint32_t index, uint64_t& value) const;
    bool set_msr(CpuState& state, uint32_t index, uint64_t value);
    // The MSR indices of the CPU model (KVM_GET_MSR_INDEX_LIST).
    static std::span<const uint32_t> msr_list() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace kvmemu::cpu
