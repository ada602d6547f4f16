/* guest.h: the guest runtime of kvm_harness (freestanding, no SSE: -mgeneral-regs-only). */
#ifndef KVMEMU_HARNESS_GUEST_H
#define KVMEMU_HARNESS_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "../harness_abi.h"

struct ex_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

/* A handler returns normally to resume at frame->rip (which it may change). */
typedef void (*exc_handler)(struct ex_frame *frame);
void set_handler(unsigned vector, exc_handler handler);

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static inline uint64_t read_cr2(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

void ucall(unsigned cmd, unsigned line, const char *str, const char *str2, uint64_t a0, uint64_t a1,
           uint64_t a2, uint64_t a3);
void puts_e9(const char *s);         /* one character per `outb` */
void puts_e9_rep(const char *s);     /* the whole string with one `rep outsb` */
void report(const char *name, uint64_t value);
void print(const char *s);
void guest_done(int rc);

#define GUEST_ASSERT(cond)                                                                 \
    do {                                                                                   \
        if (!(cond)) ucall(UC_ASSERT, __LINE__, #cond, __FILE__, 0, 0, 0, 0);              \
    } while (0)

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
