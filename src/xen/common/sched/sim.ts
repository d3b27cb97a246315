/**
 * A deterministic scheduling simulator: the real scheduling core, run loop, pCPU clocks
 * and policy, with synthetic workloads in place of guest CPUs (a workload advances its
 * pCPU's clock and may block). Used by the scheduler's unit tests and benchmarks to run
 * many virtual seconds in milliseconds; the system tests (tests/sched) run real guests.
 * Nothing in the hypervisor imports it.
 *
 * Every vCPU's runner checks the core's invariants as it is entered (it is current on the
 * pCPU whose turn it is, runnable, inside its hard affinity) and records per-pCPU usage.
 */
import { SchedCore } from './core.ts';
import { VirtualPcpuClock } from './pcpu.ts';
import { RunLoop } from './run_loop.ts';
import type { Scheduler } from './scheduler.ts';
import { CreditScheduler } from './credit.ts';
import { testCpu } from './affinity.ts';
import { TimerQueue, Timer } from '../timer.ts';
import { Domain } from '../domain.ts';
import { Vcpu } from '../vcpu.ts';
import { assert } from '../../util/assert.ts';

/** What a vCPU does when it runs: consume up to `budgetNs` (advance `sim.now()`), maybe block. */
export interface Workload {
  run(sim: SchedSim, v: Vcpu, budgetNs: number): void;
}

/** A CPU hog: always uses its whole budget (interrupts masked or not: nothing stops it but the scheduler). */
export const hog: Workload = {
  run(sim, _v, budgetNs) {
    sim.clock.advanceSystem(sim.now() + budgetNs);
  },
};

/**
 * An I/O-bound vCPU: events arrive every `periodNs` (from a device: a global timer);
 * each takes `serviceNs` of CPU; with nothing to do it blocks. `latencies` collects, per
 * event, the time from its arrival to the start of its service.
 */
export class IoTask implements Workload {
  readonly latencies: number[] = [];
  private readonly _arrivals: number[] = [];
  private _left = 0;

  constructor(readonly periodNs: number, readonly serviceNs: number) {}

  start(sim: SchedSim, v: Vcpu, firstNs = this.periodNs): void {
    const t = new Timer((now) => {
      this._arrivals.push(now);
      sim.core.unblock(v);
      sim.timers.set(t, now + this.periodNs);
    }, `${v}.io`);
    sim.timers.set(t, sim.now() + firstNs);
    sim.core.block(v);
  }

  run(sim: SchedSim, v: Vcpu, budgetNs: number): void {
    let budget = budgetNs;
    while (budget > 0) {
      if (this._left === 0) {
        const a = this._arrivals.shift();
        if (a === undefined) {
          sim.core.block(v);
          return;
        }
        this.latencies.push(sim.now() - a);
        this._left = this.serviceNs;
      }
      const k = Math.min(budget, this._left);
      sim.clock.advanceSystem(sim.now() + k);
      this._left -= k;
      budget -= k;
    }
  }
}

/** Runs `runNs`, then sleeps `sleepNs` (blocked, woken by its own timer), forever. */
export class DutyCycle implements Workload {
  private _ran = 0;

  constructor(readonly runNs: number, readonly sleepNs: number) {}

  run(sim: SchedSim, v: Vcpu, budgetNs: number): void {
    const k = Math.min(budgetNs, this.runNs - this._ran);
    sim.clock.advanceSystem(sim.now() + k);
    this._ran += k;
    if (this._ran < this.runNs) return;
    this._ran = 0;
    const t = new Timer(() => sim.core.unblock(v), `${v}.sleep`);
    sim.timers.set(t, sim.now() + this.sleepNs);
    sim.core.block(v);
  }
}

export interface SimOptions {
  readonly pcpus?: number;
  readonly scheduler?: Scheduler;
  readonly quantumNs?: number;
}

export interface SimVcpuStats {
  /** ns run on each pCPU. */
  readonly perPcpu: Float64Array;
}

export class SchedSim {
  readonly clock: VirtualPcpuClock;
  readonly timers = new TimerQueue();
  readonly core: SchedCore;
  readonly loop: RunLoop;
  readonly policy: Scheduler;
  readonly vcpus: Vcpu[] = [];
  private readonly _work = new Map<Vcpu, Workload>();
  readonly stats = new Map<Vcpu, SimVcpuStats>();
  private _nextDomid = 1;
  /** Called on every context switch (prev, next, pCPU, time). */
  onSwitch: ((prev: Vcpu | null, next: Vcpu | null, p: number, now: number) => void) | null = null;

  constructor(opts: SimOptions = {}) {
    const n = opts.pcpus ?? 1;
    this.clock = new VirtualPcpuClock(1, 0, 1e9);
    this.policy = opts.scheduler ?? new CreditScheduler();
    this.core = new SchedCore(this.policy, n, this.clock, {
      contextSwitch: (prev, next, now) => this.onSwitch?.(prev, next, this.clock.cur, now),
      preempt: () => undefined,
    });
    this.loop = new RunLoop(this.core, this.clock, this.timers, {
      runVcpu: (v, ns) => this._run(v, ns),
      nativeDeadline: () => Infinity,
      nativePending: () => false,
    }, opts.quantumNs);
  }

  now(): number {
    return this.clock.now();
  }

  /** A running domain whose vCPU i runs `work[i]`. */
  domain(work: readonly Workload[], params: { weight?: number; cap?: number; affinity?: readonly number[] } = {}): Domain {
    const d = new Domain(this._nextDomid++, { kind: 'pv' });
    d.pauseCount = 0;
    if (params.weight !== undefined || params.cap !== undefined) {
      this.policy.setParams(d, params.weight ?? 0, params.cap ?? 0xffff);
    }
    for (let i = 0; i < work.length; i++) {
      const v = new Vcpu(d, i, this.now());
      d.vcpus.push(v);
      this.vcpus.push(v);
      this._work.set(v, work[i]!);
      this.stats.set(v, { perPcpu: new Float64Array(this.core.pcpus) });
      const aff = params.affinity?.[i];
      if (aff !== undefined) v.affinity = aff;
      this.core.add(v);
      v.pauseFlags = 0;
      this.core.update(v);
    }
    d.maxVcpus = work.length;
    return d;
  }

  /** Run for `ns` of virtual time. */
  run(ns: number): void {
    const end = this.clock.global + ns;
    while (this.clock.global < end) {
      const before = this.clock.global;
      this.loop.runFor(end - this.clock.global);
      if (this.clock.global === before) break; // nothing at all can happen
    }
  }

  /** ns `v` has run (its runstate running time, including the current run). */
  cpuTime(v: Vcpu): number {
    return v.runstateSnapshot(Math.max(this.clock.global, v.running ? this.core.pcpu[v.processor]!.time : 0)).time[0]!;
  }

  private _run(v: Vcpu, ns: number): void {
    const p = this.clock.cur;
    assert(this.core.pcpu[p]!.current === v && v.running && v.processor === p, () => `${v} run on ${p} but not current`);
    assert(v.runnable(), () => `${v} run while not runnable`);
    assert(testCpu(p, v.affinity), () => `${v} run on pCPU ${p} outside its affinity`);
    const t0 = this.now();
    this._work.get(v)!.run(this, v, ns); // SAFETY: every vCPU of the sim has a workload
    const s = this.stats.get(v)!; // SAFETY: created with the vCPU
    s.perPcpu[p]! += this.now() - t0;
  }
}
