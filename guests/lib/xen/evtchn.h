/*
 * Event channels from the guest side, 2-level ABI (x86_32: 32 words x 32 bits = 1024 ports).
 *
 * Invariants: pending/mask bits live in shared_info and are changed only with locked bit
 * instructions (Xen updates them concurrently); a port's selector bit in
 * vcpu_info.evtchn_pending_sel is word = port / 32. Clearing a pending bit never loses
 * an event because the guest rescans after clearing evtchn_upcall_pending.
 */
#ifndef XEN_LIB_EVTCHN_H
#define XEN_LIB_EVTCHN_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/event_channel.h>

#define XEN_EVTCHN_WORD_BITS 32

static inline int xen_test_and_clear_bit(unsigned nr, volatile void *addr)
{
    int old;
    __asm__ volatile("lock btrl %2, %1; sbbl %0, %0" : "=r"(old), "+m"(*(volatile uint32_t *)addr)
                     : "Ir"(nr) : "memory");
    return old != 0;
}

static inline int xen_test_and_set_bit(unsigned nr, volatile void *addr)
{
    int old;
    __asm__ volatile("lock btsl %2, %1; sbbl %0, %0" : "=r"(old), "+m"(*(volatile uint32_t *)addr)
                     : "Ir"(nr) : "memory");
    return old != 0;
}

static inline int xen_test_bit(unsigned nr, const volatile void *addr)
{
    return (((const volatile uint32_t *)addr)[nr / 32] >> (nr % 32)) & 1;
}

static inline void xen_set_bit(unsigned nr, volatile void *addr)
{
    __asm__ volatile("lock btsl %1, %0" : "+m"(*(volatile uint32_t *)addr) : "Ir"(nr) : "memory");
}

static inline void xen_clear_bit(unsigned nr, volatile void *addr)
{
    __asm__ volatile("lock btrl %1, %0" : "+m"(*(volatile uint32_t *)addr) : "Ir"(nr) : "memory");
}

long xen_evtchn_send(evtchn_port_t port);
long xen_evtchn_close(evtchn_port_t port);
long xen_evtchn_unmask(evtchn_port_t port);
/* Bind; on success the new local port is stored in *port. */
long xen_evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long xen_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long xen_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long xen_evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                                 evtchn_port_t *port);
/* alloc_unbound in domain `dom` (DOMID_SELF, or another domain with privilege). */
long xen_evtchn_alloc_unbound_in(domid_t dom, domid_t remote, evtchn_port_t *port);
long xen_evtchn_bind_pirq(uint32_t pirq, uint32_t flags, evtchn_port_t *port);
long xen_evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
/* EVTCHNOP_status of dom:port into *out. */
long xen_evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *out);
long xen_evtchn_reset(domid_t dom);
/* The legacy form (hypercall 16, struct evtchn_op): any command, OUT fields in *op. */
long xen_evtchn_op_compat(struct evtchn_op *op);

/* Pending/mask bits of a port in a mapped shared_info. */
static inline int xen_evtchn_pending(const volatile struct shared_info *s, evtchn_port_t p)
{ return xen_test_bit(p, s->evtchn_pending); }
static inline int xen_evtchn_clear(volatile struct shared_info *s, evtchn_port_t p)
{ return xen_test_and_clear_bit(p % 32, &s->evtchn_pending[p / 32]); }
static inline void xen_evtchn_mask(volatile struct shared_info *s, evtchn_port_t p)
{ xen_set_bit(p % 32, &s->evtchn_mask[p / 32]); }

#endif
