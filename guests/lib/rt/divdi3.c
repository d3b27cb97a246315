/*
 * 64-bit division helpers that gcc -m32 calls for `/` and `%` on 64-bit operands.
 * Written from their documented contracts (libgcc's __udivmoddi4 family): quotient and
 * remainder of unsigned/signed 64-bit integers, C truncating semantics. Division by zero
 * is undefined in C; here it executes a 32-bit divide by zero so the CPU raises #DE.
 */
#include <stdint.h>

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);
int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem);

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
    if (d == 0) {
        volatile uint32_t zero = 0;
        return (uint32_t)n / zero;
    }
    /* Fast path: divisor fits in 32 bits and so does the high quotient step. */
    if ((d >> 32) == 0) {
        uint32_t dl = (uint32_t)d;
        uint32_t nh = (uint32_t)(n >> 32), nl = (uint32_t)n;
        uint32_t qh = nh / dl;
        uint32_t r = nh % dl;
        uint32_t ql, rl;
        /* r < dl, so r:nl / dl fits in 32 bits: one hardware divl. */
        __asm__("divl %4" : "=a"(ql), "=d"(rl) : "a"(nl), "d"(r), "rm"(dl));
        if (rem) *rem = rl;
        return ((uint64_t)qh << 32) | ql;
    }
    /* General case: shift-subtract, at most 32 iterations since d >= 2^32. */
    uint64_t q = 0, r = 0;
    int shift = __builtin_clzll(d) - __builtin_clzll(n);
    if (n < d) {
        if (rem) *rem = n;
        return 0;
    }
    d <<= shift;
    r = n;
    for (; shift >= 0; shift--) {
        q <<= 1;
        if (r >= d) {
            r -= d;
            q |= 1;
        }
        d >>= 1;
    }
    if (rem) *rem = r;
    return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d) { return __udivmoddi4(n, d, 0); }

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
    uint64_t r = 0;
    __udivmoddi4(n, d, &r);
    return r;
}

int64_t __divmoddi4(int64_t n, int64_t d, int64_t *rem)
{
    int neg_q = (n < 0) != (d < 0), neg_r = n < 0;
    uint64_t un = n < 0 ? -(uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? -(uint64_t)d : (uint64_t)d;
    uint64_t ur;
    uint64_t uq = __udivmoddi4(un, ud, &ur);
    if (rem) *rem = neg_r ? -(int64_t)ur : (int64_t)ur;
    return neg_q ? -(int64_t)uq : (int64_t)uq;
}

int64_t __divdi3(int64_t n, int64_t d) { return __divmoddi4(n, d, 0); }

int64_t __moddi3(int64_t n, int64_t d)
{
    int64_t r = 0;
    __divmoddi4(n, d, &r);
    return r;
}
