/* Version-protocol readers for vcpu_time_info and the wall clock (see time.h). */
#include "time.h"

#define XEN_TIME_MAX_RETRIES 100000

static inline void rmb(void) { __asm__ volatile("lfence" ::: "memory"); }

int xen_time_snapshot(const volatile struct vcpu_time_info *t, struct xen_time_snapshot *out)
{
    for (unsigned i = 0; i < XEN_TIME_MAX_RETRIES; i++) {
        uint32_t v = t->version;
        rmb();
        out->tsc_timestamp = t->tsc_timestamp;
        out->system_time = t->system_time;
        out->tsc_to_system_mul = t->tsc_to_system_mul;
        out->tsc_shift = t->tsc_shift;
        out->flags = t->flags;
        rmb();
        if (!(v & 1) && v == t->version) {
            out->version = v;
            return 1;
        }
    }
    return 0;
}

uint64_t xen_tsc_to_ns(const struct xen_time_snapshot *s, uint64_t delta)
{
    if (s->tsc_shift < 0) delta >>= -s->tsc_shift;
    else delta <<= s->tsc_shift;
    /* (delta * mul) >> 32 as a 96-bit product, in 32-bit pieces. */
    uint64_t lo = (uint64_t)(uint32_t)delta * s->tsc_to_system_mul;
    uint64_t hi = (delta >> 32) * s->tsc_to_system_mul;
    return hi + (lo >> 32);
}

uint64_t xen_system_time(const volatile struct vcpu_time_info *t)
{
    struct xen_time_snapshot s;
    if (!xen_time_snapshot(t, &s)) return 0;
    uint64_t tsc = xen_rdtsc();
    uint64_t delta = tsc > s.tsc_timestamp ? tsc - s.tsc_timestamp : 0;
    return s.system_time + xen_tsc_to_ns(&s, delta);
}

int xen_wallclock(const volatile struct shared_info *s, uint64_t *sec, uint32_t *nsec)
{
    for (unsigned i = 0; i < XEN_TIME_MAX_RETRIES; i++) {
        uint32_t v = s->wc_version;
        rmb();
        uint32_t lo = s->wc_sec, ns = s->wc_nsec, hi = s->arch.wc_sec_hi;
        rmb();
        if (!(v & 1) && v == s->wc_version) {
            *sec = ((uint64_t)hi << 32) | lo;
            *nsec = ns;
            return 1;
        }
    }
    return 0;
}
