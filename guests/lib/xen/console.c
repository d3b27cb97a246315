/*
 * PV console ring writer (see console.h for the invariants).
 *
 * Waiting is bounded: a backend that stops reading must not hang a test kernel, so after
 * XEN_CONSOLE_WAIT_YIELDS yields without progress the writer drops bytes and counts them.
 */
#include "console.h"
#include "hypercall.h"

#define XEN_CONSOLE_WAIT_YIELDS 100000

struct xen_console xen_console;

static inline void wmb(void) { __asm__ volatile("" ::: "memory"); }
static inline void rmb(void) { __asm__ volatile("" ::: "memory"); }

static void notify(void)
{
    struct evtchn_send send = { .port = xen_console.port };
    HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

void xen_console_init(volatile struct xencons_interface *ring, evtchn_port_t port)
{
    xen_console.ring = ring;
    xen_console.port = port;
    xen_console.dropped = 0;
}

void xen_console_write(const char *buf, unsigned len)
{
    volatile struct xencons_interface *r = xen_console.ring;
    if (!r) return;
    unsigned i = 0;
    while (i < len) {
        XENCONS_RING_IDX cons = r->out_cons, prod = r->out_prod;
        rmb();
        unsigned space = sizeof(r->out) - (prod - cons);
        if (space > sizeof(r->out)) space = 0; /* corrupt indices: treat as full */
        if (space == 0) {
            notify();
            unsigned waited = 0;
            while (r->out_cons == cons && waited < XEN_CONSOLE_WAIT_YIELDS) {
                xen_yield();
                waited++;
            }
            if (r->out_cons == cons) {
                xen_console.dropped += len - i;
                return;
            }
            continue;
        }
        while (space && i < len) {
            r->out[MASK_XENCONS_IDX(prod, r->out)] = buf[i++];
            prod++;
            space--;
        }
        wmb();
        r->out_prod = prod;
        notify();
    }
}

int xen_console_flush(void)
{
    volatile struct xencons_interface *r = xen_console.ring;
    if (!r) return 0;
    notify();
    for (unsigned waited = 0; waited < XEN_CONSOLE_WAIT_YIELDS; waited++) {
        if (r->out_cons == r->out_prod) return 1;
        xen_yield();
    }
    return r->out_cons == r->out_prod;
}

unsigned xen_console_read(char *buf, unsigned max)
{
    volatile struct xencons_interface *r = xen_console.ring;
    if (!r) return 0;
    XENCONS_RING_IDX cons = r->in_cons, prod = r->in_prod;
    rmb();
    /* Corrupt indices (more than the ring holds) are treated as an empty ring. */
    if (prod - cons > sizeof(r->in)) return 0;
    unsigned n = 0;
    while (cons != prod && n < max) buf[n++] = r->in[MASK_XENCONS_IDX(cons++, r->in)];
    wmb();
    r->in_cons = cons;
    if (n) notify();
    return n;
}
