/* Guest: arithmetic and string routines (../arith_tests.c), each value checked by the host;
 * plus the call channel itself: byte-wise and `rep outsb` output, an `in` answered by the host,
 * the runtime's memcpy/memset/strlen. */
#include "guest.h"

typedef void (*arith_report_fn)(const char *name, uint64_t value);
void arith_run(arith_report_fn report);

int main(void) {
    static char line[64];
    puts_e9("hello from the guest (outb)\n");
    puts_e9_rep("hello again (rep outsb)\n");
    report("in.magic", inl(PORT_MAGIC));
    memset(line, 'x', sizeof line);
    memcpy(line, "runtime memcpy", 15);
    GUEST_ASSERT(strlen(line) == 14);
    GUEST_ASSERT(strcmp(line, "runtime memcpy") == 0);
    GUEST_ASSERT(line[20] == 'x');
    arith_run(report);
    print("arith done");
    return 0;
}
