/* Freestanding C routines run both natively (linked into the test) and as guest code compiled
 * with gcc -O2 at test time; each returns a checksum the test compares. */
#include "progs.h"

typedef unsigned long size_t;
__extension__ typedef __int128 i128;

void* memcpy(void* d, const void* s, size_t n);
void* memset(void* d, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);

static unsigned char buf_a[4096];
static unsigned char buf_b[4096];
static unsigned int arr[512];

static unsigned long mix(unsigned long h, unsigned long v) {
    h ^= v + 0x9e3779b97f4a7c15ul + (h << 6) + (h >> 2);
    return h;
}

static size_t my_strlen(const char* s) {
    size_t n = 0;
    while (s[n] != 0) ++n;
    return n;
}

static void reverse(char* s, size_t n) {
    for (size_t i = 0, j = n - 1; i < j; ++i, --j) {
        char t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
}

unsigned long prog_strings(void) {
    static char text[] = "The quick brown fox jumps over the lazy dog";
    unsigned long h = 0;
    size_t n = my_strlen(text);
    reverse(text, n);
    for (size_t i = 0; i < n; ++i) h = mix(h, (unsigned char)text[i]);
    memset(buf_a, 0x5a, sizeof buf_a);
    for (size_t i = 0; i < sizeof buf_b; ++i) buf_b[i] = (unsigned char)(i * 7 + 3);
    memcpy(buf_a + 13, buf_b + 5, 3000);
    h = mix(h, (unsigned long)memcmp(buf_a + 13, buf_b + 5, 3000));
    for (size_t i = 0; i < sizeof buf_a; i += 61) h = mix(h, buf_a[i]);
    reverse(text, n);
    return h;
}

static unsigned int crc32(const unsigned char* p, size_t n) {
    unsigned int c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

unsigned long prog_crc(void) {
    for (size_t i = 0; i < sizeof buf_b; ++i) buf_b[i] = (unsigned char)(i ^ (i >> 3));
    return crc32(buf_b, sizeof buf_b);
}

static void insertion_sort(unsigned int* a, int n) {
    for (int i = 1; i < n; ++i) {
        unsigned int v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            --j;
        }
        a[j + 1] = v;
    }
}

unsigned long prog_sort(void) {
    unsigned int x = 12345;
    for (int i = 0; i < 512; ++i) {
        x = x * 1103515245u + 12345u;
        arr[i] = x >> 8;
    }
    insertion_sort(arr, 512);
    unsigned long h = 0;
    for (int i = 0; i < 512; i += 7) h = mix(h, arr[i]);
    return h;
}

static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

unsigned long prog_arith(void) {
    unsigned long h = (unsigned long)fib(20);
    long s = -7777777;
    for (long i = 1; i < 300; ++i) {
        s = (long)((unsigned long)s * 31u + (unsigned long)i); /* wraps, no UB */
        h = mix(h, (unsigned long)(s / (i | 1)));
        h = mix(h, (unsigned long)(s % 13));
        h = mix(h, (unsigned long)((unsigned long)s / 10));
        h = mix(h, (unsigned long)__builtin_popcountl((unsigned long)s));
        h = mix(h, (unsigned long)__builtin_clzl((unsigned long)s | 1));
        h = mix(h, (unsigned long)__builtin_ctzl((unsigned long)s | 0x8000));
        h = mix(h, (unsigned long)((i128)s * (i128)h >> 64));
        h = mix(h, (unsigned long)(unsigned int)((int)s >> (i & 31)));
        h = mix(h, (unsigned long)(short)(s >> 3));
        h = mix(h, __builtin_bswap64(h));
    }
    return h;
}

static int classify(int v) {
    switch (v & 15) {
        case 0: return 11;
        case 1: return 23;
        case 2: return 5;
        case 3: return 77;
        case 4: return 1;
        case 5: return 19;
        case 6: return 3;
        case 7: return 8;
        case 8: return 41;
        default: return v;
    }
}

unsigned long prog_control(void) {
    unsigned long h = 0;
    for (int i = 0; i < 1000; ++i) {
        h = mix(h, (unsigned long)classify(i * 37));
        if ((h & 3) == 1) h += (unsigned long)i;
        h = (h > 1000000 && (i & 1)) ? h - 1000000 : h;
    }
    return h;
}

unsigned long prog_vector(void) {
    /* Loops gcc -O2 vectorises with SSE2 integer arithmetic. */
    static int va[1024], vb[1024], vc[1024];
    for (int i = 0; i < 1024; ++i) {
        va[i] = i * 3 - 500;
        vb[i] = (i ^ 0x55) - 7;
    }
    for (int i = 0; i < 1024; ++i) vc[i] = va[i] + vb[i] * 2;
    for (int i = 0; i < 1024; ++i) vc[i] ^= (va[i] & 0xff) | (int)((unsigned int)vb[i] << 3);
    int sum = 0;
    for (int i = 0; i < 1024; ++i) sum += vc[i];
    unsigned char mx = 0;
    for (int i = 0; i < 4096; ++i) mx = (unsigned char)(buf_a[i] > mx ? buf_a[i] : mx);
    return (unsigned long)(unsigned int)sum * 1000 + mx;
}

#ifdef KVMEMU_GUEST
/* The guest has no libc; natively the test binary's libc provides these. */
void* memcpy(void* d, const void* s, size_t n) {
    unsigned char* dp = d;
    const unsigned char* sp = s;
    while (n--) *dp++ = *sp++;
    return d;
}

void* memset(void* d, int c, size_t n) {
    unsigned char* dp = d;
    while (n--) *dp++ = (unsigned char)c;
    return d;
}

int memcmp(const void* a, const void* b, size_t n) {
    const unsigned char* x = a;
    const unsigned char* y = b;
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
#endif
