/**
 * Credit accounting (Xen's burn_credits, __csched_unit_acct_start/stop and csched_acct).
 *
 * Credits are CPU time in units of 100 µs (10 per ms). A running unit is debited for the
 * time it runs (at each tick and each schedule). Every accounting period (one time slice,
 * 30 ms) the master pCPU shares out `creditsPerTslice x pCPUs` credits among the active
 * domains in proportion to weight x active units, bounded by each domain's peak (its
 * units could at most run the whole period) and its cap; what a domain cannot use goes to
 * the domains after it. Then each active unit's priority follows its balance:
 *   credit >= 0  UNDER; above one slice's worth it stops earning (leaves the active list,
 *                keeps half)
 *   credit <  0  OVER; the debt is floored at one slice's worth.
 * A cap also bounds what the domain earns here; the cap itself is enforced by the CPU
 * budget in credit_cap.ts (Xen's credit1 parks capped units from this accounting instead,
 * which lets them exceed the cap over some one-second windows; see docs/scheduling.md).
 *
 * Worked example, one pCPU, weights 256 and 512, both hogs: 300 credits per period;
 * shares 100 and 200 per period; each runs until its balance is negative and the other
 * is UNDER, so over many periods they get 1/3 and 2/3 of the CPU.
 *
 * Integer arithmetic follows Xen's (uint32 divisions rounding up where Xen adds
 * `divisor - 1`), so the numbers match its accounting step for step.
 */
import { CSCHED_PRI_TS_OVER, CSCHED_PRI_TS_UNDER, type CreditDom, type CreditUnit } from './credit_runq.ts';

export const CSCHED_CREDITS_PER_MSEC = 10;
const NS_PER_MS = 1_000_000;

/** The scheduler-wide accounting state csched_acct works on. */
export interface CreditAcctState {
  /** Sum of weight x active units over active domains. */
  weight: number;
  /** creditsPerTslice x pCPUs. */
  credit: number;
  creditBalance: number;
  creditsPerTslice: number;
  /** Bumped after each accounting: pCPUs re-sort their runqueues (csched_runq_sort). */
  runqSort: number;
  /** Domains with active units; a domain is added at the head. */
  readonly activeDoms: CreditDom[];
}

/** burn_credits: debit the running unit for the time since its start. */
export function burnCredits(u: CreditUnit, now: number): void {
  const delta = now - u.startTime;
  if (delta <= 0) return;
  const val = delta * CSCHED_CREDITS_PER_MSEC + u.residual;
  const credits = Math.floor(val / NS_PER_MS);
  u.residual = val - credits * NS_PER_MS;
  u.credit -= credits;
  u.startTime += (credits * NS_PER_MS) / CSCHED_CREDITS_PER_MSEC;
}

/** __csched_unit_acct_start: the unit (and its domain) start earning credits. */
export function acctStart(s: CreditAcctState, u: CreditUnit): void {
  const dom = u.dom!; // SAFETY: only non-idle units are accounted
  if (u.active) return;
  u.active = true;
  dom.active.push(u);
  s.weight += dom.weight;
  if (!dom.activeListed) {
    dom.activeListed = true;
    s.activeDoms.unshift(dom);
  }
}

/** __csched_unit_acct_stop_locked. */
export function acctStop(s: CreditAcctState, u: CreditUnit): void {
  const dom = u.dom!; // SAFETY: only non-idle units are accounted
  if (!u.active) return;
  u.active = false;
  dom.active.splice(dom.active.indexOf(u), 1);
  s.weight -= dom.weight;
  if (dom.active.length === 0) {
    dom.activeListed = false;
    s.activeDoms.splice(s.activeDoms.indexOf(dom), 1);
  }
}

/** csched_acct: one accounting period on the master pCPU. */
export function creditAcct(s: CreditAcctState): void {
  const weightTotal = s.weight;
  let creditTotal = s.credit;
  // Converge the balance towards 0 when it drops negative.
  if (s.creditBalance < 0) creditTotal -= s.creditBalance;
  if (weightTotal === 0) {
    s.creditBalance = 0;
    return;
  }
  const cpt = s.creditsPerTslice;
  let weightLeft = weightTotal;
  let creditBalance = 0;
  let creditXtra = false;
  // Xen walks the list with a saved next pointer: moves and removals do not disturb it.
  for (const dom of [...s.activeDoms]) {
    const n = dom.active.length;
    if (n === 0) continue;
    weightLeft -= dom.weight * n;
    // A domain can at most run all its active units for a period, unless the system-wide
    // balance is negative (then it may earn its share of the debt too).
    let creditPeak = n * cpt;
    if (s.creditBalance < 0) creditPeak += Math.floor((-s.creditBalance * dom.weight * n + (weightTotal - 1)) / weightTotal);
    if (dom.cap !== 0) {
      const creditCap = Math.floor((dom.cap * cpt + 99) / 100);
      if (creditCap < creditPeak) creditPeak = creditCap;
    }
    let creditFair = Math.floor((creditTotal * dom.weight * n + (weightTotal - 1)) / weightTotal);
    if (creditFair < creditPeak) {
      creditXtra = true;
    } else {
      // Give other domains a chance at what this one cannot use.
      if (weightLeft !== 0) creditTotal += Math.floor(((creditFair - creditPeak) * weightTotal + (weightLeft - 1)) / weightLeft);
      if (creditXtra) {
        // Keep domains with extra credits at the head, for the next periods' redistribution.
        s.activeDoms.splice(s.activeDoms.indexOf(dom), 1);
        s.activeDoms.unshift(dom);
      }
      creditFair = creditPeak;
    }
    creditFair = Math.floor((creditFair + (n - 1)) / n);
    for (const u of [...dom.active]) {
      u.credit += creditFair;
      let credit = u.credit;
      if (credit < 0) {
        u.pri = CSCHED_PRI_TS_OVER;
        if (credit < -cpt) {
          credit = -cpt;
          u.credit = credit;
        }
      } else {
        u.pri = CSCHED_PRI_TS_UNDER;
        if (credit > cpt) {
          acctStop(s, u);
          // Keep half, so it starts a little "ahead" when it becomes active again.
          credit = Math.floor(credit / 2);
          u.credit = credit;
        }
      }
      creditBalance += credit;
    }
  }
  s.creditBalance = creditBalance;
  s.runqSort++;
}
