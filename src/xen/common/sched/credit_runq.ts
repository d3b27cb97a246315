/**
 * The credit scheduler's data (Xen's struct csched_unit / csched_dom / csched_pcpu) and
 * its per-pCPU runqueue: a doubly linked list ordered by priority, FIFO within a priority.
 *
 * Each pCPU has an idle unit (pri IDLE, no vCPU). As in Xen, it sits at the tail of its
 * pCPU's runqueue whenever the pCPU is busy and is "running" when the pCPU idles, so a
 * scan of a runqueue always stops at it.
 *
 * Invariants:
 *  - A unit is on at most one runqueue (`onRunq`), that of its vCPU's processor (or, for
 *    the idle unit, of its own pCPU); `pri` is non-increasing from head to tail except
 *    for the transient disorder the accounting creates, which csched_runq_sort repairs.
 *  - `nrRunnable` of a pCPU counts its running non-idle unit plus its queued non-idle
 *    units (the load balancer's cheap "anything to steal?" test).
 */
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';

export const CSCHED_PRI_TS_BOOST = 0;
export const CSCHED_PRI_TS_UNDER = -1;
export const CSCHED_PRI_TS_OVER = -2;
export const CSCHED_PRI_IDLE = -64;

/** Flags (svc->flags). */
export const CSCHED_FLAG_UNIT_PARKED = 1;
export const CSCHED_FLAG_UNIT_YIELD = 2;
export const CSCHED_FLAG_UNIT_MIGRATING = 4;
export const CSCHED_FLAG_UNIT_PINNED = 8;

export const CSCHED_DEFAULT_WEIGHT = 256;

/** A runqueue link; the list head is a bare node. */
export class RunqNode {
  prev: RunqNode = this;
  next: RunqNode = this;
}

export class CreditUnit extends RunqNode {
  pri = CSCHED_PRI_TS_UNDER;
  flags = 0;
  credit = 0;
  /** Sub-credit remainder of burn_credits (ns x credits per ms). */
  residual = 0;
  /** When its current run started (an offset while not running: see csched_schedule). */
  startTime = 0;
  lastSchedTime = 0;
  onRunq = false;
  /** On its domain's active list (earning credits). */
  active = false;
  /** Cap budget held while running (credit_cap.ts): ns granted, when, period it came from. */
  capGrant = 0;
  capStart = 0;
  capPeriodEnd = 0;

  /** @param v null for a pCPU's idle unit. */
  constructor(readonly v: Vcpu | null, readonly dom: CreditDom | null) {
    super();
  }

  override toString(): string {
    return this.v === null ? 'idle' : this.v.toString();
  }
}

export class CreditDom {
  weight = CSCHED_DEFAULT_WEIGHT;
  cap = 0;
  /** Units earning credits, in activation order. */
  readonly active: CreditUnit[] = [];
  /** On the scheduler's active domain list. */
  activeListed = false;
  /** Cap budget (credit_cap.ts): ns left in the period that ends at `capPeriodEnd`. */
  capBudgetNs = 0;
  capPeriodEnd = 0;
  /** Overshoot of past grants, taken from the next budgets. */
  capDebtNs = 0;

  constructor(readonly d: Domain) {}
}

export class CreditPcpu {
  readonly runq = new RunqNode();
  readonly idle: CreditUnit;
  runqSortLast = 0;
  nrRunnable = 0;
  tick = 0;
  /** Next 10 ms tick (Infinity while the pCPU idles: the ticker is stopped). */
  tickDeadline = Infinity;

  constructor(readonly id: number) {
    this.idle = new CreditUnit(null, null);
    this.idle.pri = CSCHED_PRI_IDLE;
  }

  first(): CreditUnit | null {
    const n = this.runq.next;
    return n === this.runq ? null : (n as CreditUnit); // every non-head node is a unit
  }

  /** is_runq_idle: nothing but (maybe) the idle unit waits here. */
  runqIdle(): boolean {
    const f = this.first();
    return f === null || f.v === null;
  }
}

/** Link `u` before `at`. */
export function linkBefore(u: CreditUnit, at: RunqNode): void {
  u.prev = at.prev;
  u.next = at;
  at.prev.next = u;
  at.prev = u;
  u.onRunq = true;
}

export function unlink(u: CreditUnit): void {
  u.prev.next = u.next;
  u.next.prev = u.prev;
  u.prev = u;
  u.next = u;
  u.onRunq = false;
}

/**
 * __runq_insert: after every unit of higher or equal priority. A yielding unit goes one
 * further, behind the first lower-priority non-idle unit, when there is one.
 */
export function runqInsert(pc: CreditPcpu, u: CreditUnit): void {
  const head = pc.runq;
  let it = head.next;
  while (it !== head) {
    if (u.pri > (it as CreditUnit).pri) break; // non-head nodes are units
    it = it.next;
  }
  if ((u.flags & CSCHED_FLAG_UNIT_YIELD) !== 0 && it !== head && (it as CreditUnit).pri > CSCHED_PRI_IDLE) {
    it = it.next;
  }
  linkBefore(u, it);
}

/** The units of a runqueue, head first (dumps and tests). */
export function runqUnits(pc: CreditPcpu): CreditUnit[] {
  const out: CreditUnit[] = [];
  for (let n = pc.runq.next; n !== pc.runq; n = n.next) out.push(n as CreditUnit);
  return out;
}

/**
 * csched_runq_sort's reordering: move every UNDER/BOOST unit ahead of the OVER units that
 * precede it, keeping the relative order within each class (O(n)).
 */
export function runqSortUnder(pc: CreditPcpu): void {
  const head = pc.runq;
  let lastUnder: RunqNode = head;
  let n = head.next;
  while (n !== head) {
    const next = n.next;
    const u = n as CreditUnit; // non-head nodes are units
    if (u.pri >= CSCHED_PRI_TS_UNDER) {
      if (u.prev !== lastUnder) {
        unlink(u);
        linkBefore(u, lastUnder.next);
      }
      lastUnder = u;
    }
    n = next;
  }
}
