/*
 * Per-vCPU state and the SMP interface.
 *
 * Invariants:
 * - Every vCPU runs on its own STACK_SIZE-aligned stack whose lowest word points at its
 *   struct cpu, so this_cpu() is one mask of ESP (upcalls run on the interrupted stack).
 * - Only CPU 0 runs the event loop (pollers, shell, drivers). Secondary vCPUs run
 *   cpu_idle_loop() and do work CPU 0 asks for through IPIs (event channels bound with
 *   EVTCHNOP_bind_ipi), e.g. the `spin` workload or IPI ping-pong.
 * - `work` is set by the upcall handler whenever an event was dispatched on that vCPU;
 *   the event loop clears it before polling, so no event is left unpolled.
 */
#ifndef MINIOS_SMP_H
#define MINIOS_SMP_H
#include "minios/kernel/kernel.h"
#include <xen/event_channel.h>

#define MAX_CPUS 8
#define STACK_SIZE (32 * 1024)
#define STACK_CANARY 0x57ac4ca9U

/* IPI request bits (struct cpu.ipi_req). */
#define IPI_PING 1u      /* answer with IPI_PONG to CPU 0 */
#define IPI_PONG 2u
#define IPI_SPIN 4u      /* run the spin workload until spin_stop_ns */
#define IPI_PARK 8u      /* go down (VCPUOP_down) for suspend */
#define IPI_WAKE 16u     /* nothing to do: re-check whatever you wait for */

struct cpu {
    unsigned id;
    volatile struct vcpu_info *vi;
    volatile uint32_t work;
    volatile uint32_t ipi_req;
    evtchn_port_t timer_port;
    evtchn_port_t ipi_port;
    volatile int online;
    int parked;                       /* downed for a suspend by smp_park_secondaries */
    volatile uint64_t spin_iters;
    volatile int spinning;            /* set by CPU 0 with IPI_SPIN, cleared when done */
    volatile uint32_t pongs;
    uint32_t *stack_base;
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned nr_cpus;          /* vCPUs brought online (CPU 0 included) */
extern unsigned nr_vcpus_exist;   /* vCPUs the domain has */

static inline struct cpu *this_cpu(void)
{
    unsigned long sp;
    __asm__("movl %%esp, %0" : "=r"(sp));
    return *(struct cpu **)(sp & ~(unsigned long)(STACK_SIZE - 1));
}

/* smp.c */
void smp_init(void);                 /* find and start the other vCPUs */
void smp_send_ipi(unsigned cpu, uint32_t req);
void smp_park_secondaries(void);     /* before suspend */
void smp_unpark_secondaries(int new_domain);
int smp_ipi_pingpong(unsigned cpu, unsigned rounds, uint64_t *ns_total);
void spin_workload(uint64_t stop_ns); /* the per-CPU part of `spin` */
extern volatile uint64_t spin_stop_ns;

/* arch: stacks and the secondary entry point */
extern char cpu_stacks[MAX_CPUS][STACK_SIZE];
void secondary_entry(void);
void check_stack(void);

#endif
