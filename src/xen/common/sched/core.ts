/**
 * The scheduling core (Xen's common/sched/core.c, reduced): per-pCPU current vCPU,
 * runstate transitions, block / wake / yield / pause, and the per-vCPU timers that wake
 * blocked vCPUs (singleshot, periodic, poll timeout). The policy (who runs next, for how
 * long) is a Scheduler (scheduler.ts).
 *
 * Invariants:
 *  - A vCPU is queued in the policy iff it is runnable and not running.
 *  - `current[p]` is running on pCPU p (its `running` flag set, runstate running).
 *  - Every change of a pause flag, pause count or domain state goes through update(v),
 *    which restores the first invariant and, for a running vCPU that stopped being
 *    runnable, asks its pCPU to reschedule (`preempt[p]`).
 */
import type { Scheduler } from './scheduler.ts';
import { RUNSTATE_running, VPF_blocked, type Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';

export interface SchedHooks {
  /** `prev` leaves its pCPU, `next` arrives (either may be null): runstate areas, time info. */
  contextSwitch(prev: Vcpu | null, next: Vcpu | null, now: number): void;
  /** Ask a running vCPU to leave its CPU soon (it is running guest code). */
  preempt(v: Vcpu): void;
}

export class SchedCore {
  readonly current: Array<Vcpu | null>;
  /** pCPU p should call schedule() before running its current vCPU again. */
  readonly preempt: boolean[];
  /** The running vCPU asked to yield. */
  readonly yielded: boolean[];
  /** Context switches done (statistics, tests). */
  switches = 0;

  constructor(readonly policy: Scheduler, readonly pcpus: number, private readonly _now: () => number,
    private readonly _hooks: SchedHooks) {
    this.current = new Array<Vcpu | null>(pcpus).fill(null);
    this.preempt = new Array<boolean>(pcpus).fill(false);
    this.yielded = new Array<boolean>(pcpus).fill(false);
  }

  add(v: Vcpu): void {
    this.policy.insert(v);
    this.update(v);
  }

  remove(v: Vcpu): void {
    this.policy.remove(v);
    if (v.running) {
      this.preempt[v.processor] = true;
      this._hooks.preempt(v);
    }
  }

  /** Re-establish the queueing invariant for `v` after any state change. */
  update(v: Vcpu): void {
    const now = this._now();
    if (v.domain.kind === 'native') {
      // The host runs native vCPUs' code itself: never queued, "running" while runnable.
      v.setRunstate(v.runnable() ? RUNSTATE_running : v.idleState(), now);
      return;
    }
    if (v.running) {
      if (!v.runnable()) {
        this.preempt[v.processor] = true;
        this._hooks.preempt(v);
      }
      return;
    }
    if (v.runnable()) {
      this.policy.wake(v);
    } else {
      this.policy.sleep(v);
    }
    v.setRunstate(v.idleState(), now);
  }

  updateDomain(d: Domain): void {
    for (const v of d.vcpus) if (v) this.update(v);
  }

  block(v: Vcpu): void {
    v.pauseFlags |= VPF_blocked;
    this.update(v);
  }

  /** vcpu_unblock: clear VPF_blocked (no-op if not blocked). */
  unblock(v: Vcpu): void {
    if ((v.pauseFlags & VPF_blocked) === 0) return;
    v.pauseFlags &= ~VPF_blocked;
    this.update(v);
  }

  yield(v: Vcpu): void {
    if (v.running) {
      this.yielded[v.processor] = true;
      this.preempt[v.processor] = true;
    }
  }

  /**
   * Pick what runs next on pCPU `p`: the current vCPU goes back to the policy if still
   * runnable; returns the new current vCPU (possibly the same one) or null to idle.
   */
  schedule(p: number): Vcpu | null {
    const now = this._now();
    const prev = this.current[p] ?? null;
    const yielded = this.yielded[p]!;
    this.preempt[p] = false;
    this.yielded[p] = false;
    if (prev !== null) {
      prev.running = false;
      if (prev.runnable()) this.policy.requeue(prev, yielded);
      prev.setRunstate(prev.idleState(), now);
    }
    const next = this.policy.pick(p, now);
    this.current[p] = next;
    if (next !== null) {
      next.running = true;
      next.processor = p;
      next.setRunstate(RUNSTATE_running, now);
    }
    if (prev !== next) {
      this.switches++;
      this._hooks.contextSwitch(prev, next, now);
    }
    return next;
  }

  /** Take `v` off its pCPU now (it was destroyed or its domain paused from outside). */
  deschedule(v: Vcpu): void {
    if (!v.running) return;
    const p = v.processor;
    v.running = false;
    this.current[p] = null;
    v.setRunstate(v.idleState(), this._now());
    if (v.runnable()) this.policy.wake(v);
    this._hooks.contextSwitch(v, null, this._now());
  }
}
