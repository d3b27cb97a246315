/**
 * The credit scheduler (Xen's common/sched/credit.c, "credit1"): a weighted fair-share
 * SMP scheduler with one runqueue per pCPU.
 *
 *  - Priorities: BOOST (woken from block, not yet seen consuming CPU) > UNDER (credit left)
 *    > OVER (in debt) > IDLE. A runqueue is FIFO within a priority; a pCPU runs its head.
 *  - Credits (credit_acct.ts): earned every 30 ms accounting period in proportion to the
 *    domain's weight, bounded by its cap; debited 10 per ms of running, at each 10 ms tick
 *    and each schedule. A tick also ends a boost and starts a unit's accounting.
 *  - Time slice 30 ms; a vCPU that ran less than the rate limit (1 ms) is not preempted
 *    unless it yields, blocks or leaves.
 *  - Waking (csched_unit_wake + __runq_tickle): a unit waking from block is boosted and
 *    queued on its pCPU; that pCPU is tickled if the unit beats what runs there and no pCPU
 *    idles, else an idle pCPU in its (soft, then hard) affinity is tickled to come and
 *    steal it. So an I/O-bound vCPU preempts CPU hogs within the rate limit.
 *  - Load balancing: a pCPU whose best local candidate is OVER or idle steals the first
 *    strictly better queued unit from a busy peer (soft-affine work first, then hard);
 *    at each tick a running unit sharing its pCPU moves to an idle pCPU if one suits it.
 *  - Caps (credit_cap.ts): a capped domain gets cap% of a pCPU per 10 ms period; its units
 *    are parked (paused) when the budget is gone and unparked when it refills.
 *  - Affinity: a unit only ever runs in its hard affinity; soft affinity orders the
 *    placement and stealing choices.
 *
 * Differences from Xen: caps are enforced by a budget rather than by parking from the
 * accounting (see credit_cap.ts for why); one socket of single-thread cores, so
 * _csched_cpu_pick's sibling/core idleness comparison reduces to "prefer the current
 * pCPU, else an idle one" (idle_bias is not needed); no cpupools beyond Pool-0; no tasklets.
 */
import type { SchedCoreOps, SchedDecision, SchedDomParams, SchedGlobalParams, Scheduler } from './scheduler.ts';
import {
  BALANCE_HARD_AFFINITY, BALANCE_SOFT_AFFINITY, balanceMask, cpuBit, cycleCpu, hasSoftAffinity, maskString, maskWeight,
  testCpu,
} from './affinity.ts';
import {
  CSCHED_FLAG_UNIT_MIGRATING, CSCHED_FLAG_UNIT_PARKED, CSCHED_FLAG_UNIT_PINNED, CSCHED_FLAG_UNIT_YIELD,
  CSCHED_PRI_IDLE, CSCHED_PRI_TS_BOOST, CSCHED_PRI_TS_OVER, CSCHED_PRI_TS_UNDER, CreditDom, CreditPcpu, CreditUnit,
  runqInsert, runqSortUnder, runqUnits, unlink,
} from './credit_runq.ts';
import { acctStart, acctStop, burnCredits, creditAcct, CSCHED_CREDITS_PER_MSEC, type CreditAcctState } from './credit_acct.ts';
import { CreditCaps } from './credit_cap.ts';
import type { Vcpu } from '../vcpu.ts';
import type { Domain } from '../domain.ts';
import { EINVAL } from '../../../abi/errno.ts';
import { XEN_SCHEDULER_CREDIT } from '../../../abi/domctl.ts';
import {
  XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US, XEN_SYSCTL_CSCHED_TSLICE_MAX, XEN_SYSCTL_CSCHED_TSLICE_MIN,
  XEN_SYSCTL_SCHED_RATELIMIT_MAX, XEN_SYSCTL_SCHED_RATELIMIT_MIN,
} from '../../../abi/sysctl.ts';
import { assert } from '../../util/assert.ts';

export const CSCHED_DEFAULT_TSLICE_MS = 30;
export const CSCHED_TICKS_PER_TSLICE = 3;
/** sched_ratelimit_us's default (SCHED_DEFAULT_RATELIMIT_US). */
export const SCHED_DEFAULT_RATELIMIT_US = 1000;
/** Never set a timer shorter than this (CSCHED_MIN_TIMER = the rate limit minimum). */
const CSCHED_MIN_TIMER_NS = XEN_SYSCTL_SCHED_RATELIMIT_MIN * 1000;
const MS = 1_000_000;

