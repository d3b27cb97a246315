/*
 * Event channels: the port table, upcall dispatch and binding helpers (2-level ABI).
 *
 * Invariants:
 * - A port is dispatched only on the vCPU it is bound to (ports[p].cpu); the pending bit
 *   is cleared (locked) before its handler runs, so an event arriving during the handler
 *   re-raises it.
 * - Handlers run in upcall context with events masked: they must not block, print or
 *   allocate. Most only count; the event loop polls the device.
 * - local_irq_save/restore mask events on the current vCPU through vcpu_info; restoring
 *   to unmasked with an upcall pending forces delivery with a cheap hypercall.
 */
#ifndef MINIOS_EVENTS_H
#define MINIOS_EVENTS_H
#include "minios/kernel/smp.h"
#include "lib/xen/evtchn.h"

#define NR_EVTCHN_PORTS 1024

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);

void events_init(void);
/* Route port to handler on cpu and unmask it. */
void evtchn_bind(evtchn_port_t port, unsigned cpu, evtchn_handler_t h, void *data);
/* Mask the port and forget it (the channel itself stays open). */
void evtchn_unbind(evtchn_port_t port);
/* Unbind and EVTCHNOP_close. */
void evtchn_close_port(evtchn_port_t port);
/* Forget every binding without closing (after resume into a new domain: all are gone). */
void evtchn_forget_all(void);
uint32_t evtchn_count(evtchn_port_t port);
void evtchn_notify(evtchn_port_t port);

/* VIRQ and unbound-port helpers; return the port or a negative Xen errno. */
long bind_virq_to_cpu(uint32_t virq, unsigned cpu, evtchn_handler_t h, void *data);
long alloc_unbound_port(domid_t remote, evtchn_handler_t h, void *data);

static inline unsigned long local_irq_save(void)
{
    volatile struct vcpu_info *vi = this_cpu()->vi;
    unsigned long f = vi->evtchn_upcall_mask;
    vi->evtchn_upcall_mask = 1;
    barrier();
    return f;
}

void force_evtchn_callback(void);

static inline void local_irq_restore(unsigned long f)
{
    volatile struct vcpu_info *vi = this_cpu()->vi;
    barrier();
    vi->evtchn_upcall_mask = (uint8_t)f;
    barrier();
    if (!f && vi->evtchn_upcall_pending) force_evtchn_callback();
}

static inline void local_irq_enable(void) { local_irq_restore(0); }

#endif
