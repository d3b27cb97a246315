/**
 * A virtual CPU: the scheduling unit. Architecture state hangs off `pv` (a PV vCPU's CPU,
 * trap table, callbacks, page-table base...) so the common code (scheduler, event delivery,
 * timers, vcpu_op) needs no knowledge of it.
 *
 * Runnability (Xen's vcpu_runnable): no pause flag set, no pause count, the domain neither
 * paused nor shut down. Pause flags:
 *   VPF_down     not brought up (VCPUOP_up) or brought down
 *   VPF_blocked  SCHEDOP_block / SCHEDOP_poll: waits for an event (or the poll timeout)
 *
 * Runstate accounting (vcpu_runstate_info): `runstate` changes only through
 * setRunstate(), which charges the time since the last change to the old state, so the
 * four times always add up to the vCPU's lifetime.
 */
import { RUNSTATE_blocked, RUNSTATE_offline, RUNSTATE_runnable, RUNSTATE_running } from '../../abi/vcpu.ts';
import type { Domain } from './domain.ts';
import type { PvVcpu } from '../arch/x86/pv/pv_vcpu.ts';
import type { Timer } from './timer.ts';

export const VPF_blocked = 1;
export const VPF_down = 2;

export class Vcpu {
  pauseFlags = VPF_down;
  pauseCount = 0;
  /** VCPUOP_initialise (or the builder's setvcpucontext) has given it a context. */
  initialised = false;
  /** The pCPU it runs on, or last ran on (sched/core.ts keeps it in its hard affinity). */
  processor = 0;
  /** Hard affinity bitmap (bit n = pCPU n; -1 = all): where it may run. */
  affinity = -1;
  /** Soft affinity bitmap (-1 = all): where it prefers to run. */
  softAffinity = -1;
  /** The scheduling policy's per-vCPU state (set by Scheduler.insert). */
  schedData: unknown = null;
  /** Set while the scheduler has it on a pCPU (a native vCPU: while the host works for it). */
  running = false;
  /** Native vCPUs: nesting depth of the host's work brackets (sched/core.ts nativeBegin). */
  nativeDepth = 0;
  /** Native vCPUs: virtual cost charged in the current bracket, in ns (nativeCharge). */
  nativeCostNs = 0;

  runstate: number = RUNSTATE_offline;
  runstateEntry = 0;
  /** ns spent in running, runnable, blocked, offline. */
  readonly runstateTime = new Float64Array(4);
  /** Guest VA of a registered runstate area (VCPUOP_register_runstate_memory_area), 0 = none. */
  runstateArea = 0;

  /** Machine address of this vCPU's vcpu_info (in shared_info, or registered elsewhere). */
  vcpuInfoMa = -1;
  /** VCPUOP_register_vcpu_info was used (once per vCPU). */
  vcpuInfoRegistered = false;
  /** The frame of a registered vcpu_info (holds a general + writable type reference), or -1. */
  vcpuInfoMfn = -1;
  /** Guest VA of a secondary vcpu_time_info copy (VCPUOP_register_vcpu_time_memory_area), 0 = none. */
  timeArea = 0;
  /** Hard affinity was set explicitly (domctl): VCPUOP_get_physid answers only then. */
  pinned = false;

  /** set_timer_op / VCPUOP_set_singleshot_timer (one timer, as in Xen). */
  singleshot: Timer | null = null;
  periodic: Timer | null = null;
  periodicPeriodNs = 0;
  /** System time of the last periodic tick (vcpu_periodic_timer_work). */
  periodicLastEvent = 0;
  /** SCHEDOP_poll: ports being polled (null when not polling) and its timeout timer. */
  pollPorts: Int32Array | null = null;
  pollTimer: Timer | null = null;

  /** PV architecture state, when the domain is a PV guest. */
  pv: PvVcpu | null = null;

  /** Total ns this vCPU has run (getvcpuinfo cpu_time). */
  get cpuTimeNs(): number {
    return this.runstateTime[RUNSTATE_running]!;
  }

  constructor(readonly domain: Domain, readonly id: number, now: number) {
    this.runstateEntry = now;
  }

  get isUp(): boolean {
    return (this.pauseFlags & VPF_down) === 0;
  }

  get isBlocked(): boolean {
    return (this.pauseFlags & VPF_blocked) !== 0;
  }

  /** vcpu_runnable. */
  runnable(): boolean {
    const d = this.domain;
    return this.pauseFlags === 0 && this.pauseCount === 0 && d.pauseCount === 0 && !d.isShutDown && !d.dying;
  }

  setRunstate(state: number, now: number): void {
    if (state === this.runstate) return;
    // pCPU clocks differ by up to a quantum: a vCPU's own timeline never goes back.
    if (now < this.runstateEntry) now = this.runstateEntry;
    const dt = now - this.runstateEntry;
    if (dt > 0) this.runstateTime[this.runstate]! += dt;
    this.runstate = state;
    this.runstateEntry = now;
  }

  /** The state a vCPU not on a pCPU is in. */
  idleState(): number {
    if (!this.isUp || this.domain.dying) return RUNSTATE_offline;
    if (this.runnable()) return RUNSTATE_runnable;
    return (this.pauseFlags & VPF_blocked) !== 0 ? RUNSTATE_blocked : RUNSTATE_offline;
  }

  /** The runstate times as of `now` (the current state's time included). */
  runstateSnapshot(now: number): { state: number; entry: number; time: number[] } {
    const time = Array.from(this.runstateTime);
    time[this.runstate]! += Math.max(0, now - this.runstateEntry);
    return { state: this.runstate, entry: this.runstateEntry, time };
  }

  toString(): string {
    return `d${this.domain.domid}v${this.id}`;
  }
}

export { RUNSTATE_running, RUNSTATE_runnable, RUNSTATE_blocked, RUNSTATE_offline };