export interface CreditOptions {
  tsliceMs?: number;
  ratelimitUs?: number;
  vcpuMigrDelayUs?: number;
}

export class CreditScheduler implements Scheduler, CreditAcctState {
  readonly name = 'credit';
  readonly schedId = XEN_SCHEDULER_CREDIT;
  private _core!: SchedCoreOps;
  private _pcpu: CreditPcpu[] = [];
  private _online = 0;
  private readonly _doms = new WeakMap<Domain, CreditDom>();
  /** Mask of pCPUs running their idle unit and not tickled (prv->idlers). */
  idlers = 0;
  weight = 0;
  credit = 0;
  creditBalance = 0;
  creditsPerTslice = 0;
  runqSort = 0;
  readonly activeDoms: CreditDom[] = [];
  private _tsliceNs = 0;
  private _ticksPerTslice = CSCHED_TICKS_PER_TSLICE;
  private _tickPeriodNs = 0;
  private _ratelimitNs: number;
  private _migrDelayNs: number;
  private readonly _master = 0;
  private _acctDeadline = Infinity;
  private _caps!: CreditCaps;
  /** per-executing-pCPU last_tickle_cpu (index pcpus: the global context). */
  private _lastTickle: number[] = [];
  /** Statistics (dumps, tests, benchmarks). */
  readonly stats = { steals: 0, tickles: 0, migrations: 0, acctRuns: 0, boosts: 0 };

  constructor(readonly opts: CreditOptions = {}) {
    this._ratelimitNs = (opts.ratelimitUs ?? SCHED_DEFAULT_RATELIMIT_US) * 1000;
    this._migrDelayNs = (opts.vcpuMigrDelayUs ?? 0) * 1000;
  }

  attach(core: SchedCoreOps): void {
    this._core = core;
    const n = core.pcpus;
    this._online = n >= 31 ? 0x7fffffff : (1 << n) - 1;
    this._pcpu = [];
    for (let p = 0; p < n; p++) this._pcpu.push(new CreditPcpu(p));
    this._lastTickle = new Array<number>(n + 1).fill(0);
    this.idlers = this._online;
    this._caps = new CreditCaps(core, 1, (u, now) => {
      if (!u.active) this._acctStart(u, now);
    });
    this._setTslice(this.opts.tsliceMs ?? CSCHED_DEFAULT_TSLICE_MS);
    if (this._ratelimitNs > this._tsliceNs) this._ratelimitNs = this._tsliceNs;
    this._acctDeadline = core.now() + this._tsliceNs;
  }

  // ---- vCPUs ---------------------------------------------------------------------------------

  insert(v: Vcpu): CreditUnit {
    assert(v.schedData === null, () => `${v} inserted twice`);
    const u = new CreditUnit(v, this._dom(v.domain));
    v.schedData = u;
    this.affinityChanged(v);
    v.processor = this.pickCpu(v);
    return u;
  }

  remove(v: Vcpu): void {
    const u = this._unit(v);
    assert(!u.onRunq, () => `${v} removed while queued`);
    this._caps.forget(u);
    acctStop(this, u);
  }

  sleep(v: Vcpu): void {
    const u = this._unit(v);
    if (this._core.current(v.processor) === v) this._core.tickle(v.processor);
    else if (u.onRunq) this._runqRemove(v.processor, u);
  }

  wake(v: Vcpu): void {
    const u = this._unit(v);
    if (this._core.current(v.processor) === v || u.onRunq) return;
    // Boost a unit waking from block, not one that is only migrating or was parked.
    const migrating = (u.flags & CSCHED_FLAG_UNIT_MIGRATING) !== 0;
    u.flags &= ~CSCHED_FLAG_UNIT_MIGRATING;
    if (!migrating && u.pri === CSCHED_PRI_TS_UNDER && (u.flags & CSCHED_FLAG_UNIT_PARKED) === 0) {
      u.pri = CSCHED_PRI_TS_BOOST;
      this.stats.boosts++;
    }
    const pc = this._pcpu[v.processor]!;
    runqInsert(pc, u);
    pc.nrRunnable++;
    this._tickle(u);
  }

