// struct kvm_run: the page shared between a vCPU and its user (x86-64 layout), and exit reasons.
#pragma once

#include "uapi/structs.hpp"

namespace kvmemu::uapi {

inline constexpr u32 EXIT_UNKNOWN = 0;
inline constexpr u32 EXIT_EXCEPTION = 1;
inline constexpr u32 EXIT_IO = 2;
inline constexpr u32 EXIT_HYPERCALL = 3;
inline constexpr u32 EXIT_DEBUG = 4;
inline constexpr u32 EXIT_HLT = 5;
inline constexpr u32 EXIT_MMIO = 6;
inline constexpr u32 EXIT_IRQ_WINDOW_OPEN = 7;
inline constexpr u32 EXIT_SHUTDOWN = 8;
inline constexpr u32 EXIT_FAIL_ENTRY = 9;
inline constexpr u32 EXIT_INTR = 10;
inline constexpr u32 EXIT_INTERNAL_ERROR = 17;

inline constexpr u8 EXIT_IO_IN = 0;
inline constexpr u8 EXIT_IO_OUT = 1;

inline constexpr u32 INTERNAL_ERROR_EMULATION = 1;
inline constexpr u32 INTERNAL_ERROR_SIMUL_EX = 2;
inline constexpr u32 INTERNAL_ERROR_DELIVERY_EV = 3;
inline constexpr u32 INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

struct kvm_run_io {
    u8 direction;
    u8 size;
    u16 port;
    u32 count;
    u64 data_offset;  // relative to the start of kvm_run
};

struct kvm_run_mmio {
    u64 phys_addr;
    u8 data[8];
    u32 len;
    u8 is_write;
};

struct kvm_run_internal {
    u32 suberror;
    u32 ndata;
    u64 data[16];
};

// KVM_CAP_SYNC_REGS: register sets exchanged through kvm_run.s instead of ioctls.
struct kvm_sync_regs {
    kvm_regs regs;
    kvm_sregs sregs;
    kvm_vcpu_events events;
};
inline constexpr u64 SYNC_X86_REGS = 1;
inline constexpr u64 SYNC_X86_SREGS = 2;
inline constexpr u64 SYNC_X86_EVENTS = 4;
inline constexpr u64 SYNC_X86_VALID_FIELDS = SYNC_X86_REGS | SYNC_X86_SREGS | SYNC_X86_EVENTS;

struct kvm_run {
    u8 request_interrupt_window;
    u8 immediate_exit;
    u8 padding1[6];
    u32 exit_reason;
    u8 ready_for_interrupt_injection;
    u8 if_flag;
    u16 flags;
    u64 cr8;
    u64 apic_base;
    union {
        struct {
            u64 hardware_exit_reason;
        } hw;
        struct {
            u64 hardware_entry_failure_reason;
            u32 cpu;
        } fail_entry;
        struct {
            u32 exception;
            u32 error_code;
        } ex;
        kvm_run_io io;
        kvm_run_mmio mmio;
        kvm_run_internal internal;
        char padding[256];
    };
    u64 kvm_valid_regs;
    u64 kvm_dirty_regs;
    union {
        kvm_sync_regs regs;
        char padding[2048];
    } s;
};
static_assert(offsetof(kvm_run, exit_reason) == 8);
static_assert(offsetof(kvm_run, io) == 32);
static_assert(offsetof(kvm_run, kvm_valid_regs) == 288);
static_assert(sizeof(kvm_run) == 2352);
static_assert(offsetof(kvm_run, s) == 304);

// Layout of the mmap()able vCPU area on x86: kvm_run page, PIO data page, coalesced-MMIO ring.
inline constexpr u64 VCPU_PAGE_SIZE = 4096;
inline constexpr u64 PIO_PAGE_OFFSET = 1;
inline constexpr u64 COALESCED_MMIO_PAGE_OFFSET = 2;
inline constexpr u64 VCPU_MMAP_SIZE = 3 * VCPU_PAGE_SIZE;

}  // namespace kvmemu::uapi
