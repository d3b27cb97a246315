/*
 * Test-and-set spinlocks for data shared between vCPUs.
 *
 * Invariant: a lock is never taken in upcall context (handlers only set flags), so a
 * vCPU can never deadlock against its own interrupted code; holders never block.
 */
#ifndef MINIOS_SPINLOCK_H
#define MINIOS_SPINLOCK_H
#include "minios/arch/x86_32/x86.h"

typedef struct { volatile uint32_t v; } spinlock_t;
#define SPINLOCK_INIT { 0 }

static inline void spin_lock(spinlock_t *l)
{
    while (xchg32(&l->v, 1)) {
        while (l->v) cpu_relax();
    }
}

static inline int spin_trylock(spinlock_t *l) { return xchg32(&l->v, 1) == 0; }

static inline void spin_unlock(spinlock_t *l)
{
    barrier();
    l->v = 0;
}

#endif
