/*
 * Time as a PV guest reads it: vcpu_time_info under the version protocol (versions even
 * when consistent), system time derived from rdtsc with tsc_to_system_mul/tsc_shift
 * increasing monotonically and agreeing with a Xen timer deadline, the wall clock (wc_version,
 * wc_sec/wc_nsec in range), and the TSC frequency the scaling implies.
 */
#include "lib/pvtest.h"

PVTEST("time_info", "SUCCESS", 0, "", "vcpu_time_info version protocol, rdtsc scaling, wall clock");

void test_main(void)
{
    volatile struct vcpu_time_info *t = &pvt_vcpu(0)->time;
    struct xen_time_snapshot s;
    CHECK_EQ(xen_time_snapshot(t, &s), 1);
    CHECK_EQ(s.version & 1, 0);
    CHECK_NE_QUIET(s.tsc_to_system_mul, 0);
    CHECK(s.tsc_shift >= -32 && s.tsc_shift <= 32);
    /* TSC kHz = (10^6 << 32) / mul, shifted back: a plausible CPU clock. */
    uint64_t khz = (1000000ULL << 32) / s.tsc_to_system_mul;
    khz = s.tsc_shift < 0 ? khz << -s.tsc_shift : khz >> s.tsc_shift;
    pv_printf("tsc %llu kHz, flags %x\n", khz, s.flags);
    CHECK(khz > 10000 && khz < 100000000);

    /* Monotonic over many reads. */
    uint64_t prev = pvt_now(), backwards = 0;
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t now = pvt_now();
        if (now < prev) backwards++;
        prev = now;
    }
    CHECK_EQ(backwards, 0);

    /* Xen's own timer against the TSC-derived clock: a VIRQ_TIMER deadline 50 ms ahead
     * arrives about 50 ms later by our clock. On hardware the two agree closely; under
     * QEMU's TCG the TSC the guest extrapolates with drifts from Xen's calibrated clock
     * by up to ~15% between calibrations, so the bound here is loose (25 ms - 5 s). */
    evtchn_port_t port;
    CHECK_EQ(xen_evtchn_bind_virq(VIRQ_TIMER, 0, &port), 0);
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    xen_evtchn_clear(pvt_shared, port);
    uint64_t t0 = pvt_now();
    CHECK_EQ(HYPERVISOR_set_timer_op(t0 + 50000000ULL), 0);
    CHECK_EQ(pvt_poll_port(port, t0 + 5000000000ULL), 1);
    uint64_t dt = pvt_now() - t0;
    pv_printf("50 ms timer measured %llu us\n", dt / 1000);
    CHECK(dt >= 25000000ULL && dt < 5000000000ULL);
    /* The record Xen wrote after the wake-up is not ahead of our reading. */
    CHECK_EQ(xen_time_snapshot(t, &s), 1);
    CHECK_LE_QUIET(s.system_time, pvt_now());

    /* Wall clock: seconds since 1970 at system time 0, a plausible date (after 2020). */
    uint64_t sec;
    uint32_t nsec;
    CHECK_EQ(xen_wallclock(pvt_shared, &sec, &nsec), 1);
    CHECK_EQ(pvt_shared->wc_version & 1, 0);
    pv_printf("wall clock at boot %llu.%09u\n", sec, nsec);
    CHECK_GT_QUIET(sec, 1577836800ULL);
    CHECK_LT(nsec, 1000000000u);
}