  yield(v: Vcpu): void {
    this._unit(v).flags |= CSCHED_FLAG_UNIT_YIELD;
  }

  /** csched_res_pick (the unit is migrating: its wake must not boost it). */
  pickCpu(v: Vcpu): number {
    this._unit(v).flags |= CSCHED_FLAG_UNIT_MIGRATING;
    return this._cpuPick(v);
  }

  affinityChanged(v: Vcpu): void {
    const u = this._unit(v);
    if (maskWeight(v.affinity & this._online) === 1) u.flags |= CSCHED_FLAG_UNIT_PINNED;
    else u.flags &= ~CSCHED_FLAG_UNIT_PINNED;
  }

  // ---- csched_schedule -----------------------------------------------------------------------

  doSchedule(p: number, prev: Vcpu | null, now: number, out: SchedDecision): void {
    const pc = this._pcpu[p]!;
    const caps = this._caps;
    const scurr = prev === null ? pc.idle : this._unit(prev);
    const runtime = prev === null ? 0 : Math.max(0, now - prev.runstateEntry);
    if (prev !== null) {
      burnCredits(scurr, now);
      scurr.startTime -= now;
      scurr.lastSchedTime = now;
    } else {
      scurr.pri = CSCHED_PRI_IDLE;
    }
    // Rate limiting: a vCPU that ran less than the limit keeps the pCPU (unless it yields,
    // or its cap budget is spent).
    const capLeft = prev === null ? 0 : caps.remaining(scurr, now);
    if (prev !== null && (scurr.flags & CSCHED_FLAG_UNIT_YIELD) === 0 && this._ratelimitNs > 0 && prev.runnable() &&
      runtime < this._ratelimitNs && capLeft > 0) {
      scurr.startTime += now;
      out.next = prev;
      out.sliceNs = Math.min(runtime < CSCHED_MIN_TIMER_NS ? CSCHED_MIN_TIMER_NS : this._ratelimitNs - runtime, capLeft);
      out.migrated = false;
      return;
    }
    if (prev !== null) caps.settle(scurr, now);
    if (prev === null || prev.runnable()) runqInsert(pc, scurr);
    else pc.nrRunnable--;
    scurr.flags &= ~CSCHED_FLAG_UNIT_YIELD;

    let snext: CreditUnit;
    let migrated = false;
    for (;;) {
      snext = pc.first()!; // SAFETY: scurr or the idle unit is queued here
      if (snext.pri > CSCHED_PRI_TS_OVER) {
        unlink(snext);
      } else {
        const s = this._loadBalance(p, snext, now);
        migrated = s !== snext;
        snext = s;
      }
      // A capped unit without budget is parked, and the choice made again.
      if (snext.v === null || caps.admit(snext, now)) break;
      pc.nrRunnable--;
      migrated = false;
    }
    if (snext.v === null) this.idlers |= cpuBit(p);
    else this.idlers &= ~cpuBit(p);
    let slice = this._tsliceNs;
    if (snext.v !== null) {
      const start = Math.max(now, snext.v.runstateEntry);
      snext.startTime += start;
      slice = Math.min(slice, caps.grant(snext, start));
    }
    out.next = snext.v;
    out.sliceNs = snext.v === null ? Infinity : slice;
    out.migrated = migrated;
    // The credit tick stops while the pCPU idles and restarts, aligned, when it gets work.
    if (prev !== null && snext.v === null) pc.tickDeadline = Infinity;
    if (prev === null && snext.v !== null) pc.tickDeadline = now + this._tickPeriodNs - (now % this._tickPeriodNs);
  }

  // ---- timers: the 10 ms tick and the 30 ms accounting ---------------------------------------

  nextTimer(p: number): number {
    const t = this._pcpu[p]!.tickDeadline;
    if (p !== this._master) return t;
    return Math.min(t, this._caps.nextRefill, this.weight === 0 ? Infinity : this._acctDeadline);
  }

