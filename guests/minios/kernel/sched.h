/*
 * Time and the event loop.
 *
 * minios runs one event loop on CPU 0 (documented in docs/minios.md): code that must
 * wait calls wait_for(), which runs every registered poller (xenbus, console input,
 * control, balloon, block and network rings, the IP stack), checks the condition, and
 * otherwise blocks the vCPU in SCHEDOP_block until an event or the earliest deadline.
 * So the network answers pings while the shell waits for a key, and a toolstack
 * shutdown request is honoured while a command sleeps.
 *
 * Invariants:
 * - Pollers never block on their own work; a poller may call wait_for (e.g. to wait for
 *   a xenstore reply) and is then not re-entered until it returns (busy flag).
 * - Between clearing cpu.work and blocking, events are masked; an event that arrived
 *   after the pollers ran keeps evtchn_upcall_pending set and SCHEDOP_block returns at
 *   once, so no wake-up is lost.
 * - No vCPU keeps Xen's default 100 Hz periodic VIRQ_TIMER (stopped at start and after a
 *   restore): every wake-up is an event or a deadline asked for, so a missing wake-up
 *   shows as a stall on tsxen too (real Xen never ticks a blocked vCPU; tsxen did).
 */
#ifndef MINIOS_SCHED_H
#define MINIOS_SCHED_H
#include "minios/kernel/kernel.h"

uint64_t now_ns(void);
void time_init_cpu(void);            /* bind this vCPU's VIRQ_TIMER */
void stop_periodic_tick(unsigned cpu); /* no 100 Hz VIRQ_TIMER: waits use deadlines only */
void block_until(uint64_t deadline_ns);   /* 0: no deadline */

typedef void (*poll_fn)(void);
void poller_register(const char *name, poll_fn fn);
void run_pollers(void);
/* A poller asks to be run again no later than t (absolute ns). */
void poll_wake_at(uint64_t t);

/* Run the loop until cond(arg) or timeout (ns, 0 = forever). 1 if cond became true. */
int wait_for(int (*cond)(void *), void *arg, uint64_t timeout_ns);
void sleep_ns(uint64_t ns);
static inline void msleep(unsigned ms) { sleep_ns((uint64_t)ms * 1000000ULL); }

#endif
