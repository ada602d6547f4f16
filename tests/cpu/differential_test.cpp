// Instruction-level differential test: random sequences of user-level integer instructions run
// natively on the host CPU and in the interpreter from the same register state; GPRs, defined
// flags and the scratch memory (mapped at the same address in both) must match.
//
// Flags compared: those the last flag-writing instructions define (see Templ::defined). Flags an
// instruction leaves undefined are excluded, because hardware vendors legitimately differ.
// Instructions left out on purpose (results differ legitimately or cannot run at user level
// natively): RDTSC/RDTSCP/RDRAND/CPUID (host-dependent values), PUSH/POP/CALL/RET and anything
// using RSP (the native stack is not the guest's), privileged and I/O instructions, DIV/IDIV
// with random operands (#DE; they appear with operands that cannot fault), SSE (kept out of
// differential runs as the issue asks), x87.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "common/mapping.hpp"
#include "cpu/engine.hpp"
#include "tests/cpu/guest.hpp"

namespace kvmemu::cpu::test {
namespace {

struct Regs {
    uint64_t gpr[16];
    uint64_t rflags;
};

constexpr uint64_t CF = 1, PF = 4, AF = 16, ZF = 64, SF = 128, OF = 2048;
constexpr uint64_t ALL = CF | PF | AF | ZF | SF | OF;
constexpr uint64_t LOGIC = ALL & ~AF;
constexpr unsigned kScratch = 8192;

const char* const kNames64[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
const char* const kNames32[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
const char* const kNames16[] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                                "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
const char* const kNames8[] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                               "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
const char* const kCc[] = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"};

// Registers the random code may use: everything but RBX (scratch base) and RSP.
const unsigned kPool[] = {0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

class Gen {
public:
    explicit Gen(uint64_t seed) : rng_(seed) {}

    // Appends one instruction (or a short fixed idiom); returns the flags it defines and the mask
    // of flags it writes (undefined ones = written & ~defined).
    void emit(std::ostringstream& o, uint64_t& valid) {
        const unsigned sizes[] = {1, 2, 4, 8};
        const unsigned sz = sizes[pick(4)];
        const std::string r = reg(sz), r2 = reg(sz), m = mem(sz), i = imm(sz);
        // Instructions that read flags only run when every flag is defined (an undefined flag
        // feeding a result would make a legitimate difference): define them first if needed.
        auto need_flags = [&] {
            if (valid != ALL) {
                o << "add " << reg(8) << ", " << reg(8) << "\n";
                valid = ALL;
            }
        };
        static const char* const alu[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
        switch (pick(24)) {
            case 0: case 1: case 2: {
                const unsigned k = pick(8);
                if (k == 2 || k == 3) need_flags();
                const std::string op = alu[k];
                const uint64_t def = (k == 1 || k == 4 || k == 6) ? LOGIC : ALL;
                switch (pick(5)) {
                    case 0: o << op << " " << r << ", " << r2; break;
                    case 1: o << op << " " << r << ", " << m; break;
                    case 2: o << (k != 7 && pick(2) != 0 ? "lock " : "") << op << " " << m << ", " << r; break;
                    case 3: o << op << " " << r << ", " << i; break;
                    default: o << (k != 7 && pick(2) != 0 ? "lock " : "") << op << " " << m << ", " << i; break;
                }
                flags(valid, def);
                break;
            }
            case 3:
                o << "test " << (pick(2) != 0 ? r : m) << ", " << (pick(2) != 0 ? r2 : i);
                flags(valid, LOGIC);
                break;
            case 4: {
                static const char* const un[] = {"inc", "dec", "not", "neg"};
                const unsigned k = pick(4);
                if (pick(2) != 0) o << un[k] << " " << r;
                else o << (pick(2) != 0 ? "lock " : "") << un[k] << " " << m;
                if (k == 3) flags(valid, ALL);
                if (k < 2) flags(valid, ALL & ~CF, ALL & ~CF);  // INC/DEC keep CF
                break;
            }
            case 5: {
                static const char* const sh[] = {"shl", "shr", "sar", "rol", "ror", "rcl", "rcr"};
                const unsigned k = pick(7);
                if (k >= 5) need_flags();
                const unsigned count = 1 + pick(sz * 8 - 1);
                o << sh[k] << " " << (pick(2) != 0 ? r : m) << ", " << count;
                uint64_t def = k < 3 ? (CF | SF | ZF | PF) : CF;
                if (count == 1) def |= OF;
                flags(valid, def, k < 3 ? ALL : (CF | OF));
                break;
            }
            case 6: {
                if (sz == 1) break;
                const unsigned count = 1 + pick(sz * 8 - 1);
                o << (pick(2) != 0 ? "shld " : "shrd ") << (pick(2) != 0 ? r : m) << ", " << r2 << ", " << count;
                flags(valid, (CF | SF | ZF | PF) | (count == 1 ? OF : 0));
                break;
            }
            case 7: {
                if (sz == 1) {
                    o << (pick(2) != 0 ? "mul " : "imul ") << r;
                } else {
                    switch (pick(4)) {
                        case 0: o << "imul " << r << ", " << r2; break;
                        case 1: o << "imul " << r << ", " << m; break;
                        case 2: o << "imul " << r << ", " << r2 << ", " << imm(sz == 8 ? 4 : sz); break;
                        default: o << (pick(2) != 0 ? "mul " : "imul ") << (pick(2) != 0 ? r : m); break;
                    }
                }
                flags(valid, CF | OF);
                break;
            }
            case 8: {
                // Division that cannot fault: small positive divisor, zero / sign-extended high half.
                const char* const d = sz == 1 ? "cl" : sz == 2 ? "cx" : sz == 4 ? "ecx" : "rcx";
                o << "mov ecx, " << (1 + pick(100)) << "\n";
                if (pick(2) != 0) {
                    o << (sz == 1 ? "movzx eax, al" : "xor edx, edx") << "\ndiv " << d;
                } else {
                    o << (sz == 1 ? "cbw" : sz == 2 ? "cwd" : sz == 4 ? "cdq" : "cqo") << "\nidiv " << d;
                }
                flags(valid, 0);
                break;
            }
            case 9: case 10:
                switch (pick(5)) {
                    case 0: o << "mov " << r << ", " << r2; break;
                    case 1: o << "mov " << r << ", " << m; break;
                    case 2: o << "mov " << m << ", " << r; break;
                    case 3: o << "mov " << r << ", " << (sz == 8 ? imm64() : i); break;
                    default: o << "mov " << m << ", " << i; break;
                }
                break;
            case 11: {
                const unsigned dst = sizes[2 + pick(2)];
                const unsigned src = sizes[pick(2)];
                const bool memsrc = pick(2) != 0;
                o << (pick(2) != 0 ? "movzx " : "movsx ") << reg(dst) << ", " << (memsrc ? mem(src) : reg(src));
                if (pick(4) == 0) o << "\nmovsxd " << reg(8) << ", " << (memsrc ? mem(4) : reg(4));
                break;
            }
            case 12:
                o << "lea " << reg(sz == 1 ? 4 : sz) << ", [" << reg(8) << " + " << reg(8) << "*"
                  << (1u << pick(4)) << " + " << static_cast<int>(pick(2000)) - 1000 << "]";
                break;
            case 13:
                switch (pick(5)) {
                    case 0: o << "xchg " << r << ", " << r2; break;
                    case 1: o << "xchg " << m << ", " << r; break;
                    case 2: o << "lock xadd " << m << ", " << r2; flags(valid, ALL); break;
                    case 3: o << "xadd " << r << ", " << r2; flags(valid, ALL); break;
                    default:
                        o << (pick(2) != 0 ? "cmpxchg " + r : "lock cmpxchg " + m) << ", " << r2;
                        flags(valid, ALL);
                        break;
                }
                break;
            case 14: {
                if (sz == 1) break;
                static const char* const bt[] = {"bt", "bts", "btr", "btc"};
                // Memory forms only with an immediate bit: a register bit offset reaches far.
                if (pick(2) != 0) o << bt[pick(4)] << " " << (pick(2) != 0 ? r : m) << ", " << pick(sz * 8);
                else o << bt[pick(4)] << " " << r << ", " << r2;
                flags(valid, CF, ALL);
                break;
            }
            case 15: {
                if (sz == 1) break;
                switch (pick(5)) {
                    case 0: o << "bsf " << r << ", " << r2; flags(valid, ZF, ALL); break;
                    case 1: o << "bsr " << r << ", " << r2; flags(valid, ZF, ALL); break;
                    case 2: o << "popcnt " << r << ", " << r2; flags(valid, ALL); break;
                    case 3: o << "lzcnt " << r << ", " << r2; flags(valid, CF | ZF, ALL); break;
                    default: o << "tzcnt " << r << ", " << r2; flags(valid, CF | ZF, ALL); break;
                }
                break;
            }
            case 16:
                o << "bswap " << reg(sz <= 4 ? 4 : 8);
                break;
            case 17:
                need_flags();
                o << "set" << kCc[pick(16)] << " " << (pick(2) != 0 ? reg(1) : mem(1));
                break;
            case 18:
                need_flags();
                o << "cmov" << kCc[pick(16)] << " " << reg(sz == 1 ? 4 : sz) << ", "
                  << (pick(2) != 0 ? reg(sz == 1 ? 4 : sz) : mem(sz == 1 ? 4 : sz));
                break;
            case 19: {
                static const char* const ext[] = {"cbw", "cwde", "cdqe", "cwd", "cdq", "cqo", "clc", "stc", "cmc"};
                const unsigned k = pick(9);
                if (k == 8) need_flags();
                o << ext[k];
                break;
            }
            case 20: {
                // Forward conditional jump over one instruction.
                need_flags();
                o << "j" << kCc[pick(16)] << " 1f\n";
                o << "add " << reg(8) << ", " << imm(4) << "\n1:";
                flags(valid, ALL);
                break;
            }
            case 21: {
                static const char* const str[] = {"movsb", "movsw", "movsd", "movsq", "stosb", "stosw", "stosd", "stosq",
                                                  "lodsb", "lodsq"};
                o << "lea rdi, [rbx + " << pick(2048) << "]\nlea rsi, [rbx + " << 4096 + pick(2048)
                  << "]\nmov ecx, " << pick(200) << "\n";
                const unsigned k = pick(10);
                o << (k < 8 && pick(2) != 0 ? "rep " : "") << str[k];
                break;
            }
            case 22: {
                static const char* const str[] = {"cmpsb", "cmpsq", "scasb", "scasd"};
                o << "lea rdi, [rbx + " << pick(2048) << "]\nlea rsi, [rbx + " << 4096 + pick(2048)
                  << "]\nmov ecx, " << pick(64) << "\n";
                o << (pick(2) != 0 ? "repe " : "repne ") << str[pick(4)];
                flags(valid, ALL);  // with RCX=0 flags are unchanged, which is also equal
                break;
            }
            default:
                need_flags();
                o << "lahf\nsahf";
                break;
        }
        o << "\n";
    }

    Regs random_regs(uint64_t scratch) {
        Regs r{};
        for (unsigned k = 0; k < 16; ++k) {
            switch (pick(4)) {
                case 0: r.gpr[k] = pick(256); break;
                case 1: r.gpr[k] = rng_(); break;
                case 2: r.gpr[k] = static_cast<uint64_t>(-static_cast<int64_t>(pick(4))); break;
                default: r.gpr[k] = rng_() & 0xffffffffu; break;
            }
        }
        r.gpr[RBX] = scratch;
        r.gpr[RSP] = 0;
        r.rflags = 0x202 | (rng_() & ALL);
        return r;
    }

    unsigned pick(unsigned n) { return static_cast<unsigned>(rng_() % n); }

private:
    void flags(uint64_t& valid, uint64_t defined, uint64_t written = ALL) {
        valid = (valid & ~written) | defined;
    }
    std::string reg(unsigned sz) {
        const unsigned r = kPool[pick(sizeof kPool / sizeof kPool[0])];
        switch (sz) {
            case 1: return kNames8[r];
            case 2: return kNames16[r];
            case 4: return kNames32[r];
            default: return kNames64[r];
        }
    }
    std::string mem(unsigned sz) {
        const char* const p = sz == 1 ? "byte" : sz == 2 ? "word" : sz == 4 ? "dword" : "qword";
        return std::string(p) + " ptr [rbx + " + std::to_string(pick(kScratch - 8)) + "]";
    }
    std::string imm(unsigned sz) {
        int64_t v;
        switch (sz) {
            case 1: v = static_cast<int8_t>(rng_()); break;
            case 2: v = static_cast<int16_t>(rng_()); break;
            default: v = static_cast<int32_t>(rng_()); break;
        }
        if (pick(3) == 0) v = static_cast<int64_t>(pick(5)) - 2;
        return std::to_string(v);
    }
    std::string imm64() { return std::to_string(static_cast<int64_t>(rng_())); }
    std::mt19937_64 rng_;
};

// Native harness around the body: load Regs (pointer in RDI), run, store Regs.
std::string native_source(const std::string& body) {
    std::ostringstream o;
    o << "push rbx\npush rbp\npush r12\npush r13\npush r14\npush r15\npush rdi\n"
         "push qword ptr [rdi + 128]\npopfq\n";
    for (unsigned k = 0; k < 16; ++k)
        if (k != RSP && k != RDI) o << "mov " << kNames64[k] << ", [rdi + " << k * 8 << "]\n";
    o << "mov rdi, [rdi + 56]\n";
    o << body;
    o << "pushfq\npush rax\nmov rax, [rsp + 16]\n";
    for (unsigned k = 1; k < 16; ++k)
        if (k != RSP) o << "mov [rax + " << k * 8 << "], " << kNames64[k] << "\n";
    o << "pop rcx\nmov [rax], rcx\npop rcx\nmov [rax + 128], rcx\npop rcx\n"
         "pop r15\npop r14\npop r13\npop r12\npop rbp\npop rbx\nret\n";
    return o.str();
}

// Guest-physical == host-virtual for the registered host pages (identity "bus").
class HostBus : public PhysBus {
public:
    PhysPage page(uint64_t gpa, Access) override {
        for (const auto& m : regions_) {
            const auto base = reinterpret_cast<uint64_t>(m->data());
            if (gpa >= base && gpa < base + m->size()) return {reinterpret_cast<uint8_t*>(gpa & ~0xfffULL)};
        }
        return {};
    }
    uint8_t* add(std::size_t len) {
        regions_.push_back(std::make_unique<Mapping>(
            Mapping::map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)));
        return static_cast<uint8_t*>(regions_.back()->data());
    }

private:
    std::vector<std::unique_ptr<Mapping>> regions_;
};

// Identity 4-level page tables over chosen host pages, built in host memory.
class IdentityTables {
public:
    explicit IdentityTables(HostBus& bus) : pool_(bus.add(64 * 4096)) { pml4_ = alloc(); }
    void map(uint64_t va, uint64_t len) {
        for (uint64_t p = va & ~0xfffULL; p < va + len; p += 4096) {
            uint64_t* t = pml4_;
            for (int level = 4; level > 1; --level) {
                uint64_t& e = t[(p >> (12 + 9 * (level - 1))) & 0x1ff];
                if ((e & 1) == 0) e = reinterpret_cast<uint64_t>(alloc()) | 3;
                t = reinterpret_cast<uint64_t*>(e & 0x000ffffffffff000ULL);
            }
            t[(p >> 12) & 0x1ff] = p | 3;
        }
    }
    [[nodiscard]] uint64_t cr3() const { return reinterpret_cast<uint64_t>(pml4_); }

private:
    uint64_t* alloc() {
        auto* p = reinterpret_cast<uint64_t*>(pool_ + used_ * 4096);
        ++used_;
        if (used_ > 64) throw std::runtime_error("page table pool exhausted");
        return p;
    }
    uint8_t* pool_;
    unsigned used_ = 0;
    uint64_t* pml4_;
};

TEST(Differential, RandomSequencesMatchNative) {
    const char* env = std::getenv("KVMEMU_DIFF_CASES");
    const unsigned cases = env != nullptr ? static_cast<unsigned>(std::atoi(env)) : 150;
    constexpr unsigned kInsnsPerCase = 24;
    Gen gen(0x6b766d656d75ULL);

    HostBus bus;
    uint8_t* scratch = bus.add(kScratch);
    uint8_t* gcode = bus.add(65536);
    IdentityTables tables(bus);
    tables.map(reinterpret_cast<uint64_t>(scratch), kScratch);
    tables.map(reinterpret_cast<uint64_t>(gcode), 65536);
    Mapping ncode = Mapping::map(65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    ASSERT_TRUE(ncode.valid());

    Engine engine;
    engine.set_cpuid({{0, 0, 0, 7, 0, 0, 0},
                      {1, 0, 0, 0, 0, 1u << 23, 0},
                      {7, 0, 1, 0, 1u << 3, 0, 0},
                      {0x80000000, 0, 0, 0x80000008, 0, 0, 0},
                      {0x80000001, 0, 0, 0, 0, 1u << 5, 0},
                      {0x80000008, 0, 0, 0x34, 0, 0, 0}});
    std::string unsupported;
    engine.set_unsupported_hook([&](uint64_t, std::span<const uint8_t>, const char* w) { unsupported = w; });

    std::vector<uint8_t> init(kScratch), native_mem(kScratch);
    for (unsigned n = 0; n < cases; ++n) {
        std::ostringstream body;
        uint64_t valid = ALL;
        for (unsigned k = 0; k < kInsnsPerCase; ++k) gen.emit(body, valid);
        for (auto& b : init) b = static_cast<uint8_t>(gen.pick(256));
        const Regs start = gen.random_regs(reinterpret_cast<uint64_t>(scratch));

        // Native.
        const std::vector<uint8_t> nbin = assemble(native_source(body.str()), 0);
        std::memcpy(ncode.data(), nbin.data(), nbin.size());
        __builtin___clear_cache(static_cast<char*>(ncode.data()), static_cast<char*>(ncode.data()) + nbin.size());
        std::memcpy(scratch, init.data(), kScratch);
        Regs native = start;
        reinterpret_cast<void (*)(Regs*)>(ncode.data())(&native);
        std::memcpy(native_mem.data(), scratch, kScratch);

        // Interpreter.
        const std::vector<uint8_t> gbin = assemble(body.str() + "hlt\n", 0);
        std::memcpy(gcode, gbin.data(), gbin.size());
        std::memcpy(scratch, init.data(), kScratch);
        CpuState st;
        for (unsigned k = 0; k < 16; ++k) st.gpr[k] = start.gpr[k];
        st.rflags = start.rflags;
        st.rip = reinterpret_cast<uint64_t>(gcode);
        st.cr0 = 0x80050033;
        st.cr4 = 0x20;
        st.cr3 = tables.cr3();
        st.efer = 0x500;
        st.seg[CS].l = 1;
        st.idt = {0, 0};
        engine.flush_tlb();
        const RunResult r = engine.run(st, bus, RunControl{});
        ASSERT_EQ(r.reason, ExitReason::Hlt) << "case " << n << " unsupported=" << unsupported << "\n" << body.str();

        bool same = true;
        std::ostringstream diff;
        for (unsigned k = 0; k < 16; ++k) {
            if (k == RSP) continue;
            if (st.gpr[k] != native.gpr[k]) {
                same = false;
                diff << kNames64[k] << ": interp " << std::hex << st.gpr[k] << " native " << native.gpr[k] << std::dec
                     << "\n";
            }
        }
        if ((st.rflags & valid) != (native.rflags & valid)) {
            same = false;
            diff << "rflags (mask " << std::hex << valid << "): interp " << st.rflags << " native " << native.rflags
                 << std::dec << "\n";
        }
        if (std::memcmp(scratch, native_mem.data(), kScratch) != 0) {
            same = false;
            for (unsigned k = 0; k < kScratch; ++k)
                if (scratch[k] != native_mem[k]) {
                    diff << "memory differs first at +" << k << "\n";
                    break;
                }
        }
        ASSERT_TRUE(same) << "case " << n << "\n" << diff.str() << body.str();
    }
}

}  // namespace
}  // namespace kvmemu::cpu::test