  timer(p: number, now: number): void {
    if (p === this._master) this._caps.refillDue(now);
    if (p === this._master && this.weight > 0 && now >= this._acctDeadline) {
      this.stats.acctRuns++;
      creditAcct(this);
      this._acctDeadline = now + this._tsliceNs;
    }
    const pc = this._pcpu[p]!;
    if (now >= pc.tickDeadline) {
      pc.tick++;
      const cur = this._core.current(p);
      if (cur !== null) this._unitAcct(p, cur, now);
      this._runqSort(pc);
      pc.tickDeadline = now + this._tickPeriodNs;
    }
  }

  /** csched_unit_acct: the running unit's tick. */
  private _unitAcct(p: number, v: Vcpu, now: number): void {
    const u = this._unit(v);
    // Seen consuming CPU: no longer boosted.
    if (u.pri === CSCHED_PRI_TS_BOOST) u.pri = CSCHED_PRI_TS_UNDER;
    burnCredits(u, now);
    if (!u.active) {
      this._acctStart(u, now);
      return;
    }
    // Active a while: would it be better off on another (idle) pCPU?
    const to = this._cpuPick(v);
    if (to !== p) {
      this.stats.migrations++;
      this._migrate(v);
    }
  }

  private _acctStart(u: CreditUnit, now: number): void {
    if (this.weight === 0 && this._acctDeadline < now) {
      // The accounting slept while nothing was active (as if it ran with no work: the
      // balance is 0); keep its phase.
      this._acctDeadline += Math.ceil((now - this._acctDeadline) / this._tsliceNs) * this._tsliceNs;
      this.creditBalance = 0;
    }
    acctStart(this, u);
  }

  /** csched_runq_sort: once per accounting period, UNDERs move ahead of OVERs. */
  private _runqSort(pc: CreditPcpu): void {
    if (pc.runqSortLast === this.runqSort) return;
    pc.runqSortLast = this.runqSort;
    runqSortUnder(pc);
  }

  hasPending(): boolean {
    return this._caps.parked.length > 0;
  }

  // ---- placement, tickling, stealing ---------------------------------------------------------

  /** _csched_cpu_pick for single-thread cores: its processor if idle there, else an idle pCPU, else stay. */
  private _cpuPick(v: Vcpu): number {
    const n = this._core.pcpus;
    const online = this._online;
    let cpu = v.processor;
    for (let step = BALANCE_SOFT_AFFINITY; step <= BALANCE_HARD_AFFINITY; step++) {
      const cpus = balanceMask(v, step, online);
      if (step === BALANCE_SOFT_AFFINITY && (!hasSoftAffinity(v, online) || cpus === 0)) continue;
      cpu = testCpu(v.processor, cpus) ? v.processor : cycleCpu(v.processor, cpus, n);
      let idlers = this.idlers & online;
      if (v.processor === cpu && this._pcpu[cpu]!.runqIdle()) idlers |= cpuBit(cpu);
      const cands = idlers & cpus;
      if (!testCpu(cpu, cands) && cands !== 0) cpu = cycleCpu(cpu, cands, n);
      if (testCpu(cpu, idlers)) break;
    }
    return cpu;
  }

  /** __runq_tickle: who should look at a newly queued unit. */
  private _tickle(u: CreditUnit): void {
    const v = u.v!; // SAFETY: the idle unit is never woken
    const cpu = v.processor;
    const n = this._core.pcpus;
    const cur = this._core.current(cpu);
    const curPri = cur === null ? CSCHED_PRI_IDLE : this._unit(cur).pri;
    const idleMask = this.idlers & this._online;
    let mask = 0;
    if ((u.flags & CSCHED_FLAG_UNIT_PINNED) !== 0 && testCpu(cpu, idleMask)) {
      mask = cpuBit(cpu);
    } else if (curPri === CSCHED_PRI_IDLE || (idleMask === 0 && u.pri > curPri)) {
      mask = cpuBit(cpu);
    } else if (idleMask !== 0) {
      for (let step = BALANCE_SOFT_AFFINITY; step <= BALANCE_HARD_AFFINITY && mask === 0; step++) {
        if (step === BALANCE_SOFT_AFFINITY && !hasSoftAffinity(v, this._online)) continue;
        const suit = balanceMask(v, step, this._online) & idleMask;
        if (suit === 0 && step === BALANCE_SOFT_AFFINITY) continue;
        if (suit === 0 && u.pri > curPri) {
          // No idler suits the new unit but it beats cur: send cur to an idler if it can go.
          if (cur !== null && (cur.affinity & idleMask) !== 0) this._migrate(cur);
          mask = cpuBit(cpu);
        } else if (suit !== 0) {
          const e = this._core.executing();
          const slot = e < 0 ? n : e;
          const to = cycleCpu(this._lastTickle[slot]!, suit, n);
          this._lastTickle[slot] = to;
          mask = cpuBit(to);
        }
      }
    }
    for (let p = 0; p < n; p++) {
      if (!testCpu(p, mask)) continue;
      this.idlers &= ~cpuBit(p);
      this.stats.tickles++;
      this._core.tickle(p);
    }
  }

