/**
 * The basic scheduler: one FIFO runqueue per pCPU, fixed 10 ms slices (round robin), an
 * idle pCPU takes work from its peers. Fair among equally busy vCPUs, starvation-free,
 * deterministic; no weights or caps (XEN_DOMCTL_scheduler_op answers -EINVAL, as Xen does
 * for a sched_id that is not the running scheduler's). Kept as the simplest example of the
 * Scheduler interface and as a baseline for the benchmarks.
 *
 * Invariants: `_queued` holds exactly the vCPUs present in some queue; a vCPU is in the
 * queue of its `processor`, which is in its hard affinity.
 */
import type { SchedCoreOps, SchedDecision, SchedDomParams, SchedGlobalParams, Scheduler } from './scheduler.ts';
import { cycleCpu, testCpu } from './affinity.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';
import { EINVAL } from '../../../abi/errno.ts';

export const RR_SLICE_NS = 10_000_000;

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'rr';
  readonly schedId = -1;
  private _core!: SchedCoreOps;
  private readonly _queues: Vcpu[][] = [];
  private readonly _queued = new Set<Vcpu>();

  constructor(readonly sliceLengthNs = RR_SLICE_NS) {}

  attach(core: SchedCoreOps): void {
    this._core = core;
    for (let i = 0; i < core.pcpus; i++) this._queues.push([]);
  }

  insert(v: Vcpu): object {
    v.processor = this.pickCpu(v);
    return {};
  }

  remove(v: Vcpu): void {
    this.sleep(v);
  }

  wake(v: Vcpu): void {
    if (this._queued.has(v)) return;
    // Prefer a pCPU with nothing to do (its own first), and make it look.
    const n = this._core.pcpus;
    let target = v.processor;
    for (let i = 0; i < n; i++) {
      const p = (v.processor + i) % n;
      if (testCpu(p, v.affinity) && this._core.current(p) === null && this._queues[p]!.length === 0) {
        target = p;
        break;
      }
    }
    v.processor = target;
    this._queues[target]!.push(v);
    this._queued.add(v);
    if (this._core.current(target) === null) this._core.tickle(target);
  }

  sleep(v: Vcpu): void {
    if (v.running) {
      this._core.tickle(v.processor);
      return;
    }
    if (!this._queued.delete(v)) return;
    const q = this._queues[v.processor]!;
    const i = q.indexOf(v);
    if (i >= 0) q.splice(i, 1);
  }

  yield(_v: Vcpu): void {}

  pickCpu(v: Vcpu): number {
    const n = this._core.pcpus;
    if (testCpu(v.processor, v.affinity) && v.processor < n) return v.processor;
    const p = cycleCpu(v.processor, v.affinity, n);
    return p < n ? p : 0;
  }

  doSchedule(p: number, prev: Vcpu | null, _now: number, out: SchedDecision): void {
    const q = this._queues[p]!;
    // Round robin: a preempted or yielding vCPU always goes to the back.
    if (prev !== null && prev.runnable()) {
      q.push(prev);
      this._queued.add(prev);
    }
    let next = q.shift() ?? null;
    if (next === null) next = this._steal(p);
    if (next !== null) this._queued.delete(next);
    out.next = next;
    out.sliceNs = next === null ? Infinity : this.sliceLengthNs;
    out.migrated = next !== null && next.processor !== p;
  }

  nextTimer(_p: number): number {
    return Infinity;
  }

  timer(_p: number, _now: number): void {}

  affinityChanged(_v: Vcpu): void {}

  getParams(_d: Domain): SchedDomParams | null {
    return null;
  }

  setParams(_d: Domain, _weight: number, _cap: number): number {
    return -EINVAL;
  }

  getGlobal(): SchedGlobalParams | null {
    return null;
  }

  setGlobal(_p: SchedGlobalParams): number {
    return -EINVAL;
  }

  hasPending(): boolean {
    return false;
  }

  dump(): string[] {
    return this._queues.map((q, p) => `CPU${p}: run=${String(this._core.current(p))} queue=[${q.join(' ')}]`);
  }

  /** An idle pCPU takes the first vCPU of a peer's queue that may run here. */
  private _steal(p: number): Vcpu | null {
    const n = this._core.pcpus;
    for (let i = 1; i < n; i++) {
      const q = this._queues[(p + i) % n]!;
      const at = q.findIndex((v) => testCpu(p, v.affinity));
      if (at >= 0) return q.splice(at, 1)[0]!;
    }
    return null;
  }
}
