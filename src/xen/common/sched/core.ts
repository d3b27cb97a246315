/**
 * The scheduling core (Xen's common/sched/core.c, reduced): the pCPUs and what runs on
 * them, runstate transitions, block / wake / yield / pause, migration between pCPUs
 * (affinity changes, the policy's load balancing) and the context switch. The policy (who
 * runs next, where, for how long) is a Scheduler (scheduler.ts); the run loop that gives
 * each pCPU its turns is run_loop.ts.
 *
 * Invariants:
 *  - A vCPU is queued in the policy iff it is runnable and not running (the policy keeps
 *    it on the runqueue of its `processor`).
 *  - `pcpu[p].current` is running on pCPU p: its `running` flag is set, its `processor`
 *    is p and its runstate is running. A vCPU is current on at most one pCPU.
 *  - Every change of a pause flag, pause count or domain state goes through update(v),
 *    which restores the first invariant; a running vCPU that stopped being runnable makes
 *    the policy tickle its pCPU, which switches it out at its next schedule().
 *  - Runstate times of a vCPU only move forward (Vcpu.setRunstate clamps), so a vCPU woken
 *    by another pCPU whose clock is ahead starts running no earlier than it was woken.
 *
 * Native vCPUs (dom0's, whose code is the host process itself) are never queued: they sit
 * blocked, as a real dom0 waiting in its idle loop, and run only while the host brackets work
 * on their behalf (nativeBegin / nativeEnd; `running` is set inside the bracket). Their
 * running time is the bracket's span on the clock; with the virtual clock, whose time does
 * not move while the host works, each unit of work (a hypercall, nativeCharge) adds a fixed
 * cost instead, run forward from the vCPU's last transition (dom0 on its own pCPU).
 *
 * Tickles (SCHEDULE_SOFTIRQ): on the executing pCPU they take effect at once (`preempt[p]`,
 * polled by the vCPU runner, and a CPU exit request); on another pCPU they take effect when
 * its local time reaches the tickle time (`Pcpu.resched`), so a wake-up crosses pCPUs at
 * the virtual time it happened.
 */
