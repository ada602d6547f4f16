/* arith_tests.c: integer arithmetic, string routines, a sort and checksums.
 *
 * Compiled twice: into the guest (guest/arith.c, freestanding, no SSE) and natively into the
 * host harness (kvm_harness.c), which runs it on the host CPU first to learn the known answers.
 * The guest reports each value over the call channel; the host compares it with the native one
 * (and, for the values with a published answer, both with that answer: see kvm_harness.c).
 * No libc: everything used is defined here, so both builds run the same code.
 */
#include <stddef.h>
#include <stdint.h>

typedef void (*arith_report_fn)(const char *name, uint64_t value);

__extension__ typedef unsigned __int128 at_u128;

#define AT_NOLOOPCALLS __attribute__((optimize("no-tree-loop-distribute-patterns"), noinline))

static AT_NOLOOPCALLS void at_memcpy(void *d, const void *s, size_t n) {
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--) *dp++ = *sp++;
}
static AT_NOLOOPCALLS void at_memset(void *d, int c, size_t n) {
    uint8_t *dp = d;
    while (n--) *dp++ = (uint8_t)c;
}
static AT_NOLOOPCALLS void at_memmove(void *d, const void *s, size_t n) {
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
}
static AT_NOLOOPCALLS size_t at_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
static int at_strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}
static int at_memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

/* String instructions, as a hand-written libc would use them. */
static void rep_movsb(void *d, const void *s, size_t n) {
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static void rep_movsb_backward(void *d, const void *s, size_t n) { /* DF=1, from the ends */
    uint8_t *de = (uint8_t *)d + n - 1;
    const uint8_t *se = (const uint8_t *)s + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(de), "+S"(se), "+c"(n) : : "memory", "cc");
}
static void rep_stosq(void *d, uint64_t v, size_t n) {
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}
static size_t repne_scasb_strlen(const char *s) {
    size_t n = (size_t)-1;
    __asm__ volatile("repne scasb" : "+D"(s), "+c"(n) : "a"(0) : "memory", "cc");
    return ~n - 1;
}
static size_t repe_cmpsb_prefix(const void *a, const void *b, size_t n) { /* bytes equal */
    size_t left = n;
    if (!n) return 0;
    __asm__ volatile("repe cmpsb" : "+D"(a), "+S"(b), "+c"(left) : : "memory", "cc");
    /* rcx counts the mismatching byte too unless all matched */
    return (((const uint8_t *)a)[-1] == ((const uint8_t *)b)[-1]) ? n : n - left - 1;
}

static uint64_t fnv1a(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}
static uint32_t crc32(const void *p, size_t n) {
    const uint8_t *b = p;
    uint32_t c = 0xffffffffU;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1)));
    }
    return ~c;
}
static uint32_t adler32(const void *p, size_t n) {
    const uint8_t *b = p;
    uint32_t a = 1, s = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + b[i]) % 65521;
        s = (s + a) % 65521;
    }
    return (s << 16) | a;
}

static uint32_t lcg_state;
static uint32_t lcg(void) { return lcg_state = lcg_state * 1103515245U + 12345U; }

static void insertion_sort(uint32_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}
static void quick_sort(int64_t *a, long lo, long hi) {
    while (lo < hi) {
        int64_t p = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) {
                int64_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            quick_sort(a, lo, j);
            lo = i;
        } else {
            quick_sort(a, i, hi);
            hi = j;
        }
    }
}
static long bsearch_i64(const int64_t *a, long n, int64_t key) {
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] == key) return mid;
        if (a[mid] < key) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}
