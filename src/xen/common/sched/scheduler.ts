/**
 * The scheduler policy interface (Xen's struct scheduler ops, reduced to what the core
 * needs). The core (sched/core.ts) owns runstates, blocking and wake-ups; a policy only
 * orders runnable vCPUs and sizes their slices. The basic round-robin policy lives in
 * rr.ts; the credit scheduler (a later issue) implements the same interface in one file.
 *
 * Contract:
 *  - The core calls wake() when a vCPU becomes runnable and is not on a pCPU, sleep() when
 *    a queued vCPU stops being runnable, and requeue() when a running vCPU leaves its pCPU
 *    still runnable (slice end or yield: `yielded` asks to go behind its peers).
 *  - pick() removes and returns the next vCPU for a pCPU, or null to idle.
 *  - A vCPU is never queued twice, and never queued while running.
 */
import type { Vcpu } from '../vcpu.ts';

export interface Scheduler {
  readonly name: string;
  insert(v: Vcpu): void;
  remove(v: Vcpu): void;
  wake(v: Vcpu): void;
  sleep(v: Vcpu): void;
  requeue(v: Vcpu, yielded: boolean): void;
  pick(pcpu: number, now: number): Vcpu | null;
  /** Length of the slice the picked vCPU may run before the core asks again. */
  sliceNs(v: Vcpu): number;
  /** True if some vCPU other than the running ones waits on `pcpu`. */
  hasWaiting(pcpu: number): boolean;
}
