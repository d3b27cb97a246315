/**
 * Per-vCPU timers (Xen's v->singleshot_timer, periodic_timer, poll_timer) on the
 * hypervisor's TimerQueue:
 *   singleshot  set_timer_op / VCPUOP_set_singleshot_timer: one absolute deadline; on
 *               expiry VIRQ_TIMER is raised on the vCPU.
 *   periodic    VCPUOP_set_periodic_timer: VIRQ_TIMER every period.
 *   poll        SCHEDOP_poll's timeout: wakes the vCPU (the poll returns 0 either way).
 * Raising the VIRQ sets the port pending, which kicks a blocked vCPU awake.
 */
import { VIRQ_TIMER } from '../../abi/xen.ts';
import { Timer } from './timer.ts';
import type { Vcpu } from './vcpu.ts';
import type { Xen } from '../xen.ts';

export class VcpuTimers {
  constructor(private readonly _xen: Xen) {}

  init(v: Vcpu): void {
    v.singleshot = new Timer(() => this._xen.evtchn.sendVcpuVirq(v, VIRQ_TIMER), `${v}.singleshot`);
    v.periodic = new Timer((now) => {
      this._xen.evtchn.sendVcpuVirq(v, VIRQ_TIMER);
      if (v.periodicPeriodNs > 0) this._xen.timers.set(v.periodic!, now + v.periodicPeriodNs);
    }, `${v}.periodic`);
    v.pollTimer = new Timer(() => this.pollWake(v), `${v}.poll`);
  }

  /** Arm the singleshot timer at absolute `deadline` (0 = stop). */
  setSingleshot(v: Vcpu, deadline: number): void {
    if (v.singleshot === null) return;
    if (deadline === 0) this._xen.timers.stop(v.singleshot);
    else this._xen.timers.set(v.singleshot, deadline);
  }

  setPeriodic(v: Vcpu, periodNs: number): void {
    if (v.periodic === null) return;
    v.periodicPeriodNs = periodNs;
    if (periodNs === 0) this._xen.timers.stop(v.periodic);
    else this._xen.timers.set(v.periodic, this._xen.time.now() + periodNs);
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
