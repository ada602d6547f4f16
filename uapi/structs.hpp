// KVM ABI structures (x86-64) as the project serves them; layouts checked against <linux/kvm.h>
// by tests/uapi. Names follow the kernel's, inside namespace kvmemu::uapi.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvmemu::uapi {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using s16 = std::int16_t;

struct kvm_regs {
    u64 rax, rbx, rcx, rdx;
    u64 rsi, rdi, rsp, rbp;
    u64 r8, r9, r10, r11;
    u64 r12, r13, r14, r15;
    u64 rip, rflags;
};
static_assert(sizeof(kvm_regs) == 144);

struct kvm_segment {
    u64 base;
    u32 limit;
    u16 selector;
    u8 type;
    u8 present, dpl, db, s, l, g, avl;
    u8 unusable;
    u8 padding;
};
static_assert(sizeof(kvm_segment) == 24);

struct kvm_dtable {
    u64 base;
    u16 limit;
    u16 padding[3];
};
static_assert(sizeof(kvm_dtable) == 16);

inline constexpr unsigned NR_INTERRUPTS = 256;

struct kvm_sregs {
    kvm_segment cs, ds, es, fs, gs, ss;
    kvm_segment tr, ldt;
    kvm_dtable gdt, idt;
    u64 cr0, cr2, cr3, cr4, cr8;
    u64 efer;
    u64 apic_base;
    u64 interrupt_bitmap[(NR_INTERRUPTS + 63) / 64];
};
static_assert(sizeof(kvm_sregs) == 312);
static_assert(offsetof(kvm_sregs, cr0) == 224);

struct kvm_fpu {
    u8 fpr[8][16];
    u16 fcw;
    u16 fsw;
    u8 ftwx;
    u8 pad1;
    u16 last_opcode;
    u64 last_ip;
    u64 last_dp;
    u8 xmm[16][16];
    u32 mxcsr;
    u32 pad2;
};
static_assert(sizeof(kvm_fpu) == 416);

struct kvm_msr_entry {
    u32 index;
    u32 reserved;
    u64 data;
};
static_assert(sizeof(kvm_msr_entry) == 16);

// Header of a variable-length array; entries follow it in the caller's memory.
struct kvm_msrs {
    u32 nmsrs;
    u32 pad;
};
static_assert(sizeof(kvm_msrs) == 8);

struct kvm_msr_list {
    u32 nmsrs;
};
static_assert(sizeof(kvm_msr_list) == 4);

inline constexpr u32 CPUID_FLAG_SIGNIFCANT_INDEX = 1U << 0;

struct kvm_cpuid_entry2 {
    u32 function;
    u32 index;
    u32 flags;
    u32 eax, ebx, ecx, edx;
    u32 padding[3];
};
static_assert(sizeof(kvm_cpuid_entry2) == 40);

struct kvm_cpuid2 {
    u32 nent;
    u32 padding;
};
static_assert(sizeof(kvm_cpuid2) == 8);

// Hard limit on the entries of a CPUID array, as the kernel's KVM_MAX_CPUID_ENTRIES.
inline constexpr u32 MAX_CPUID_ENTRIES = 256;

struct kvm_userspace_memory_region {
    u32 slot;
    u32 flags;
    u64 guest_phys_addr;
    u64 memory_size;
    u64 userspace_addr;
};
static_assert(sizeof(kvm_userspace_memory_region) == 32);

struct kvm_userspace_memory_region2 {
    u32 slot;
    u32 flags;
    u64 guest_phys_addr;
    u64 memory_size;
    u64 userspace_addr;
    u64 guest_memfd_offset;
    u32 guest_memfd;
    u32 pad1;
    u64 pad2[14];
};
static_assert(sizeof(kvm_userspace_memory_region2) == 160);

inline constexpr u32 MEM_LOG_DIRTY_PAGES = 1U << 0;
inline constexpr u32 MEM_READONLY = 1U << 1;
inline constexpr u32 MEM_GUEST_MEMFD = 1U << 2;

struct kvm_enable_cap {
    u32 cap;
    u32 flags;
    u64 args[4];
    u8 pad[64];
};
static_assert(sizeof(kvm_enable_cap) == 104);

