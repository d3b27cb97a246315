/* Out-of-line helpers for hypercall.h. */
#include "hypercall.h"

long xen_shutdown(unsigned reason)
{
    struct sched_shutdown s = { .reason = reason };
    return HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
}
