/* The guest runtime: call channel, IDT, exception dispatch, the libc routines gcc may call. */
#include "guest.h"

#define NOLOOPCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

void ucall(unsigned cmd, unsigned line, const char *str, const char *str2, uint64_t a0, uint64_t a1,
           uint64_t a2, uint64_t a3) {
    static struct ucall uc; /* identity mapped below 4 GiB: its address fits the 32-bit port */
    uc.cmd = cmd;
    uc.line = line;
    uc.str = (uint64_t)(uintptr_t)str;
    uc.str2 = (uint64_t)(uintptr_t)str2;
    uc.args[0] = a0;
    uc.args[1] = a1;
    uc.args[2] = a2;
    uc.args[3] = a3;
    outl(PORT_UCALL, (uint32_t)(uintptr_t)&uc);
}

void report(const char *name, uint64_t value) { ucall(UC_VALUE, 0, name, 0, value, 0, 0, 0); }
void print(const char *s) { ucall(UC_PRINT, 0, s, 0, 0, 0, 0, 0); }
void guest_done(int rc) { ucall(UC_DONE, 0, 0, 0, (uint64_t)(int64_t)rc, 0, 0, 0); }

void puts_e9(const char *s) {
    while (*s) outb(PORT_PUTCHAR, (uint8_t)*s++);
}

void puts_e9_rep(const char *s) {
    size_t n = strlen(s);
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(n) : "d"((uint16_t)PORT_PUTCHAR) : "memory");
}

/* ---- IDT -------------------------------------------------------------------------------- */
struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
static struct idt_entry idt[256] __attribute__((aligned(16)));
static exc_handler handlers[256];
extern const uint64_t exc_stub_table[32];
extern const uint64_t exc_stub_64_addr;

static void idt_set(unsigned v, uint64_t addr) {
    idt[v].off0 = (uint16_t)addr;
    idt[v].sel = SEL_CODE;
    idt[v].ist = 0;
    idt[v].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
    idt[v].off1 = (uint16_t)(addr >> 16);
    idt[v].off2 = (uint32_t)(addr >> 32);
    idt[v].zero = 0;
}

void idt_setup(void) {
    for (unsigned v = 0; v < 32; v++) idt_set(v, exc_stub_table[v]);
    idt_set(64, exc_stub_64_addr);
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

void set_handler(unsigned vector, exc_handler handler) { handlers[vector & 255] = handler; }

void exception_dispatch(struct ex_frame *f) {
    exc_handler h = handlers[f->vector & 255];
    if (h) {
        h(f);
        return;
    }
    /* No handler: report to the host, which fails the run; never resume. */
    ucall(UC_EXCEPTION, 0, 0, 0, f->vector, f->error, f->rip, read_cr2());
    for (;;) __asm__ volatile("cli; hlt");
}

/* ---- libc ------------------------------------------------------------------------------- */
NOLOOPCALLS void *memcpy(void *d, const void *s, size_t n) {
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}
NOLOOPCALLS void *memmove(void *d, const void *s, size_t n) {
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
    return d;
}
NOLOOPCALLS void *memset(void *d, int c, size_t n) {
    uint8_t *dp = d;
    while (n--) *dp++ = (uint8_t)c;
    return d;
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
