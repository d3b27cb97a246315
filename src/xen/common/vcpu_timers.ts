/**
 * Per-vCPU timers (Xen's v->singleshot_timer, periodic_timer, poll_timer) on the
 * hypervisor's TimerQueue:
 *   singleshot  set_timer_op / VCPUOP_set_singleshot_timer: one absolute deadline; on
 *               expiry VIRQ_TIMER is raised on the vCPU.
 *   periodic    VIRQ_TIMER every period (10 ms by default; VCPUOP_set/stop_periodic_timer),
 *               re-checked whenever the vCPU is scheduled in, as Xen does.
 *   poll        SCHEDOP_poll's timeout: wakes the vCPU (the poll returns 0 either way).
 * Raising the VIRQ sets the port pending, which kicks a blocked vCPU awake.
 */
import { VIRQ_TIMER } from '../../abi/xen.ts';
import { Timer } from './timer.ts';
import type { Vcpu } from './vcpu.ts';
import type { Xen } from '../xen.ts';

/** Xen's default period of a vCPU's periodic timer (10 ms, 100 Hz). */
export const DEFAULT_PERIODIC_NS = 10_000_000;

export class VcpuTimers {
  constructor(private readonly _xen: Xen) {}

  init(v: Vcpu): void {
    v.singleshot = new Timer(() => this._xen.evtchn.sendVcpuVirq(v, VIRQ_TIMER), `${v}.singleshot`);
    v.periodic = new Timer(() => this.periodicWork(v), `${v}.periodic`);
    // Every guest vCPU starts with Xen's default 10 ms periodic VIRQ_TIMER.
    if (v.domain.kind !== 'native') v.periodicPeriodNs = DEFAULT_PERIODIC_NS;
    v.pollTimer = new Timer(() => this.pollWake(v), `${v}.poll`);
  }

  /** Arm the singleshot timer at absolute `deadline` (0 = stop); a past one fires now. */
  setSingleshot(v: Vcpu, deadline: number): void {
    if (v.singleshot === null) return;
    this._xen.timers.stop(v.singleshot);
    if (deadline === 0) return;
    if (deadline <= this._xen.time.now()) this._xen.evtchn.sendVcpuVirq(v, VIRQ_TIMER);
    else this._xen.timers.set(v.singleshot, deadline);
  }

  /** vcpu_set_periodic_timer: period in ns (0 = off), counted from now. */
  setPeriodic(v: Vcpu, periodNs: number): void {
    if (v.periodic === null) return;
    const now = this._xen.time.now();
    v.periodicPeriodNs = periodNs;
    if (periodNs !== 0) v.periodicLastEvent = now;
    this._xen.timers.stop(v.periodic);
    if (periodNs !== 0 && v.running) this._xen.timers.set(v.periodic, now + periodNs);
  }

  /**
   * vcpu_periodic_timer_work: on the timer and whenever the vCPU is scheduled in, send the
   * tick if a period has passed since the last one, and arm the next.
   */
  periodicWork(v: Vcpu): void {
    if (v.periodic === null || v.periodicPeriodNs === 0) return;
    const now = this._xen.time.now();
    let next = v.periodicLastEvent + v.periodicPeriodNs;
    if (now >= next) {
      this._xen.evtchn.sendVcpuVirq(v, VIRQ_TIMER);
      v.periodicLastEvent = now;
      next = now + v.periodicPeriodNs;
    }
    this._xen.timers.set(v.periodic, next);
  }

  /**
   * The vCPU leaves its pCPU: its periodic timer stops, as Xen's schedule() stops
   * prev->periodic_timer. A blocked vCPU therefore gets no ticks; periodicWork sends the
   * one it missed (if a period has passed) when it is scheduled in again.
   */
  switchedOut(v: Vcpu): void {
    if (v.periodic !== null) this._xen.timers.stop(v.periodic);
  }

  /** Start polling `ports` (blocked until one is pending or the timeout). */
  startPoll(v: Vcpu, ports: Int32Array, timeout: number): void {
    v.pollPorts = ports;
    if (timeout !== 0 && v.pollTimer !== null) this._xen.timers.set(v.pollTimer, timeout);
    this._xen.sched.block(v);
  }

  /** A polled port fired or the timeout passed. */
  pollWake(v: Vcpu): void {
    if (v.pollPorts === null) return;
    v.pollPorts = null;
    if (v.pollTimer !== null) this._xen.timers.stop(v.pollTimer);
    this._xen.sched.unblock(v);
  }

  destroy(v: Vcpu): void {
    for (const t of [v.singleshot, v.periodic, v.pollTimer]) if (t) this._xen.timers.stop(t);
    v.pollPorts = null;
    v.periodicPeriodNs = 0;
  }
}
