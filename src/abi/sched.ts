/**
 * Scheduler operations (sched.h; C header: xen/sched.h): SCHEDOP_* commands of sched_op
 * (hypercall 29, pointer argument) and sched_op_compat (hypercall 6, value argument, cmds
 * 0-2 only), SHUTDOWN_* reasons and the argument structs.
 *
 * Invariants:
 * - SCHEDOP_block clears evtchn_upcall_mask before blocking and does not block if an event
 *   is already pending (closes the wake-up race).
 * - SHUTDOWN_suspend from a PV guest passes the MFN of its start_info as the third argument
 *   (EDX); the call returns 1 if the suspend was cancelled, 0 in the new domain.
 * - Timeouts are absolute Xen system time in ns (the vcpu_time_info clock), 0 = none.
 * - Source: shared/abi/hypercalls-x86_32.md §5.3.
 */
import { evtchn_port_t } from './event_channel.ts';
import { domid_t } from './xen.ts';
import { f, handle, struct, u32, u64, uint } from './layout.ts';

export * from './gen/sched.ts';

/** Give up the CPU. */
export const SCHEDOP_yield = 0;
/** Enable events and block until one is pending. */
export const SCHEDOP_block = 1;
/** Stop the domain with a SHUTDOWN_* reason (sched_shutdown). */
export const SCHEDOP_shutdown = 2;
/** Block until one of a set of ports is pending or a timeout (sched_poll). */
export const SCHEDOP_poll = 3;
/** Privileged: shut down another domain (sched_remote_shutdown). */
export const SCHEDOP_remote_shutdown = 4;
/** 4.1+: latch the reason for a later shutdown. */
export const SCHEDOP_shutdown_code = 5;
/** 4.1+: domain watchdog (sched_watchdog). */
export const SCHEDOP_watchdog = 6;
/** 4.x, dom0 only. */
export const SCHEDOP_pin_override = 7;

/** More ports than this in SCHEDOP_poll returns -EINVAL. */
export const SCHEDOP_POLL_MAX_PORTS = 128;

export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
/** 4.1+ */
export const SHUTDOWN_watchdog = 4;
/** 4.7+ */
export const SHUTDOWN_soft_reset = 5;
export const SHUTDOWN_MAX = 5;

export const sched_shutdown = struct('sched_shutdown', [
  f('reason', uint, 'SHUTDOWN_*', 'IN'),
], { size: 4 });

export const sched_poll = struct('sched_poll', [
  f('ports', handle(evtchn_port_t), 'ports to wait on', 'IN'),
  f('nr_ports', uint, '<= 128', 'IN'),
  f('timeout', u64, 'absolute system time in ns; 0 = none', 'IN'),
], { size: 16 });

export const sched_remote_shutdown = struct('sched_remote_shutdown', [
  f('domain_id', domid_t, 'domain to shut down', 'IN'),
  f('reason', uint, 'SHUTDOWN_*', 'IN'),
], { size: 8 });

export const sched_watchdog = struct('sched_watchdog', [
  f('id', u32, '0 = allocate a new watchdog; IN/OUT', 'IN/OUT'),
  f('timeout', u32, 'seconds; 0 = destroy the watchdog', 'IN'),
], { size: 8 });
