/*
 * The same workload object as a static Linux i386 program, for counting its
 * instructions with callgrind and for a native speed reference:
 *     bench-native32 [N]      prints the kernel's START/DONE lines for N iterations,
 *                             then the bytes REP MOVSB moved (see workload_rep_bytes)
 * System calls go straight through int 0x80 (write, exit); there is no 32-bit libc.
 */
#include "bench/workload.h"

int native_main(int argc, char **argv);

static void sys_write(const char *s, uint32_t n)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(4), "b"(1), "c"(s), "d"(n) : "memory");
    (void)r;
}

static void put(const char *s)
{
    uint32_t n = 0;
    while (s[n]) n++;
    sys_write(s, n);
}

static void put_u(uint64_t v, int base, int width)
{
    char b[24];
    int n = 0;
    do {
        b[n++] = "0123456789abcdef"[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v);
    while (n < width) b[n++] = '0';
    char o[24];
    for (int i = 0; i < n; i++) o[i] = b[n - 1 - i];
    sys_write(o, (uint32_t)n);
}

int native_main(int argc, char **argv)
{
    uint32_t iters = WORKLOAD_DEFAULT_ITERS;
    if (argc > 1) {
        const char *p = argv[1];
        iters = 0;
        while (*p >= '0' && *p <= '9') iters = iters * 10u + (uint32_t)(*p++ - '0');
        if (*p) {
            put("usage: bench-native32 [iterations]\n");
            return 2;
        }
    }
    put("BENCH START iters=");
    put_u(iters, 10, 1);
    put("\n");
    workload_init();
    uint32_t state = 0;
    for (uint32_t c = 0; c < WORKLOAD_CHUNKS; c++) {
        uint32_t lo = (uint32_t)((uint64_t)iters * c / WORKLOAD_CHUNKS);
        uint32_t hi = (uint32_t)((uint64_t)iters * (c + 1) / WORKLOAD_CHUNKS);
        state = workload_run(state, hi - lo);
    }
    put("BENCH DONE ");
    put_u(state, 16, 8);
    put("\n");
    /* For instruction counts: callgrind counts a REP MOVSB of n bytes as n + 1. */
    put("BENCH REP BYTES ");
    put_u(workload_rep_bytes(iters), 10, 1);
    put("\n");
    return 0;
}
