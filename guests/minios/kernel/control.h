/*
 * Domain lifecycle: the toolstack's control/shutdown requests (poweroff, reboot, halt,
 * suspend) and our own shutdown path (devices closed, verdict printed, SCHEDOP_shutdown).
 *
 * Suspend follows the PV protocol: acknowledge by clearing control/shutdown, quiesce I/O,
 * park secondary vCPUs, unmap Xen heap pages (shared_info, grant frames), turn the
 * store/console MFNs in start_info into PFNs, SCHEDOP_shutdown(SHUTDOWN_suspend) with the
 * start_info MFN in EDX. It returns 0 in a new (restored) domain: every event channel,
 * grant and xenstore watch is gone and is set up again; 1 when the suspend was
 * cancelled (or a checkpoint): the old domain carries on.
 */
#ifndef MINIOS_CONTROL_H
#define MINIOS_CONTROL_H
#include "minios/kernel/kernel.h"

/* Drivers and services that take part in suspend/resume and shutdown. */
struct lifecycle_ops {
    const char *name;
    void (*suspend)(void);            /* quiesce (events still on) */
    void (*resume)(int new_domain);   /* after the Xen state is back */
    void (*shutdown)(void);           /* close devices before poweroff/reboot */
};
void control_register(const struct lifecycle_ops *ops);

void control_init(void);
NORETURN void kernel_shutdown(unsigned reason, const char *why);
/* Suspend now (as if the toolstack asked); returns the hypercall's result. */
long kernel_suspend(void);
extern volatile uint32_t resume_count;      /* completed suspend/resume cycles */
/* A suspend/resume is in progress: device buses leave the devices to it (the grant table
 * and shared_info may be unmapped while pollers run). */
extern volatile int control_suspending;
extern volatile uint32_t resume_new_domain; /* of which into a new domain */

#endif
