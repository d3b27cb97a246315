/* PV console frontend (see console.h). */
#include "minios/xen/console.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/mm/mm.h"
#include <xen/io/console.h>

#define WAIT_YIELDS 200000

static volatile struct xencons_interface *ring;
static evtchn_port_t port;
int console_mirror_xen;
uint32_t console_dropped;

static char inq[256];
static unsigned inq_head, inq_tail;   /* free-running */

static void console_event(evtchn_port_t p, void *d)
{
    (void)p;
    (void)d;
}

static void console_poll(void)
{
    if (!ring) return;
    XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;
    rmb();
    if (prod - cons > sizeof(ring->in)) {   /* broken backend: drop everything */
        ring->in_cons = prod;
        return;
    }
    if (prod == cons) return;
    while (cons != prod && inq_tail - inq_head < sizeof(inq)) {
        inq[inq_tail++ % sizeof(inq)] = ring->in[MASK_XENCONS_IDX(cons, ring->in)];
        cons++;
    }
    mb();
    ring->in_cons = cons;
    xen_evtchn_send(port);
}

static void attach(void)
{
    unsigned long mfn = start_info->console.domU.mfn;
    unsigned long pfn = mfn_to_pfn(mfn);
    if (pfn >= nr_pages || p2m[pfn] != mfn) panic("console ring mfn %lx is not ours", mfn);
    port = start_info->console.domU.evtchn;
    ring = pfn_to_virt(pfn);
    evtchn_bind(port, 0, console_event, 0);
}

void console_init(void)
{
    attach();
    poller_register("console", console_poll);
}

void console_prepare_suspend(void)
{
    console_flush();
}

void console_resume(void)
{
    attach();
}

static void ring_write(const char *s, unsigned len, int crlf)
{
    volatile struct xencons_interface *r = ring;
    unsigned i = 0;
    int pending_cr = 0;
    while (i < len) {
        XENCONS_RING_IDX cons = r->out_cons, prod = r->out_prod;
        mb();
        if (prod - cons > sizeof(r->out)) {     /* broken indices */
            console_dropped += len - i;
            return;
        }
        unsigned space = sizeof(r->out) - (prod - cons);
        if (space < 2) {
            xen_evtchn_send(port);
            unsigned waited = 0;
            while (r->out_cons == cons && waited++ < WAIT_YIELDS) xen_yield();
            if (r->out_cons == cons) {
                console_dropped += len - i;
                return;
            }
            continue;
        }
        while (space >= 2 && i < len) {
            char ch = s[i];
            if (crlf && ch == '\n' && !pending_cr) {
                r->out[MASK_XENCONS_IDX(prod, r->out)] = '\r';
                prod++;
                space--;
                pending_cr = 1;
                continue;
            }
            pending_cr = 0;
            r->out[MASK_XENCONS_IDX(prod, r->out)] = ch;
            prod++;
            space--;
            i++;
        }
        wmb();
        r->out_prod = prod;
    }
    xen_evtchn_send(port);
}

void console_write(const char *s, unsigned len)
{
    if (!ring || console_mirror_xen) HYPERVISOR_console_io(CONSOLEIO_write, len, s);
    if (ring) ring_write(s, len, 1);
}

void console_write_emergency(const char *s, unsigned len)
{
    HYPERVISOR_console_io(CONSOLEIO_write, len, s);
    if (ring) ring_write(s, len, 1);
}

void console_flush(void)
{
    if (!ring) return;
    xen_evtchn_send(port);
    for (unsigned waited = 0; waited < WAIT_YIELDS; waited++) {
        if (ring->out_cons == ring->out_prod) return;
        xen_yield();
    }
}

int console_getc(void)
{
    if (inq_head == inq_tail) return -1;
    return (unsigned char)inq[inq_head++ % sizeof(inq)];
}

int console_has_input(void *unused)
{
    (void)unused;
    return inq_head != inq_tail;
}
