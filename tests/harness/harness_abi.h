/* harness_abi.h: the contract between kvm_harness (host) and the guest programs.
 *
 * Shared by the host (kvm_harness.c) and the guest runtime (guest/), so the two cannot drift.
 * Plain C, no libc.
 *
 * Guest-physical layout (identity mapped: guest virtual == guest physical):
 *   slot 0: gpa 0 .. 4 MiB. Host memory deliberately 4 KiB off 2 MiB alignment, so the MMU
 *           can only map it with 4 KiB SPTEs: the harness's own code, stack, page tables and
 *           GDT never add to pages_2m nor to nx_lpage_splits (KVM: a memslot whose
 *           userspace_addr and gpa disagree modulo 2 MiB has no huge mappings).
 *     0x1000 PML4, 0x2000 PDPT, 0x3000 PD (512 x 2 MiB identity leaves: 0 .. 1 GiB; nothing
 *     above 1 GiB is mapped), 0x4000 GDT, 0x5000 TSS, 0x100000 guest program (flat binary,
 *     entry at its first byte), stack top at 0x3ff000.
 *   slot 1: gpa 16 MiB .. 22 MiB, host memory 2 MiB aligned: the NX scenario's regions
 *           A (16 MiB), B (18 MiB), C (20 MiB), filled with 0xC3 (`ret`) by the host.
 *
 * Call channel (port I/O):
 *   out PORT_PUTCHAR (8-bit, also `rep outsb`): characters; the host prints whole lines as
 *       `guest: TEXT`.
 *   out PORT_UCALL (32-bit): the guest-physical address of a struct ucall; the host acts on it
 *       (and may write answers back into it) before the guest continues.
 *   in  PORT_MAGIC (32-bit): the host answers HARNESS_MAGIC.
 *   in  PORT_CONFIG (32-bit): the host answers the CONFIG_* bits of its options.
 */
#ifndef KVMEMU_HARNESS_ABI_H
#define KVMEMU_HARNESS_ABI_H

#define PORT_PUTCHAR 0xE9
#define PORT_UCALL 0x5000
#define PORT_MAGIC 0x5004
#define HARNESS_MAGIC 0x214d564bU /* "KVM!" */
#define PORT_CONFIG 0x5008 /* in, 32-bit: CONFIG_* bits chosen on the host's command line */
#define CONFIG_NO_SOFT_INT 0x1 /* exceptions guest: skip int3 and int n */
#define CONFIG_NO_ABM 0x2      /* isa guest: skip popcnt, lzcnt, tzcnt */

#define GUEST_SLOT0_SIZE 0x400000ULL
#define GUEST_PML4 0x1000ULL
#define GUEST_PDPT 0x2000ULL
#define GUEST_PD 0x3000ULL
#define GUEST_GDT 0x4000ULL
#define GUEST_TSS 0x5000ULL
#define GUEST_LOAD 0x100000ULL
#define GUEST_LOAD_MAX 0x200000ULL /* the program (code, data, bss) must end below 3 MiB */
#define GUEST_STACK_TOP 0x3ff000ULL

#define NX_REGION_A 0x1000000ULL
#define NX_REGION_B 0x1200000ULL
#define NX_REGION_C 0x1400000ULL
#define NX_SLOT_BASE NX_REGION_A
#define NX_SLOT_SIZE 0x600000ULL

/* Selectors of the host-built GDT. */
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

enum ucall_cmd {
    UC_PRINT = 1,     /* str: a line to print */
    UC_VALUE = 2,     /* str: name, args[0]: value; the host compares with its known answer */
    UC_ASSERT = 3,    /* str: expression, str2: file, line: __LINE__; fails the run */
    UC_EXCEPTION = 4, /* unexpected exception: args = vector, error code, rip, cr2; fails */
    UC_STATS = 5,     /* str: step label, args[0]: step number; host reads VM stats */
    UC_SLEEP = 6,     /* the host waits for NX recovery (args[0]: periods hint) */
    UC_DONE = 7,      /* args[0]: main()'s return value (0 = success) */
    UC_CPUID = 9,     /* args: leaf, eax<<32|ebx, ecx<<32|edx as the guest saw them */
    UC_SKIPQ = 8,     /* str: a test's name; the host writes 1 to args[0] to skip it (--skip) */
};

struct ucall {
    unsigned int cmd;
    unsigned int line;
    unsigned long long args[4];
    unsigned long long str;  /* guest address of a NUL-terminated string, or 0 */
    unsigned long long str2; /* ditto */
};

#endif
