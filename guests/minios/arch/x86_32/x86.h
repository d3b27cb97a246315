/*
 * IA-32 facts minios needs that are hardware, not Xen ABI: PAE page-table entry bits,
 * exception vectors, and one-instruction wrappers (atomics, TSC, pause).
 *
 * Atomics use `lock`-prefixed instructions: shared_info bits and per-CPU flags are
 * written concurrently by Xen and by other vCPUs.
 */
#ifndef MINIOS_X86_H
#define MINIOS_X86_H
#include <stdint.h>

/* PAE page-table entry bits (Intel SDM vol. 3, 4.4). */
#define _PAGE_PRESENT  0x001ULL
#define _PAGE_RW       0x002ULL
#define _PAGE_USER     0x004ULL
#define _PAGE_ACCESSED 0x020ULL
#define _PAGE_DIRTY    0x040ULL
#define _PAGE_PSE      0x080ULL
#define PTE_ADDR_MASK  0x000FFFFFFFFFF000ULL

/* What minios maps its own memory with: L1 data pages, L1 read-only, L2/L3 links. */
#define PTE_KERNEL     (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_KERNEL_RO  (_PAGE_PRESENT | _PAGE_ACCESSED)
#define PDE_KERNEL     (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096UL
#define PAGE_MASK  (~(PAGE_SIZE - 1))

#define X86_EXC_PF 14
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("lock; addl $0,0(%%esp)" ::: "memory"); }
static inline void rmb(void) { barrier(); }
static inline void wmb(void) { barrier(); }

static inline uint32_t xchg32(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

static inline uint16_t cmpxchg16(volatile uint16_t *p, uint16_t old, uint16_t new)
{
    uint16_t prev;
    __asm__ volatile("lock cmpxchgw %2, %1" : "=a"(prev), "+m"(*p) : "r"(new), "0"(old) : "memory");
    return prev;
}

static inline uint32_t atomic_add32(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;   /* the old value */
}

static inline int test_and_clear_bit(unsigned nr, volatile uint32_t *words)
{
    int old;
    __asm__ volatile("lock btrl %2, %1; sbbl %0, %0"
                     : "=r"(old), "+m"(words[nr / 32]) : "Ir"(nr % 32) : "memory");
    return old != 0;
}

static inline void set_bit(unsigned nr, volatile uint32_t *words)
{
    __asm__ volatile("lock btsl %1, %0" : "+m"(words[nr / 32]) : "Ir"(nr % 32) : "memory");
}

static inline void clear_bit(unsigned nr, volatile uint32_t *words)
{
    __asm__ volatile("lock btrl %1, %0" : "+m"(words[nr / 32]) : "Ir"(nr % 32) : "memory");
}

static inline int test_bit(unsigned nr, const volatile uint32_t *words)
{
    return (words[nr / 32] >> (nr % 32)) & 1;
}

/* Index of the lowest set bit; x must be non-zero. */
static inline unsigned lowest_bit(uint32_t x)
{
    unsigned r;
    __asm__("bsfl %1, %0" : "=r"(r) : "rm"(x));
    return r;
}

#endif