struct kvm_mp_state {
    u32 mp_state;
};
inline constexpr u32 MP_STATE_RUNNABLE = 0;
inline constexpr u32 MP_STATE_UNINITIALIZED = 1;
inline constexpr u32 MP_STATE_INIT_RECEIVED = 2;
inline constexpr u32 MP_STATE_HALTED = 3;
inline constexpr u32 MP_STATE_SIPI_RECEIVED = 4;
inline constexpr u32 MP_STATE_AP_RESET_HOLD = 9;

// KVM_GET_LAPIC / KVM_SET_LAPIC: the local APIC's register page (xAPIC layout).
inline constexpr std::size_t APIC_REG_SIZE = 0x400;
struct kvm_lapic_state {
    char regs[APIC_REG_SIZE];
};
static_assert(sizeof(kvm_lapic_state) == 1024);

// KVM_GET/SET_VCPU_EVENTS: events pending or being delivered, and interrupt/NMI state.
struct kvm_vcpu_events {
    struct {
        u8 injected;
        u8 nr;
        u8 has_error_code;
        u8 pending;
        u32 error_code;
    } exception;
    struct {
        u8 injected;
        u8 nr;
        u8 soft;
        u8 shadow;
    } interrupt;
    struct {
        u8 injected;
        u8 pending;
        u8 masked;
        u8 pad;
    } nmi;
    u32 sipi_vector;
    u32 flags;
    struct {
        u8 smm;
        u8 pending;
        u8 smm_inside_nmi;
        u8 latched_init;
    } smi;
    struct {
        u8 pending;
    } triple_fault;
    u8 reserved[26];
    u8 exception_has_payload;
    u64 exception_payload;
};
static_assert(sizeof(kvm_vcpu_events) == 64);
static_assert(offsetof(kvm_vcpu_events, flags) == 20);
static_assert(offsetof(kvm_vcpu_events, exception_payload) == 56);
inline constexpr u32 VCPUEVENT_VALID_NMI_PENDING = 0x1;
inline constexpr u32 VCPUEVENT_VALID_SIPI_VECTOR = 0x2;
inline constexpr u32 VCPUEVENT_VALID_SHADOW = 0x4;
inline constexpr u32 VCPUEVENT_VALID_SMM = 0x8;
inline constexpr u32 VCPUEVENT_VALID_PAYLOAD = 0x10;
inline constexpr u32 VCPUEVENT_VALID_TRIPLE_FAULT = 0x20;

// KVM_GET/SET_DEBUGREGS.
struct kvm_debugregs {
    u64 db[4];
    u64 dr6;
    u64 dr7;
    u64 flags;
    u64 reserved[9];
};
static_assert(sizeof(kvm_debugregs) == 128);

struct kvm_interrupt {
    u32 irq;
};

struct kvm_xsave {
    u32 region[1024];
};
static_assert(sizeof(kvm_xsave) == 4096);

struct kvm_xcr {
    u32 xcr;
    u32 reserved;
    u64 value;
};
inline constexpr unsigned MAX_XCRS = 16;
struct kvm_xcrs {
    u32 nr_xcrs;
    u32 flags;
    kvm_xcr xcrs[MAX_XCRS];
    u64 padding[16];
};
static_assert(sizeof(kvm_xcrs) == 392);

struct kvm_pre_fault_memory {
    u64 gpa;
    u64 size;
    u64 flags;
    u64 padding[5];
};
static_assert(sizeof(kvm_pre_fault_memory) == 64);

// Binary statistics (KVM_GET_STATS_FD).
struct kvm_stats_header {
    u32 flags;
    u32 name_size;
    u32 num_desc;
    u32 id_offset;
    u32 desc_offset;
    u32 data_offset;
};
static_assert(sizeof(kvm_stats_header) == 24);

struct kvm_stats_desc {
    u32 flags;
    s16 exponent;
    u16 size;
    u32 offset;
    u32 bucket_size;
    // char name[name_size] follows.
};
static_assert(sizeof(kvm_stats_desc) == 16);

inline constexpr u32 STATS_NAME_SIZE = 48;
inline constexpr u32 STATS_TYPE_CUMULATIVE = 0x0 << 0;
inline constexpr u32 STATS_TYPE_INSTANT = 0x1 << 0;
inline constexpr u32 STATS_TYPE_PEAK = 0x2 << 0;
inline constexpr u32 STATS_UNIT_NONE = 0x0 << 4;
inline constexpr u32 STATS_BASE_POW10 = 0x0 << 8;

}  // namespace kvmemu::uapi
