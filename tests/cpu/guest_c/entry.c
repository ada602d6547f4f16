/* Guest entry: runs every program and reports each 64-bit result on port 0x100 (two outl). */
#include "progs.h"

static void report(unsigned long v) {
    __asm__ volatile("outl %0, %1" : : "a"((unsigned int)v), "Nd"((unsigned short)0x100));
    __asm__ volatile("outl %0, %1" : : "a"((unsigned int)(v >> 32)), "Nd"((unsigned short)0x100));
}

__attribute__((section(".text.entry"))) void _start(void) {
    report(prog_strings());
    report(prog_crc());
    report(prog_sort());
    report(prog_arith());
    report(prog_control());
    report(prog_vector());
    for (;;) __asm__ volatile("hlt");
}
