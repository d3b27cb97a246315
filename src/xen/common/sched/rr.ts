/**
 * The basic scheduler: one FIFO run queue per pCPU, fixed slices (round robin). Fair
 * among equally busy vCPUs, starvation-free, deterministic. Weights and caps are stored by
 * the domctl but not used (the credit scheduler honours them).
 *
 * Invariants: `queued` holds exactly the vCPUs present in some queue; a vCPU is in the
 * queue of its `processor`.
 */
import type { Scheduler } from './scheduler.ts';
import type { Vcpu } from '../vcpu.ts';

export const RR_SLICE_NS = 10_000_000;

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'rr';
  private readonly _queues: Vcpu[][] = [];
  private readonly _queued = new Set<Vcpu>();

  constructor(readonly pcpus: number, readonly sliceLengthNs = RR_SLICE_NS) {
    for (let i = 0; i < pcpus; i++) this._queues.push([]);
  }

  insert(_v: Vcpu): void {}

  remove(v: Vcpu): void {
    this.sleep(v);
  }

  wake(v: Vcpu): void {
    if (this._queued.has(v)) return;
    this._queue(v).push(v);
    this._queued.add(v);
  }

  sleep(v: Vcpu): void {
    if (!this._queued.delete(v)) return;
    const q = this._queue(v);
    const i = q.indexOf(v);
    if (i >= 0) q.splice(i, 1);
  }

  requeue(v: Vcpu, _yielded: boolean): void {
    // Round robin: a preempted or yielding vCPU always goes to the back.
    this.wake(v);
  }

  pick(pcpu: number, _now: number): Vcpu | null {
    const q = this._queues[pcpu]!;
    const v = q.shift();
    if (v === undefined) return null;
    this._queued.delete(v);
    return v;
  }

  sliceNs(_v: Vcpu): number {
    return this.sliceLengthNs;
  }

  hasWaiting(pcpu: number): boolean {
    return this._queues[pcpu]!.length > 0;
  }

  private _queue(v: Vcpu): Vcpu[] {
    return this._queues[v.processor % this.pcpus]!;
  }
}