  /** A running vCPU is to move (sched_set_pause_flags(_VPF_migrating)): the core does it at its switch-out. */
  private _migrate(v: Vcpu): void {
    this._core.migrate(v);
  }

  /** csched_load_balance: steal strictly better work from busy peers, soft-affine work first. */
  private _loadBalance(p: number, snext: CreditUnit, now: number): CreditUnit {
    const n = this._core.pcpus;
    for (let step = BALANCE_SOFT_AFFINITY; step <= BALANCE_HARD_AFFINITY; step++) {
      const workers = this._online & ~this.idlers & ~cpuBit(p);
      if (workers === 0) break;
      const first = cycleCpu(this._balanceBias, workers, n);
      let peer = first;
      do {
        if (this._pcpu[peer]!.nrRunnable > 1) {
          const s = this._runqSteal(peer, p, snext.pri, step, now);
          if (s !== null) {
            this._balanceBias = peer;
            return s;
          }
        }
        peer = cycleCpu(peer, workers, n);
      } while (peer !== first);
    }
    unlink(snext);
    return snext;
  }

  private _balanceBias = 0;

  /** csched_runq_steal. */
  private _runqSteal(peer: number, p: number, pri: number, step: number, now: number): CreditUnit | null {
    if (this._core.current(peer) === null) return null; // it is about to pick its own work
    const pc = this._pcpu[peer]!;
    for (let node = pc.runq.next; node !== pc.runq; node = node.next) {
      const s = node as CreditUnit; // non-head nodes are units
      if (s.pri <= pri) break;
      const v = s.v!; // SAFETY: pri > the caller's >= IDLE, so not an idle unit
      if (v.running || (step === BALANCE_SOFT_AFFINITY && !hasSoftAffinity(v, this._online))) continue;
      const hot = this._migrDelayNs > 0 && now - s.lastSchedTime < this._migrDelayNs;
      if (!hot && testCpu(p, balanceMask(v, step, this._online))) {
        this._runqRemove(peer, s);
        v.processor = p;
        this._pcpu[p]!.nrRunnable++;
        this.stats.steals++;
        return s;
      }
    }
    return null;
  }

  private _runqRemove(p: number, u: CreditUnit): void {
    this._pcpu[p]!.nrRunnable--;
    unlink(u);
  }

  // ---- parameters ----------------------------------------------------------------------------

  getParams(d: Domain): SchedDomParams {
    const dom = this._dom(d);
    return { weight: dom.weight, cap: dom.cap };
  }

  /** csched_dom_cntl putinfo: weight 0 and cap 0xFFFF leave the value alone. */
  setParams(d: Domain, weight: number, cap: number): number {
    const dom = this._dom(d);
    if (weight !== 0) {
      if (dom.activeListed) this.weight += (weight - dom.weight) * dom.active.length;
      dom.weight = weight;
      d.schedWeight = weight;
    }
    if (cap !== 0xffff) {
      dom.cap = cap;
      d.schedCap = cap;
    }
    return 0;
  }

  getGlobal(): SchedGlobalParams {
    return {
      tsliceMs: this._tsliceNs / MS, ratelimitUs: this._ratelimitNs / 1000, vcpuMigrDelayUs: this._migrDelayNs / 1000,
    };
  }

