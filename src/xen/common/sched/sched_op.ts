/**
 * sched_op (29), sched_op_compat (6) and set_timer_op (15): Xen's common/sched/core.c
 * guest interface.
 *
 *   yield          give the pCPU to the next runnable vCPU (returns 0)
 *   block          clear the upcall mask, then block unless an event is already
 *                  deliverable (no lost wake-up); an event or timer wakes it
 *   poll           block until one of <= 128 ports is pending, an event is deliverable,
 *                  or the absolute timeout; returns 0 (an invalid port: -EINVAL)
 *   shutdown       stop the domain with the (u8) reason; shutdown_code latches one
 *   remote_shutdown  privileged (XSM_DM_PRIV): -ESRCH for a missing domain, else -EPERM
 *   watchdog       per-domain watchdogs (ids 1..2), SHUTDOWN_watchdog on expiry
 */
import { EFAULT, EINVAL, ENOSPC, ENOSYS, EPERM, ESRCH } from '../../../abi/errno.ts';
import {
  SCHEDOP_block, SCHEDOP_pin_override, SCHEDOP_poll, SCHEDOP_POLL_MAX_PORTS, SCHEDOP_remote_shutdown,
  SCHEDOP_shutdown, SCHEDOP_shutdown_code, SCHEDOP_watchdog, SCHEDOP_yield, SHUTDOWN_watchdog,
} from '../../../abi/sched.ts';
import type { Xen } from '../../xen.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';
import { guestOf } from '../kernel.ts';
import { Timer } from '../timer.ts';

function deliverable(xen: Xen, v: Vcpu): boolean {
  return xen.evtBits.upcallPending(v) && !xen.evtBits.upcallMasked(v);
}

/** vcpu_block_enable_events. */
export function blockEnableEvents(xen: Xen, v: Vcpu): void {
  xen.evtBits.setUpcallMask(v, false);
  if (deliverable(xen, v)) return;
  xen.sched.block(v);
  // An event may have become pending between the check and the block: re-check.
  if (deliverable(xen, v)) xen.sched.unblock(v);
}

function doPoll(xen: Xen, v: Vcpu, ports: number, nr: number, timeout: number): number {
  if (nr > SCHEDOP_POLL_MAX_PORTS) return -EINVAL;
  const mem = guestOf(v);
  if (deliverable(xen, v)) return 0;
  const list = new Int32Array(nr);
  const d = v.domain;
  for (let i = 0; i < nr; i++) {
    const port = xen.scratch.readU32(mem, ports + i * 4);
    if (port === null) return -EFAULT;
    if (!d.evtchn.portValid(port)) return -EINVAL;
    if (xen.evtBits.isPending(d, port)) return 0;
    list[i] = port;
  }
  xen.vcpuTimers.startPoll(v, list, timeout);
  return 0;
}

const watchdogs = new WeakMap<Domain, Array<Timer | null>>();
const NR_WATCHDOGS = 2;

function doWatchdog(xen: Xen, d: Domain, id: number, timeoutSec: number): number {
  let w = watchdogs.get(d);
  if (!w) {
    w = new Array<Timer | null>(NR_WATCHDOGS).fill(null);
    watchdogs.set(d, w);
  }
  const arm = (t: Timer): void => xen.timers.set(t, xen.time.now() + timeoutSec * 1e9);
  if (id === 0) {
    for (let i = 0; i < NR_WATCHDOGS; i++) {
      if (w[i] === null) {
        const t = new Timer(() => {
          xen.console.printk(`d${d.domid}: watchdog timeout`);
          xen.shutdownDomain(d, SHUTDOWN_watchdog);
        }, `d${d.domid}.watchdog${i + 1}`);
        w[i] = t;
        arm(t);
        return i + 1;
      }
    }
    return -ENOSPC;
  }
  const t = id >= 1 && id <= NR_WATCHDOGS ? w[id - 1] : null;
  if (!t) return -EINVAL;
  if (timeoutSec === 0) {
    xen.timers.stop(t);
    w[id - 1] = null;
  } else {
    arm(t);
  }
  return 0;
}

/** Stop a dying domain's watchdogs (a pending one would keep the clock from idling). */
export function destroyWatchdogs(xen: Xen, d: Domain): void {
  const w = watchdogs.get(d);
  if (!w) return;
  for (const t of w) if (t !== null) xen.timers.stop(t);
  watchdogs.delete(d);
}

export function doSchedOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const d = v.domain;
  const mem = guestOf(v);
  switch (cmd) {
    case SCHEDOP_yield:
      xen.sched.yield(v);
      return 0;
    case SCHEDOP_block:
      blockEnableEvents(xen, v);
      return 0;
    case SCHEDOP_shutdown: {
      const r = xen.scratch.readStruct(mem, arg, 4);
      if (r === null) return -EFAULT;
      xen.shutdownDomain(d, r.getUint32(0, true) & 0xff);
      return 0;
    }
    case SCHEDOP_shutdown_code: {
      const r = xen.scratch.readStruct(mem, arg, 4);
      if (r === null) return -EFAULT;
      if (d.latchedShutdownCode < 0) d.latchedShutdownCode = r.getUint32(0, true) & 0xff;
      return 0;
    }
    case SCHEDOP_poll: {
      const r = xen.scratch.readStruct(mem, arg, 16);
      if (r === null) return -EFAULT;
      const lo = r.getUint32(8, true), hi = r.getUint32(12, true);
      return doPoll(xen, v, r.getUint32(0, true), r.getUint32(4, true), lo + hi * 0x100000000);
    }
    case SCHEDOP_remote_shutdown: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const t = xen.domain(r.getUint16(0, true));
      if (t === undefined) return -ESRCH;
      if (!d.privileged) return -EPERM;
      xen.shutdownDomain(t, r.getUint32(4, true) & 0xff);
      return 0;
    }
    case SCHEDOP_watchdog: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      return doWatchdog(xen, d, r.getUint32(0, true), r.getUint32(4, true));
    }
    case SCHEDOP_pin_override:
      return d.privileged && d.domid === 0 ? 0 : -EPERM;
    default:
      return -ENOSYS;
  }
}

export function doSchedOpCompat(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  switch (cmd) {
    case SCHEDOP_yield:
      xen.sched.yield(v);
      return 0;
    case SCHEDOP_block:
      blockEnableEvents(xen, v);
      return 0;
    case SCHEDOP_shutdown:
      xen.shutdownDomain(v.domain, arg & 0xff);
      return 0;
    default:
      return -ENOSYS;
  }
}

/** set_timer_op: absolute deadline in ns (lo, hi); 0 stops; absurd values fire in 100 ms. */
export function doSetTimerOp(xen: Xen, v: Vcpu, lo: number, hi: number): number {
  const timeout = lo + (hi | 0) * 0x100000000;
  const now = xen.time.now();
  if (lo === 0 && hi === 0) {
    xen.vcpuTimers.setSingleshot(v, 0);
  } else if (timeout < 0 || timeout - now >= 2 ** 50) {
    xen.vcpuTimers.setSingleshot(v, now + 100_000_000);
  } else {
    xen.vcpuTimers.setSingleshot(v, Math.max(timeout, 1));
  }
  return 0;
}