static uint64_t isqrt(uint64_t n) {
    uint64_t x = n, y = (x + 1) / 2;
    if (n < 2) return n;
    while (y < x) {
        x = y;
        y = (x + n / x) / 2;
    }
    return x;
}
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { /* a < m: the quotient fits */
    uint64_t q, r;
    __asm__("mulq %3\n\tdivq %4" : "=a"(q), "=d"(r) : "0"(a), "r"(b), "r"(m) : "cc");
    (void)q;
    return r;
}
static uint64_t modpow(uint64_t b, uint64_t e, uint64_t m) {
    uint64_t r = 1;
    b %= m;
    while (e) {
        if (e & 1) r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}
static unsigned popcount(uint64_t v) {
    unsigned c = 0;
    while (v) {
        v &= v - 1;
        c++;
    }
    return c;
}
static unsigned collatz_steps(uint64_t n) {
    unsigned s = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        s++;
    }
    return s;
}
static unsigned count_primes(unsigned limit) {
    static uint8_t sieve[10000];
    unsigned c = 0;
    at_memset(sieve, 1, sizeof sieve);
    for (unsigned i = 2; i < limit; i++) {
        if (!sieve[i]) continue;
        c++;
        for (unsigned j = i * i; j < limit; j += i) sieve[j] = 0;
    }
    return c;
}
static int day_kind(int d) { /* a jump table */
    switch (d) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 37;
    case 3: return 41;
    case 4: return 59;
    case 5: return 61;
    case 6: return 79;
    default: return -1;
    }
}
static size_t utoa(uint64_t v, unsigned base, char *out) {
    char tmp[65];
    size_t n = 0, i;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

static volatile uint64_t opaque_u = 0xfedcba9876543210ULL; /* defeat constant folding */
static volatile int64_t opaque_s = -1234567890123LL;
static volatile unsigned opaque_sh = 13;

void arith_run(arith_report_fn report) {
    static uint8_t buf[4096], buf2[4096];
    static uint32_t arr32[200];
    static int64_t arr64[300];
    const char *fox = "The quick brown fox jumps over the lazy dog";
    uint64_t u = opaque_u;
    int64_t s = opaque_s;
    unsigned sh = opaque_sh;

    /* memory and string routines */
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + (i >> 8));
    at_memcpy(buf2, buf, sizeof buf);
    report("memcpy.equal", at_memcmp(buf, buf2, sizeof buf) == 0);
    at_memmove(buf2 + 3, buf2, 1000);
    at_memmove(buf2 + 2000, buf2 + 2005, 777);
    at_memset(buf2 + 100, 0xa5, 300);
    report("memmove_memset.fnv", fnv1a(buf2, sizeof buf2));
    report("memcmp.sign", (uint64_t)(int64_t)at_memcmp(buf, buf2, sizeof buf));
    rep_movsb(buf2, buf + 1, 3001);
    rep_movsb_backward(buf2 + 1, buf2, 500); /* overlapping, like memmove */
    rep_stosq(buf2 + 3008, 0x0123456789abcdefULL, 11);
    report("rep_string.fnv", fnv1a(buf2, sizeof buf2));
    report("repe_cmpsb.prefix", repe_cmpsb_prefix(buf + 1, buf2 + 2, 1000));
    report("strlen.fox", at_strlen(fox));
    report("repne_scasb.fox", repne_scasb_strlen(fox));
    report("strcmp.lt", (uint64_t)(int64_t)(at_strcmp("apple", "apricot") < 0));
    report("strcmp.eq", (uint64_t)(int64_t)at_strcmp(fox, fox));

    /* checksums with published answers */
    report("crc32.fox", crc32(fox, at_strlen(fox)));
    report("adler32.wikipedia", adler32("Wikipedia", 9));
    report("fnv1a64.empty", fnv1a("", 0));

    /* integer arithmetic */
    report("mul.u64", u * 0x9e3779b97f4a7c15ULL);
    report("mulhi.u128", (uint64_t)(((at_u128)u * 0x9e3779b97f4a7c15ULL) >> 64));
    report("imul.s64", (uint64_t)(s * -77));
    report("div.u64", u / 12345);
    report("mod.u64", u % 12345);
    report("div.s64", (uint64_t)(s / 1000));
    report("mod.s64", (uint64_t)(s % 1000));
    report("div.u32", (uint32_t)u / 7U);
    report("div.s32", (uint64_t)(int64_t)((int32_t)s / -3));
    report("shl.var", u << sh);
    report("shr.var", u >> sh);
    report("sar.var", (uint64_t)(s >> sh));
    report("rol.13", (u << 13) | (u >> 51));
    report("bswap64", __builtin_bswap64(u));
    report("bswap32", __builtin_bswap32((uint32_t)u));
    report("clz", (uint64_t)__builtin_clzll(u >> 17));
    report("ctz", (uint64_t)__builtin_ctzll(u << 9));
    report("popcount", popcount(u));
    report("gcd", gcd(1071ULL * 99991, 462ULL * 99991));
    report("isqrt", isqrt(u));
    report("modpow", modpow(u, 65537, 0xffffffffffffffc5ULL));
    uint64_t fa = 0, fb = 1;
    for (int i = 0; i < 90; i++) {
        uint64_t t = fa + fb;
        fa = fb;
        fb = t;
    }
    report("fib90", fa);
    report("collatz27", collatz_steps(27));
    report("primes.below10000", count_primes(10000));
    uint64_t lo = u, hi = 0, carry;
    carry = __builtin_add_overflow(lo, 0x123456789abcdef0ULL, &lo);
    hi += carry + 5;
    report("add.carry", lo ^ (hi << 32));
    int64_t ov;
    report("add.overflow", (uint64_t)__builtin_add_overflow((int64_t)0x7fffffffffffff00LL, s < 0 ? 0x100 : 1, &ov));
    int jt = 0;
    for (int d = -1; d < 9; d++) jt = jt * 3 + day_kind(d);
    report("switch.table", (uint64_t)(int64_t)jt);
    char num[70] = {0};
    report("utoa.len", utoa(u, 10, num) * 1000 + utoa(u, 36, num + 30));
    report("utoa.fnv", fnv1a(num, 70));

    /* sorting */
    lcg_state = 12345;
    for (size_t i = 0; i < 200; i++) arr32[i] = lcg();
    insertion_sort(arr32, 200);
    int sorted = 1;
    for (size_t i = 1; i < 200; i++) sorted &= arr32[i - 1] <= arr32[i];
    report("insertion_sort.sorted", (uint64_t)sorted);
    report("insertion_sort.fnv", fnv1a(arr32, sizeof arr32));
    for (size_t i = 0; i < 300; i++) arr64[i] = (int64_t)((uint64_t)lcg() << 32 | lcg()) >> (i % 7);
    quick_sort(arr64, 0, 299);
    sorted = 1;
    for (size_t i = 1; i < 300; i++) sorted &= arr64[i - 1] <= arr64[i];
    report("quick_sort.sorted", (uint64_t)sorted);
    report("quick_sort.fnv", fnv1a(arr64, sizeof arr64));
    report("bsearch.found", (uint64_t)bsearch_i64(arr64, 300, arr64[123]));
    report("bsearch.missing", (uint64_t)bsearch_i64(arr64, 300, arr64[123] + 1 == arr64[124] ? 0 : arr64[123] + 1));
}