  /** csched_sys_cntl putinfo. */
  setGlobal(g: SchedGlobalParams): number {
    if (g.tsliceMs > XEN_SYSCTL_CSCHED_TSLICE_MAX || g.tsliceMs < XEN_SYSCTL_CSCHED_TSLICE_MIN ||
      (g.ratelimitUs !== 0 && (g.ratelimitUs > XEN_SYSCTL_SCHED_RATELIMIT_MAX || g.ratelimitUs < XEN_SYSCTL_SCHED_RATELIMIT_MIN)) ||
      g.ratelimitUs * 1000 > g.tsliceMs * MS || g.vcpuMigrDelayUs > XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US) {
      return -EINVAL;
    }
    this._setTslice(g.tsliceMs);
    this._ratelimitNs = g.ratelimitUs * 1000;
    this._migrDelayNs = g.vcpuMigrDelayUs * 1000;
    return 0;
  }

  /** __csched_set_tslice. */
  private _setTslice(ms: number): void {
    this._tsliceNs = ms * MS;
    this._ticksPerTslice = ms < CSCHED_TICKS_PER_TSLICE ? 1 : CSCHED_TICKS_PER_TSLICE;
    this._tickPeriodNs = Math.floor((ms * 1000) / this._ticksPerTslice) * 1000;
    this.creditsPerTslice = CSCHED_CREDITS_PER_MSEC * ms;
    this.credit = this.creditsPerTslice * this._core.pcpus;
    this._caps.periodNs = this._tickPeriodNs;
  }

  // ---- introspection -------------------------------------------------------------------------

  /** The credit state of a vCPU (tests, dumps). */
  unitInfo(v: Vcpu): { pri: number; credit: number; active: boolean; parked: boolean; queued: boolean } {
    const u = this._unit(v);
    return {
      pri: u.pri, credit: u.credit, active: u.active, parked: (u.flags & CSCHED_FLAG_UNIT_PARKED) !== 0, queued: u.onRunq,
    };
  }

  /** Queued non-idle units and nr_runnable of each pCPU (tests check them against the core). */
  runqueues(): Array<{ units: Vcpu[]; nrRunnable: number }> {
    return this._pcpu.map((pc) => ({
      units: runqUnits(pc).filter((u) => u.v !== null).map((u) => u.v!), // SAFETY: filtered to non-idle
      nrRunnable: pc.nrRunnable,
    }));
  }

  /** csched_dump + csched_dump_pcpu. */
  dump(): string[] {
    const n = this._core.pcpus;
    const out = [
      `info: ncpus=${n} master=${this._master} credit=${this.credit} credit balance=${this.creditBalance} ` +
      `weight=${this.weight} runq_sort=${this.runqSort} tslice=${this._tsliceNs / MS}ms ` +
      `ratelimit=${this._ratelimitNs / 1000}us ticks per tslice=${this._ticksPerTslice} ` +
      `migration delay=${this._migrDelayNs / 1000}us`,
      `idlers: ${maskString(this.idlers, n)}`,
    ];
    const unit = (u: CreditUnit): string => {
      const v = u.v!; // SAFETY: only called for non-idle units
      const d = u.dom!; // SAFETY: non-idle units have a domain
      return `[${v.domain.domid}.${v.id}] pri=${u.pri} flags=${u.flags} cpu=${v.processor} credit=${u.credit} ` +
        `[w=${d.weight},cap=${d.cap}]`;
    };
    for (let p = 0; p < n; p++) {
      const pc = this._pcpu[p]!;
      out.push(`CPU[${p}] nr_run=${pc.nrRunnable}, sort=${pc.runqSortLast}`);
      const cur = this._core.current(p);
      if (cur !== null) out.push(`\trun: ${unit(this._unit(cur))}`);
      let i = 0;
      for (const u of runqUnits(pc)) if (u.v !== null) out.push(`\t${++i}: ${unit(u)}`);
    }
    return out;
  }

  private _unit(v: Vcpu): CreditUnit {
    return v.schedData as CreditUnit; // SAFETY: insert() gave every vCPU of this scheduler a unit
  }

  private _dom(d: Domain): CreditDom {
    let dom = this._doms.get(d);
    if (dom === undefined) {
      dom = new CreditDom(d);
      dom.weight = d.schedWeight;
      dom.cap = d.schedCap;
      this._doms.set(d, dom);
    }
    return dom;
  }
}
