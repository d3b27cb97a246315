/*
 * Secondary vCPUs: discovery, start-up with VCPUOP_initialise/up, IPIs over event
 * channels (one EVTCHNOP_bind_ipi port per vCPU), the spin workload, and parking for
 * suspend.
 *
 * Invariants:
 * - CPU 0 binds every vCPU's VIRQ_TIMER and IPI port before starting it; the ports are
 *   dispatched only on their own vCPU (events.c), so a secondary never runs CPU 0's
 *   handlers.
 * - IPI requests are bits in the target's ipi_req word, set (locked) before the event
 *   is sent; PING/PONG are answered in the upcall (they measure IPI latency), SPIN and
 *   PARK are picked up by the idle loop.
 * - A vCPU that comes online (start, or up again after a park) sends IPI_WAKE to CPU 0,
 *   which may be blocked in wait_for(online_cond): without it CPU 0 slept until the
 *   wait's deadline (5 s on refxen whenever no other event happened to arrive).
 * - A parked vCPU is down (VCPUOP_down on itself). After a cancelled suspend
 *   VCPUOP_up resumes it where it stopped; in a new domain it may have no context
 *   (the saver keeps only online vCPUs), so it is initialised afresh.
 */
#include "minios/kernel/smp.h"
#include "minios/kernel/events.h"
#include "minios/kernel/sched.h"
#include "minios/arch/x86_32/traps.h"
#include "minios/mm/mm.h"
#include "minios/xen/xenbus.h"
#include <xen/vcpu.h>

#define B_PING 0
#define B_PONG 1
#define B_SPIN 2
#define B_PARK 3
#define B_WAKE 4

/* How long CPU 0 waits for a vCPU to come up or park. The vCPU's IPI_WAKE ends the wait
 * as soon as it happened; the bound only matters on a host so loaded (nested TCG) that Xen
 * has not run the vCPU yet. */
#define CPU_WAIT_NS (30 * NSEC_PER_SEC)

unsigned nr_cpus = 1, nr_vcpus_exist = 1;
volatile uint64_t spin_stop_ns;
static struct vcpu_guest_context ctxt;

static void ipi_handler(evtchn_port_t port, void *data)
{
    (void)port;
    struct cpu *c = data;
    if (test_and_clear_bit(B_PING, &c->ipi_req)) {
        set_bit(B_PONG, &cpus[0].ipi_req);
        xen_evtchn_send(cpus[0].ipi_port);
    }
    if (test_and_clear_bit(B_PONG, &c->ipi_req)) c->pongs++;
    test_and_clear_bit(B_WAKE, &c->ipi_req);   /* the upcall itself woke the event loop */
}

static void bind_cpu_ports(unsigned id)
{
    struct cpu *c = &cpus[id];
    stop_periodic_tick(id);
    long port = bind_virq_to_cpu(VIRQ_TIMER, id, 0, 0);
    if (port < 0) panic("bind VIRQ_TIMER for cpu %u: %ld", id, port);
    c->timer_port = (evtchn_port_t)port;
    evtchn_port_t ipi;
    long rc = xen_evtchn_bind_ipi(id, &ipi);
    if (rc) panic("bind_ipi for cpu %u: %ld", id, rc);
    c->ipi_port = ipi;
    evtchn_bind(ipi, id, ipi_handler, c);
}

/* Every vCPU runs the same loop (so per-vCPU counts compare scheduling, not code): batches
 * of 4096 xorshift steps, the clock read every 16 batches, CPU 0 also serving events. */
void spin_workload(uint64_t stop)
{
    struct cpu *c = this_cpu();
    uint32_t x = c->id + 1;
    uint64_t iters = 0, next_report = stop ? 0 : now_ns() + 10 * NSEC_PER_SEC;
    c->spin_iters = 0;
    for (unsigned batch = 1;; batch++) {
        for (unsigned i = 0; i < 4096; i++) x = xorshift32(x);
        iters += 4096;
        c->spin_iters = iters;
        if (c->id == 0 && c->work) {
            c->work = 0;
            run_pollers();
        }
        if (spin_stop_ns != stop) break;     /* aborted */
        if (batch % 16) continue;
        uint64_t t = now_ns();
        if (stop && t >= stop) break;
        if (!stop && c->id == 0 && t >= next_report) {
            printk("SPIN progress");
            for (unsigned i = 0; i < MAX_CPUS; i++)
                if (cpus[i].online) printk(" cpu%u=%llu", i, (unsigned long long)cpus[i].spin_iters);
            printk("\n");
            next_report = t + 10 * NSEC_PER_SEC;
        }
    }
    __asm__ volatile("" : : "r"(x));
    c->spinning = 0;
    if (c->id != 0) smp_send_ipi(0, IPI_WAKE);   /* CPU 0 may be waiting for us */
}

static NORETURN void idle_loop(void)
{
    struct cpu *c = this_cpu();
    for (;;) {
        c->work = 0;
        if (test_and_clear_bit(B_SPIN, &c->ipi_req)) spin_workload(spin_stop_ns);
        if (test_and_clear_bit(B_PARK, &c->ipi_req)) {
            c->online = 0;
            mb();
            smp_send_ipi(0, IPI_WAKE);      /* CPU 0 waits in wait_for(offline_cond) */
            HYPERVISOR_vcpu_op(VCPUOP_down, c->id, 0);
            c->online = 1;             /* VCPUOP_up after a cancelled suspend */
            mb();
            smp_send_ipi(0, IPI_WAKE);
            continue;
        }
        check_stack();
        block_until(0);
    }
}

void secondary_start(void);
void secondary_start(void)
{
    struct cpu *c = this_cpu();
    c->online = 1;
    mb();
    smp_send_ipi(0, IPI_WAKE);      /* CPU 0 may be blocked in wait_for(online_cond) */
    local_irq_enable();
    idle_loop();
}

