/*
 * A CPU hog with its events masked: it announces itself, masks event delivery and spins
 * forever. Nothing inside the guest can take the CPU from it, so only the hypervisor's
 * scheduler (slice ends, preemption) decides how much CPU it gets.
 */
#include "tests/pv/lib/pvtest.h"

PVTEST("sched-hog", "SUCCESS", 0, "", "spin forever with events masked");

void test_main(void)
{
    pv_printf("HOG ready\n");
    pvt_events_mask();
    for (;;) __asm__ volatile("" ::: "memory");
}
