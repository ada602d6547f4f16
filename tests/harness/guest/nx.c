/* Guest: the NX-huge-page scenario of /work/shared/oracle/README.md. Regions A, B, C (2 MiB each,
 * 2 MiB aligned, in their own memslot, filled with `ret` by the host). After each step the host
 * reads pages_2m and nx_lpage_splits from the VM's stats fd and checks them. */
#include "guest.h"

static void read_at(uint64_t a) { (void)*(volatile uint8_t *)(uintptr_t)a; }
static void call_at(uint64_t a) { ((void (*)(void))(uintptr_t)a)(); }
static void step(unsigned n, const char *what) { ucall(UC_STATS, 0, what, 0, n, 0, 0, 0); }

int main(void) {
    step(0, "start");
    read_at(NX_REGION_A);
    step(1, "read A");
    read_at(NX_REGION_B);
    step(2, "read B");
    call_at(NX_REGION_A);
    step(3, "call into A");
    call_at(NX_REGION_C);
    step(4, "call into C");
    read_at(NX_REGION_A);
    step(5, "read A");
    ucall(UC_SLEEP, 0, 0, 0, 3, 0, 0, 0);
    step(6, "after recovery");
    read_at(NX_REGION_C);
    step(7, "read C");
    return 0;
}
