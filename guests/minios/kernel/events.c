/*
 * Event-channel dispatch (see events.h). The upcall follows the 2-level protocol of the
 * ABI sheet: clear evtchn_upcall_pending, swap evtchn_pending_sel with 0, then for each
 * selected word handle pending & ~mask, clearing each pending bit before its handler;
 * repeat while Xen raised evtchn_upcall_pending again.
 */
#include "minios/kernel/events.h"
#include "minios/arch/x86_32/traps.h"

struct port_info {
    evtchn_handler_t handler;
    void *data;
    uint8_t cpu;
    uint8_t bound;
    volatile uint32_t count;
};

static struct port_info ports[NR_EVTCHN_PORTS];

void events_init(void)
{
    /* Mask everything: ports left over from the builder or a previous life stay quiet. */
    for (unsigned w = 0; w < NR_EVTCHN_PORTS / 32; w++) shared_info->evtchn_mask[w] = ~0U;
    memset(ports, 0, sizeof(ports));
}

void force_evtchn_callback(void)
{
    /* Any hypercall returns through Xen's event check. */
    HYPERVISOR_xen_version(0, 0);
}

void do_hypervisor_callback(struct trap_frame *f);
void do_hypervisor_callback(struct trap_frame *f)
{
    (void)f;
    struct cpu *c = this_cpu();
    volatile struct vcpu_info *vi = c->vi;
    while (vi->evtchn_upcall_pending) {
        vi->evtchn_upcall_pending = 0;
        uint32_t sel = xchg32((volatile uint32_t *)&vi->evtchn_pending_sel, 0);
        while (sel) {
            unsigned w = lowest_bit(sel);
            sel &= sel - 1;
            uint32_t pend = shared_info->evtchn_pending[w] & ~shared_info->evtchn_mask[w];
            while (pend) {
                unsigned b = lowest_bit(pend);
                pend &= pend - 1;
                evtchn_port_t port = w * 32 + b;
                struct port_info *p = &ports[port];
                if (p->cpu != c->id) continue;      /* another vCPU's port */
                test_and_clear_bit(port, (volatile uint32_t *)shared_info->evtchn_pending);
                p->count++;
                if (p->handler) p->handler(port, p->data);
            }
        }
    }
    c->work = 1;
}

void evtchn_bind(evtchn_port_t port, unsigned cpu, evtchn_handler_t h, void *data)
{
    if (port >= NR_EVTCHN_PORTS) panic("evtchn_bind: port %u", port);
    struct port_info *p = &ports[port];
    p->handler = h;
    p->data = data;
    p->cpu = (uint8_t)cpu;
    p->count = 0;
    p->bound = 1;
    wmb();
    long rc = xen_evtchn_unmask(port);
    if (rc) panic("EVTCHNOP_unmask(%u): %ld", port, rc);
}

void evtchn_unbind(evtchn_port_t port)
{
    if (port >= NR_EVTCHN_PORTS) return;
    set_bit(port, (volatile uint32_t *)shared_info->evtchn_mask);
    ports[port].handler = 0;
    ports[port].bound = 0;
}

void evtchn_close_port(evtchn_port_t port)
{
    evtchn_unbind(port);
    xen_evtchn_close(port);
}

void evtchn_forget_all(void)
{
    for (unsigned p = 0; p < NR_EVTCHN_PORTS; p++) {
        ports[p].handler = 0;
        ports[p].bound = 0;
    }
    for (unsigned w = 0; w < NR_EVTCHN_PORTS / 32; w++) shared_info->evtchn_mask[w] = ~0U;
}

uint32_t evtchn_count(evtchn_port_t port)
{
    return port < NR_EVTCHN_PORTS ? ports[port].count : 0;
}

void evtchn_notify(evtchn_port_t port)
{
    long rc = xen_evtchn_send(port);
    if (rc) printk("EVTCHNOP_send(%u): %ld\n", port, rc);
}

long bind_virq_to_cpu(uint32_t virq, unsigned cpu, evtchn_handler_t h, void *data)
{
    evtchn_port_t port;
    long rc = xen_evtchn_bind_virq(virq, cpu, &port);
    if (rc) return rc;
    evtchn_bind(port, cpu, h, data);
    return port;
}

long alloc_unbound_port(domid_t remote, evtchn_handler_t h, void *data)
{
    evtchn_port_t port;
    long rc = xen_evtchn_alloc_unbound(remote, &port);
    if (rc) return rc;
    evtchn_bind(port, 0, h, data);
    return port;
}