import type { SchedCoreOps, SchedDecision, Scheduler } from './scheduler.ts';
import { Pcpu, type PcpuClock } from './pcpu.ts';
import { MAX_PCPUS } from './affinity.ts';
import { RUNSTATE_blocked, RUNSTATE_runnable, RUNSTATE_running, VPF_blocked, type Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';
import { EINVAL } from '../../../abi/errno.ts';
import { assert } from '../../util/assert.ts';

/** _VPF_migrating: the vCPU is moving to another pCPU (not runnable meanwhile). */
export const VPF_migrating = 1 << 3;

export interface SchedHooks {
  /** `prev` leaves its pCPU, `next` arrives (either may be null): runstate areas, time info. */
  contextSwitch(prev: Vcpu | null, next: Vcpu | null, now: number): void;
  /** Make the vCPU running on the executing pCPU leave its CPU at the next exit. */
  preempt(v: Vcpu): void;
}

export class SchedCore implements SchedCoreOps {
  readonly pcpu: Pcpu[] = [];
  /** The executing pCPU p must reschedule before running guest code again (polled by the runner). */
  readonly preempt: boolean[];
  /** Mask of online pCPUs. */
  readonly online: number;
  /** Context switches done (statistics, tests). */
  switches = 0;
  private readonly _decision: SchedDecision = { next: null, sliceNs: Infinity, migrated: false };

  constructor(readonly policy: Scheduler, readonly pcpus: number, readonly clock: PcpuClock,
    private readonly _hooks: SchedHooks) {
    assert(pcpus >= 1 && pcpus <= MAX_PCPUS, () => `pcpus ${pcpus} out of range 1..${MAX_PCPUS}`);
    this.online = pcpus === 31 ? 0x7fffffff : (1 << pcpus) - 1;
    const t = clock.now();
    for (let p = 0; p < pcpus; p++) {
      const pc = new Pcpu(p);
      pc.time = t;
      pc.idleSince = t;
      this.pcpu.push(pc);
    }
    this.preempt = new Array<boolean>(pcpus).fill(false);
    policy.attach(this);
  }

  // ---- SchedCoreOps (what the policy may call) ----------------------------------------------

  now(): number {
    return this.clock.now();
  }

  current(p: number): Vcpu | null {
    return this.pcpu[p]!.current;
  }

  executing(): number {
    return this.clock.cur;
  }

  tickle(p: number): void {
    const pc = this.pcpu[p]!;
    const now = this.clock.now();
    if (this.clock.cur === p) {
      this.preempt[p] = true;
      if (now < pc.resched) pc.resched = now;
      if (pc.current !== null) this._hooks.preempt(pc.current);
      return;
    }
    // An idle pCPU has been halted "until now": it wakes at the tickle.
    if (pc.current === null && pc.resched === Infinity && pc.time < now) pc.time = now;
    if (now < pc.resched) pc.resched = now;
  }

  pauseVcpu(v: Vcpu): void {
    v.pauseCount++;
    this.update(v);
  }

  unpauseVcpu(v: Vcpu): void {
    if (v.pauseCount > 0) v.pauseCount--;
    this.update(v);
  }

  // ---- vCPU lifecycle ------------------------------------------------------------------------

  add(v: Vcpu): void {
    v.schedData = this.policy.insert(v);
    this.update(v);
  }

  /** The vCPU goes away (its domain is dying): off its pCPU, out of the queues, out of the policy. */
  remove(v: Vcpu): void {
    if (v.schedData === null) return;
    this.deschedule(v);
    this.policy.sleep(v);
    this.policy.remove(v);
    v.schedData = null;
  }

  /** A dying domain leaves: none of its vCPUs is queued, running or in the policy afterwards. */
  removeDomain(d: Domain): void {
    assert(d.dying, () => `${d} removed while alive`);
    this.updateDomain(d);
    for (const v of d.vcpus) if (v) this.remove(v);
  }

  /** Re-establish the queueing invariant for `v` after any state change (vcpu_wake / vcpu_sleep). */
  update(v: Vcpu): void {
    const now = this.clock.now();
    if (v.domain.kind === 'native') {
      // The host runs native vCPUs' code itself: never queued, running only inside a bracket.
      if (!v.runnable()) v.setRunstate(v.idleState(), now);
      else v.setRunstate(v.nativeDepth > 0 ? RUNSTATE_running : RUNSTATE_blocked, now);
      return;
    }
    if (v.schedData === null) {
      // Not (or no longer) in the scheduler: a late timer of a destroyed vCPU.
      if (!v.running) v.setRunstate(v.idleState(), now);
      return;
    }
    if (v.runnable()) {
      if (!v.running) {
        if (v.runstate !== RUNSTATE_runnable) v.setRunstate(RUNSTATE_runnable, now);
        this.policy.wake(v);
      }
      return;
    }
    if (!v.running) v.setRunstate(v.idleState(), now);
    this.policy.sleep(v);
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

  // ---- native vCPUs (the host runs their code) ----------------------------------------------

  /** The host starts work on behalf of native vCPU `v` (nestable: the outermost bracket counts). */
  nativeBegin(v: Vcpu): void {
    if (v.nativeDepth++ > 0) return;
    v.running = true;
    this.update(v);
  }

  /**
   * The host's work for `v` ended: it blocks again. Costs charged inside the bracket
   * (nativeCharge) extend its running time past the clock's now, as work queued on its own
   * pCPU; a later bracket starts no earlier than that (Vcpu.setRunstate clamps).
   */
  nativeEnd(v: Vcpu): void {
    if (v.nativeDepth === 0 || --v.nativeDepth > 0) return;
    v.running = false;
    const now = this.clock.now();
    // Charged cost only extends a running span (a paused or dying dom0 ran nothing).
    const end = v.runstate === RUNSTATE_running ? Math.max(now, v.runstateEntry) + v.nativeCostNs : now;
    v.nativeCostNs = 0;
    v.setRunstate(v.runnable() ? RUNSTATE_blocked : v.idleState(), end);
  }

  /** One unit of a native vCPU's work costs `ns` of its CPU time (inside a bracket, or one of its own). */
  nativeCharge(v: Vcpu, ns: number): void {
    if (v.nativeDepth > 0) {
      v.nativeCostNs += ns;
      return;
    }
    this.nativeBegin(v);
    v.nativeCostNs += ns;
    this.nativeEnd(v);
  }

  /** vcpu_yield: the policy notes it, the pCPU reschedules. */
  yield(v: Vcpu): void {
    // A native vCPU is "running" in the host, not on a pCPU: nothing to reschedule.
    if (!v.running || v.schedData === null) return;
    this.policy.yield(v);
    this.tickle(v.processor);
  }

  // ---- affinity and migration ----------------------------------------------------------------

  /**
   * vcpu_set_hard_affinity / vcpu_set_soft_affinity (domctl setvcpuaffinity): null leaves a
   * mask alone. The vCPU then migrates through the policy's pick (so it leaves a pCPU it may
   * no longer use). Returns 0 or -EINVAL (a hard mask without an online pCPU).
   */
  setAffinity(v: Vcpu, hard: number | null, soft: number | null): number {
    if (hard !== null && (hard & this.online) === 0) return -EINVAL;
    if (hard !== null) v.affinity = hard;
    if (soft !== null) v.softAffinity = soft;
    this.policy.affinityChanged(v);
    this.migrate(v);
    return 0;
  }

  /** vcpu_migrate: leave the current pCPU (at once if queued, at its next schedule if running). */
  migrate(v: Vcpu): void {
    v.pauseFlags |= VPF_migrating;
    this.update(v);
    this._migrateFinish(v);
  }

  private _migrateFinish(v: Vcpu): void {
    if ((v.pauseFlags & VPF_migrating) === 0 || v.running) return;
    const p = this.policy.pickCpu(v);
    assert(p >= 0 && p < this.pcpus && ((v.affinity >>> p) & 1) !== 0, () => `${v}: policy picked pCPU ${p}`);
    v.processor = p;
    v.pauseFlags &= ~VPF_migrating;
    this.update(v);
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /**
   * schedule() on pCPU `p` (its turn: the clock reads its local time). The policy requeues
   * the current vCPU if still runnable and picks the next; returns the new current vCPU
   * (possibly the same one) or null to idle.
   */
  schedule(p: number): Vcpu | null {
    const pc = this.pcpu[p]!;
    const now = this.clock.now();
    const prev = pc.current;
    pc.resched = Infinity;
    pc.schedules++;
    this.preempt[p] = false;
    const d = this._freshDecision();
    this.policy.doSchedule(p, prev, now, d);
    const next = d.next;
    if (next === prev) {
      assert(next === null || next.runnable(), () => `${p}: policy kept non-runnable ${String(next)}`);
      pc.sliceEnd = next === null ? Infinity : now + d.sliceNs;
      return next;
    }
    assert(next === null || (next.runnable() && !next.running), () => `${p}: policy picked ${String(next)}`);
    // A vCPU woken (or released) by a pCPU whose clock is ahead starts no earlier than that.
    let start = now;
    if (next !== null && next.runstateEntry > start) start = next.runstateEntry;
    if (prev !== null) {
      prev.running = false;
      prev.setRunstate(prev.idleState(), now);
      pc.idleSince = now;
    }
    if (start > now) this.clock.advanceSystem(start);
    pc.current = next;
    if (next !== null) {
      pc.idleNs += Math.max(0, start - pc.idleSince);
      next.running = true;
      next.processor = p;
      next.setRunstate(RUNSTATE_running, start);
      pc.sliceEnd = start + d.sliceNs;
    } else {
      pc.sliceEnd = Infinity;
    }
    pc.switches++;
    this.switches++;
    this._hooks.contextSwitch(prev, next, start);
    if (prev !== null) this._migrateFinish(prev);
    return next;
  }

  private _freshDecision(): SchedDecision {
    const d = this._decision;
    d.next = null;
    d.sliceNs = Infinity;
    d.migrated = false;
    return d;
  }

  /**
   * Take a non-runnable `v` off its pCPU now (its domain is being destroyed): that pCPU
   * schedules at once, in its own time, as Xen's vcpu_sleep_sync waits for it.
   */
  deschedule(v: Vcpu): void {
    if (!v.running) return;
    assert(!v.runnable(), () => `deschedule of runnable ${v}`);
    const p = v.processor;
    const cur = this.clock.cur;
    assert(cur !== p, () => `${v} descheduled from its own pCPU's turn`);
    if (cur >= 0) this.clock.leave();
    this.clock.enter(this.pcpu[p]!);
    try {
      this.schedule(p);
    } finally {
      this.clock.leave();
      if (cur >= 0) this.clock.enter(this.pcpu[cur]!);
    }
  }

  /** sysctl getcpuinfo: idle ns of pCPU p as of now. */
  idleTime(p: number): number {
    const pc = this.pcpu[p]!;
    return pc.idleTime(Math.max(this.clock.now(), pc.time));
  }
}
