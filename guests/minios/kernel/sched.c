/* The event loop and time (see sched.h). */
#include "minios/kernel/sched.h"
#include "minios/kernel/events.h"
#include "lib/xen/time.h"
#include <xen/vcpu.h>

#define MAX_POLLERS 16

struct poller {
    const char *name;
    poll_fn fn;
    int busy;
};

static struct poller pollers[MAX_POLLERS];
static unsigned nr_pollers;
static uint64_t poll_deadline;

uint64_t now_ns(void)
{
    return xen_system_time(&this_cpu()->vi->time);
}

static void timer_handler(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
}

void stop_periodic_tick(unsigned cpu)
{
    long rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, cpu, 0);
    if (rc) printk("VCPUOP_stop_periodic_timer(%u): %ld\n", cpu, rc);
}

void time_init_cpu(void)
{
    struct cpu *c = this_cpu();
    stop_periodic_tick(c->id);
    long port = bind_virq_to_cpu(VIRQ_TIMER, c->id, timer_handler, 0);
    if (port < 0) panic("bind VIRQ_TIMER on cpu %u: %ld", c->id, port);
    c->timer_port = (evtchn_port_t)port;
}

void block_until(uint64_t deadline)
{
    struct cpu *c = this_cpu();
    volatile struct vcpu_info *vi = c->vi;
    vi->evtchn_upcall_mask = 1;
    barrier();
    if (c->work || vi->evtchn_upcall_pending) {
        local_irq_restore(0);
        return;
    }
    HYPERVISOR_set_timer_op(deadline);
    /* Unmasks events and sleeps unless one is pending; the upcall runs on return. */
    HYPERVISOR_sched_op(SCHEDOP_block, 0);
    if (vi->evtchn_upcall_mask) local_irq_restore(0);
}

void poller_register(const char *name, poll_fn fn)
{
    if (nr_pollers >= MAX_POLLERS) panic("too many pollers (%s)", name);
    pollers[nr_pollers].name = name;
    pollers[nr_pollers].fn = fn;
    pollers[nr_pollers].busy = 0;
    nr_pollers++;
}

void poll_wake_at(uint64_t t)
{
    if (!poll_deadline || t < poll_deadline) poll_deadline = t;
}

void run_pollers(void)
{
    if (this_cpu()->id != 0) return;
    check_stack();
    poll_deadline = 0;
    for (unsigned i = 0; i < nr_pollers; i++) {
        struct poller *p = &pollers[i];
        if (p->busy) continue;
        p->busy = 1;
        p->fn();
        p->busy = 0;
    }
}

/* A wait_for inside a poller (e.g. for a xenstore reply) runs its own polling rounds,
 * which reset poll_deadline: the deadlines the enclosing round's pollers had asked for
 * so far are put back when it returns, or the enclosing wait would sleep past them. */
static int wait_done(uint64_t outer, int rc)
{
    if (outer) poll_wake_at(outer);
    return rc;
}

int wait_for(int (*cond)(void *), void *arg, uint64_t timeout)
{
    struct cpu *c = this_cpu();
    uint64_t outer = poll_deadline;
    uint64_t deadline = timeout ? now_ns() + timeout : 0;
    for (;;) {
        c->work = 0;
        run_pollers();
        if (cond && cond(arg)) return wait_done(outer, 1);
        if (deadline && now_ns() >= deadline) return wait_done(outer, 0);
        uint64_t wake = deadline;
        if (poll_deadline && (!wake || poll_deadline < wake)) wake = poll_deadline;
        block_until(wake);
    }
}

void sleep_ns(uint64_t ns)
{
    wait_for(0, 0, ns ? ns : 1);
}