static long start_cpu(unsigned id)
{
    struct cpu *c = &cpus[id];
    c->id = id;
    c->stack_base = (uint32_t *)cpu_stacks[id];
    c->stack_base[0] = (uint32_t)(uintptr_t)c;
    c->stack_base[1] = STACK_CANARY;
    memset(&ctxt, 0, sizeof(ctxt));
    ctxt.flags = VGCF_in_kernel;
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ds = ctxt.user_regs.es = ctxt.user_regs.ss = FLAT_KERNEL_DS;
    ctxt.user_regs.eip = (unsigned long)secondary_entry;
    ctxt.user_regs.esp = (unsigned long)(cpu_stacks[id] + STACK_SIZE);
    ctxt.user_regs.eflags = 0x200;
    trap_fill_context(ctxt.trap_ctxt);
    ctxt.kernel_ss = FLAT_KERNEL_SS;
    ctxt.kernel_sp = ctxt.user_regs.esp;
    ctxt.event_callback_cs = FLAT_KERNEL_CS;
    ctxt.event_callback_eip = (unsigned long)hypervisor_callback;
    ctxt.failsafe_callback_cs = FLAT_KERNEL_CS;
    ctxt.failsafe_callback_eip = (unsigned long)failsafe_callback;
    ctxt.ctrlreg[3] = xen_pfn_to_cr3(l3_mfn());
    long rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &ctxt);
    if (rc) return rc;
    return HYPERVISOR_vcpu_op(VCPUOP_up, id, 0);
}

static int online_cond(void *p) { return ((struct cpu *)p)->online; }

static void bind_cpu0_ipi(void)
{
    evtchn_port_t ipi;
    long rc = xen_evtchn_bind_ipi(0, &ipi);
    if (rc) panic("bind_ipi for cpu 0: %ld", rc);
    cpus[0].ipi_port = ipi;
    evtchn_bind(ipi, 0, ipi_handler, &cpus[0]);
}

void smp_init(void)
{
    cpus[0].stack_base[0] = (uint32_t)(uintptr_t)&cpus[0];
    uint64_t t0 = now_ns();
    bind_cpu0_ipi();
    long rc;

    for (unsigned id = 1; id < MAX_CPUS; id++) {
        if (HYPERVISOR_vcpu_op(VCPUOP_is_up, id, 0) < 0) break;
        nr_vcpus_exist = id + 1;
        char path[32], avail[16];
        snprintf(path, sizeof(path), "cpu/%u/availability", id);
        if (xb_read(XBT_NIL, path, avail, sizeof(avail)) >= 0 && !strcmp(avail, "offline")) continue;
        bind_cpu_ports(id);
        rc = start_cpu(id);
        if (rc) {
            printk("smp: cannot start vcpu %u: %ld\n", id, rc);
            continue;
        }
        if (!wait_for(online_cond, &cpus[id], CPU_WAIT_NS)) {
            printk("smp: vcpu %u did not come up\n", id);
            continue;
        }
        nr_cpus++;
    }
    printk("smp: %u of %u vCPUs online in %llu us\n", nr_cpus, nr_vcpus_exist,
           (unsigned long long)((now_ns() - t0) / 1000));
}

void smp_send_ipi(unsigned id, uint32_t req)
{
    for (unsigned b = 0; b < 5; b++)
        if (req & (1u << b)) set_bit(b, &cpus[id].ipi_req);
    xen_evtchn_send(cpus[id].ipi_port);
}

struct pong_arg { uint32_t seen; };
static int pong_cond(void *p) { return cpus[0].pongs != ((struct pong_arg *)p)->seen; }

int smp_ipi_pingpong(unsigned id, unsigned rounds, uint64_t *ns_total)
{
    if (id == 0 || id >= MAX_CPUS || !cpus[id].online) return -XEN_EINVAL;
    uint64_t t0 = now_ns();
    for (unsigned r = 0; r < rounds; r++) {
        struct pong_arg a = { cpus[0].pongs };
        smp_send_ipi(id, IPI_PING);
        if (!wait_for(pong_cond, &a, NSEC_PER_SEC)) return -XEN_ETIME;
    }
    *ns_total = now_ns() - t0;
    return 0;
}

static int offline_cond(void *p) { return !((struct cpu *)p)->online; }

void smp_park_secondaries(void)
{
    for (unsigned id = 1; id < MAX_CPUS; id++) {
        if (!cpus[id].online) continue;
        smp_send_ipi(id, IPI_PARK);
        if (!wait_for(offline_cond, &cpus[id], CPU_WAIT_NS)) {
            printk("smp: vcpu %u did not park\n", id);
            continue;
        }
        /* Wait until Xen has it down (online is cleared just before the hypercall). */
        for (unsigned i = 0; i < 1000000 && HYPERVISOR_vcpu_op(VCPUOP_is_up, id, 0) == 1; i++)
            xen_yield();
        cpus[id].parked = 1;
    }
}

void smp_unpark_secondaries(int new_domain)
{
    if (new_domain) bind_cpu0_ipi();      /* every port died with the old domain */
    for (unsigned id = 1; id < MAX_CPUS; id++) {
        if (!cpus[id].parked) continue;
        cpus[id].parked = 0;
        cpus[id].ipi_req = 0;
        if (new_domain) bind_cpu_ports(id);
        long rc = HYPERVISOR_vcpu_op(VCPUOP_up, id, 0);
        if (rc) rc = start_cpu(id);
        if (rc || !wait_for(online_cond, &cpus[id], CPU_WAIT_NS)) {
            printk("smp: vcpu %u did not come back (%ld)\n", id, rc);
            nr_cpus--;
        }
    }
}
