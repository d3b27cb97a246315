/*
 * Xen system time and wall-clock time as a PV guest reads them from shared_info.
 *
 * Invariants (the version protocol): Xen makes vcpu_time_info.version odd before it
 * updates the record and even afterwards, and likewise wc_version for the wall clock.
 * A reader copies the record, then accepts the copy only if the version was even and
 * unchanged; otherwise it retries. Retries are bounded: a version that never settles is
 * reported (returned as failure) instead of hanging.
 *
 * System time now = system_time + (((tsc - tsc_timestamp) << shift) * mul) >> 32,
 * with shift applied right when negative.
 */
#ifndef XEN_LIB_TIME_H
#define XEN_LIB_TIME_H

#include <stdint.h>
#include <xen/xen.h>

struct xen_time_snapshot {
    uint32_t version;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
};

static inline uint64_t xen_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* A consistent copy of a vcpu_time_info; 0 if the version never settled (bounded retry). */
int xen_time_snapshot(const volatile struct vcpu_time_info *t, struct xen_time_snapshot *out);
/* Scale a TSC delta to nanoseconds with the record's multiplier and shift. */
uint64_t xen_tsc_to_ns(const struct xen_time_snapshot *s, uint64_t tsc_delta);
/* Current Xen system time (ns since boot) from the record and rdtsc; 0 on failure. */
uint64_t xen_system_time(const volatile struct vcpu_time_info *t);
/* Wall clock at system time 0: seconds (incl. wc_sec_hi) and ns; 0 if it never settled. */
int xen_wallclock(const volatile struct shared_info *s, uint64_t *sec, uint32_t *nsec);

#endif
