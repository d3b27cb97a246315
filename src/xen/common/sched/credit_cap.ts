/**
 * Caps for the credit scheduler: a CPU-time budget per domain per 10 ms period (the credit
 * tick), cap% of one pCPU's period (cap 50 -> 5 ms per 10 ms; cap 150 -> 15 ms shared by
 * its vCPUs). A capped vCPU that is picked grabs from its domain's budget what it may run
 * (at most up to the next period boundary), gives back what it did not use when it stops,
 * and is parked (paused, Xen's CSCHED_FLAG_UNIT_PARKED) when it is picked with the budget
 * gone; parked vCPUs are unparked at the next boundary, when the budget refills.
 *
 * Why not Xen's credit1 mechanism (parking from the 30 ms accounting when a unit is a
 * period's cap in debt): it holds the long-run average but lets a capped hog run ~52% over
 * some one-second windows. Budgets on a 10 ms grid (the mechanism of Xen's credit2) make
 * the bound exact: every period uses at most its budget, so every whole number of periods,
 * e.g. any second starting on the grid, uses at most cap%; an arbitrary window at most
 * cap% plus one period's budget. The credit accounting still bounds what a capped domain
 * earns, so priorities behave as in Xen.
 *
 * Within a domain, one grab is at most the period's budget divided among its vCPUs, so
 * the credit priorities (not the order of arrival at a boundary) decide which vCPUs of a
 * capped domain use the budget; and a unit parked for using up the budget has been seen
 * consuming CPU, so it starts its credit accounting as at a tick (a capped unit's short
 * runs would otherwise slip between the ticks and never earn credits).
 *
 * A run can overshoot its grant (the last block of guest instructions; with host time, a
 * pause between the host's slices while the vCPU stays on its pCPU): the overshoot is a
 * debt the domain's next budgets repay, so the average stays at the cap.
 *
 * Invariants: a unit holds a grant only while running; `dom.capBudgetNs` >= 0 is what is
 * left of the period ending at `dom.capPeriodEnd` (periods are aligned to multiples of
 * their length, and a new length applies from the next boundary); a unit is in `parked`
 * iff it has the PARKED flag.
 */
import type { SchedCoreOps } from './scheduler.ts';
import { CSCHED_FLAG_UNIT_PARKED, type CreditUnit } from './credit_runq.ts';

/** The smallest grab worth a schedule (Xen's CSCHED_MIN_TIMER). */
const MIN_GRANT_NS = 100_000;

export class CreditCaps {
  readonly parked: CreditUnit[] = [];
  /** When the parked units come back (the boundary after the earliest park). */
  nextRefill = Infinity;
  parks = 0;

  /** @param _seen a parked unit was seen consuming CPU (starts its credit accounting). */
  constructor(private readonly _core: SchedCoreOps, public periodNs: number,
    private readonly _seen: (u: CreditUnit, now: number) => void) {}

  private _refill(u: CreditUnit, now: number): void {
    const dom = u.dom!; // SAFETY: only non-idle units are capped
    if (now >= dom.capPeriodEnd) {
      dom.capPeriodEnd = (Math.floor(now / this.periodNs) + 1) * this.periodNs;
      // A run that overshot its grant (a block of instructions, a host-time gap) is repaid.
      const b = Math.floor((dom.cap * this.periodNs) / 100) - dom.capDebtNs;
      dom.capBudgetNs = Math.max(0, b);
      dom.capDebtNs = Math.max(0, -b);
    }
  }

  /** May `u` start running at `now`? If its domain's budget is gone, park it and say no. */
  admit(u: CreditUnit, now: number): boolean {
    const dom = u.dom!; // SAFETY: callers pass non-idle units
    if (dom.cap === 0) return true;
    this._refill(u, now);
    if (dom.capBudgetNs >= 1) return true;
    this._park(u, now);
    return false;
  }

  /** The ns `u` may run from `start` (Infinity when uncapped); taken from its domain's budget. */
  grant(u: CreditUnit, start: number): number {
    const dom = u.dom!; // SAFETY: callers pass non-idle units
    if (dom.cap === 0) {
      u.capGrant = Infinity;
      return Infinity;
    }
    this._refill(u, start);
    const n = dom.d.vcpus.length > 0 ? dom.d.vcpus.length : 1;
    const fair = Math.max(Math.floor((dom.cap * this.periodNs) / 100 / n), MIN_GRANT_NS);
    const g = Math.max(0, Math.min(dom.capBudgetNs, dom.capPeriodEnd - start, fair));
    dom.capBudgetNs -= g;
    u.capGrant = g;
    u.capStart = start;
    u.capPeriodEnd = dom.capPeriodEnd;
    return g;
  }

  /** What is left of the running `u`'s grant at `now`. */
  remaining(u: CreditUnit, now: number): number {
    return u.capGrant === Infinity ? Infinity : u.capGrant - (now - u.capStart);
  }

  /** `u` stops running at `now`: give back the unused part of its grant (same period only). */
  settle(u: CreditUnit, now: number): void {
    const dom = u.dom!; // SAFETY: callers pass non-idle units
    if (u.capGrant !== Infinity) {
      const unused = Math.floor(u.capGrant - (now - u.capStart));
      if (unused < 0) dom.capDebtNs -= unused;
      else if (u.capPeriodEnd === dom.capPeriodEnd) dom.capBudgetNs += unused;
    }
    u.capGrant = 0;
  }

  private _park(u: CreditUnit, now: number): void {
    this._seen(u, now);
    u.flags |= CSCHED_FLAG_UNIT_PARKED;
    this.parked.push(u);
    this.parks++;
    const boundary = (Math.floor(now / this.periodNs) + 1) * this.periodNs;
    if (boundary < this.nextRefill) this.nextRefill = boundary;
    this._core.pauseVcpu(u.v!); // SAFETY: non-idle unit
  }

  /** At a period boundary: every parked unit comes back (its budget has refilled). */
  refillDue(now: number): void {
    if (now < this.nextRefill) return;
    const units = this.parked.splice(0);
    this.nextRefill = Infinity;
    for (const u of units) {
      // Unpause first, then clear the flag: the wake-up must not be boosted.
      this._core.unpauseVcpu(u.v!); // SAFETY: non-idle unit
      u.flags &= ~CSCHED_FLAG_UNIT_PARKED;
    }
  }

  /** The unit goes away: release it if parked. */
  forget(u: CreditUnit): void {
    const i = this.parked.indexOf(u);
    if (i < 0) return;
    this.parked.splice(i, 1);
    u.flags &= ~CSCHED_FLAG_UNIT_PARKED;
    this._core.unpauseVcpu(u.v!); // SAFETY: non-idle unit
  }
}
