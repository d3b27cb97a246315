/*
 * What every minios source file needs: basic types, the Xen public headers, the
 * hypercall wrappers of lib/xen, printing, and the global boot state.
 *
 * Global state invariants:
 * - start_info points at the builder's start_info page (VA = its PFN << 12, VIRT_BASE 0);
 *   Xen rewrites fields 0-59 of that page on resume, so it is re-read, never cached.
 * - shared_info is mapped at a fixed VA for the kernel's whole life (remapped on resume).
 * - Code on CPU 0 outside upcall context may block; upcall handlers never block, never
 *   print and never allocate (they set flags the event loop picks up).
 */
#ifndef MINIOS_KERNEL_H
#define MINIOS_KERNEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include "lib/xen/hypercall.h"
#include "lib/fmt/fmt.h"
#include "minios/arch/x86_32/x86.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

extern start_info_t *start_info;
extern volatile shared_info_t *shared_info;

/* printk.c: formatted output to the PV console (and Xen's console when mirroring);
 * vsnprintf/snprintf come from lib/fmt/fmt.h. */
void printk(const char *fmt, ...) PRINTF(1, 2);
/* Last-resort output that takes no locks: the console ring and Xen's console_io. */
void emergency_printk(const char *fmt, ...) PRINTF(1, 2);
NORETURN void panic(const char *fmt, ...) PRINTF(1, 2);
#define BUG_ON(c) do { if (unlikely(c)) panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); } while (0)

/* lib.c: strings and parsing (freestanding). */
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy_s(char *dst, const char *src, size_t size);   /* always NUL-terminates */
char *strchr(const char *s, int c);
int strstarts(const char *s, const char *prefix);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
/* Parse a decimal (or 0x hex) unsigned number; returns 0 and sets *out, or -XEN_EINVAL. */
int parse_u64(const char *s, uint64_t *out);
int parse_u32(const char *s, uint32_t *out);
/* Dotted quad to host-order u32; returns 0 or -XEN_EINVAL. */
int parse_ipv4(const char *s, uint32_t *out);
/* IEEE 802.3 CRC-32 (as zlib.crc32), continued from crc (start with 0). */
uint32_t crc32(uint32_t crc, const void *buf, size_t len);
/* xorshift32 step, the test-pattern generator (never returns 0 for a non-zero state). */
static inline uint32_t xorshift32(uint32_t x)
{
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return x;
}

#endif
