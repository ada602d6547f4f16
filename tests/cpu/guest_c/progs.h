/* Guest C programs shared by the native side of the test and the guest build. */
#ifndef KVMEMU_TESTS_CPU_GUEST_C_PROGS_H
#define KVMEMU_TESTS_CPU_GUEST_C_PROGS_H
#ifdef __cplusplus
extern "C" {
#endif
unsigned long prog_strings(void);
unsigned long prog_crc(void);
unsigned long prog_sort(void);
unsigned long prog_arith(void);
unsigned long prog_control(void);
unsigned long prog_vector(void);
#ifdef __cplusplus
}
#endif
#endif
