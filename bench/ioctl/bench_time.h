/* bench_time.h: the clock and the median shared by the ioctl bench programs (plain C). */
#ifndef KVMEMU_BENCH_TIME_H
#define KVMEMU_BENCH_TIME_H

#include <stdlib.h>
#include <time.h>

static inline double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int cmp_double(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

/* Sorts v[0..n) and returns its median. */
static inline double median(double* v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

#endif
