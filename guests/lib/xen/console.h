/*
 * The PV console of a domU: the xencons_interface ring page whose MFN and event channel
 * the domain builder put in start_info (console.domU). The backend (xenconsoled in a
 * real dom0) consumes out[] and advances out_cons.
 *
 * Invariants: this side only ever writes out[], out_prod, and in_cons; indices are free
 * running (masked on use); the byte is stored before out_prod is published (write
 * barrier), and the backend is notified after publishing.
 */
#ifndef XEN_LIB_CONSOLE_H
#define XEN_LIB_CONSOLE_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/io/console.h>

struct xen_console {
    volatile struct xencons_interface *ring;
    evtchn_port_t port;
    /* Bytes dropped because the backend stopped consuming (never blocks forever). */
    uint32_t dropped;
};

extern struct xen_console xen_console;

void xen_console_init(volatile struct xencons_interface *ring, evtchn_port_t port);
/* Queue len bytes; waits (yielding) while the ring is full, for a bounded time. */
void xen_console_write(const char *buf, unsigned len);
/* Wait until the backend consumed everything (bounded spin + yield). Returns 1 if drained. */
int xen_console_flush(void);
/* Take up to max bytes the backend put in the input ring (never waits); returns the count. */
unsigned xen_console_read(char *buf, unsigned max);

#endif
