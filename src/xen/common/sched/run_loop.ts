/**
 * The run loop: gives the pCPUs their turns in one host thread.
 *
 * Virtual time (deterministic). A pCPU is *active* when it has a vCPU or a pending tickle;
 * an inactive pCPU is halted and wakes only when tickled or when one of its scheduler
 * timers is due. The loop repeatedly takes the earliest thing that can happen:
 *   - a global timer, a native domain's (dom0's) due upcall, or an inactive pCPU's
 *     scheduler timer, if due no later than every active pCPU's local time: it happens at
 *     its own time (the global time is raised to it; dom0's upcalls make runFor return);
 *   - otherwise the active pCPU with the least local time (lowest id on ties) takes a turn
 *     of at most one quantum, ending early at the next event, at runFor's end, at its
 *     slice end or tickle, or at its next scheduler timer.
 * So every pCPU's local time stays within a quantum (plus one instruction block) of every
 * other active pCPU's, events fire in time order, and a run is a pure function of its
 * inputs. An idle machine jumps straight to its next event.
 *
 * Host time (interactive): every context reads the host's clock; active pCPUs take turns
 * round robin, a quantum of instructions each; when nothing can run the loop returns and
 * the host waits for the next timer.
 *
 * Invariants: each turn either advances its pCPU's local time, or changes what runs on it
 * (a schedule), or ends because an event is due; nothing spins without progress.
 */
import type { SchedCore } from './core.ts';
import type { PcpuClock } from './pcpu.ts';
import type { TimerQueue } from '../timer.ts';
import type { Vcpu } from '../vcpu.ts';

/** The default quantum: the most any pCPU runs ahead of another (virtual ns). */
export const PCPU_QUANTUM_NS = 100_000;

export interface RunLoopEnv {
  /** Run `v` (current on the pCPU whose turn it is) for about `budgetNs` of that pCPU's time. */
  runVcpu(v: Vcpu, budgetNs: number): void;
  /** System time by which native upcalls must run (Infinity: none). */
  nativeDeadline(): number;
  /** Native upcalls are waiting (when nothing else can run they go first). */
  nativePending(): boolean;
}

export class RunLoop {
  /** Turns taken (statistics, benchmarks). */
  turns = 0;
  private _rrNext = 0;

  constructor(private readonly _core: SchedCore, private readonly _clock: PcpuClock,
    private readonly _timers: TimerQueue, private readonly _env: RunLoopEnv, readonly quantumNs = PCPU_QUANTUM_NS) {}

  /**
   * Run the machine for about `ns` of system time, or until nothing can happen (virtual
   * clock: no event at all; host clock: nothing runnable), or until dom0 has upcalls due.
   * Returns the global time reached.
   */
  runFor(ns: number): number {
    return this._clock.virtual ? this._runVirtual(ns) : this._runHost(ns);
  }

  private _active(p: number): boolean {
    const pc = this._core.pcpu[p]!;
    return pc.current !== null || pc.resched !== Infinity;
  }

  private _runVirtual(ns: number): number {
    const clock = this._clock;
    const core = this._core;
    const policy = core.policy;
    const pcs = core.pcpu;
    const n = pcs.length;
    const end = clock.global + ns;
    for (;;) {
      let p = -1, pt = Infinity;
      let polCpu = -1, tPol = Infinity;
      for (let q = 0; q < n; q++) {
        const pc = pcs[q]!;
        if (this._active(q)) {
          if (pc.time < pt) {
            pt = pc.time;
            p = q;
          }
        } else {
          const t = policy.nextTimer(q);
          if (t < tPol) {
            tPol = t;
            polCpu = q;
          }
        }
      }
      // Nothing can run: dom0's pending work goes now rather than the clock jumping past it.
      if (p < 0 && this._env.nativePending()) return clock.global;
      const tTimer = this._timers.nextDeadline();
      const tNative = this._env.nativePending() ? this._env.nativeDeadline() : Infinity;
      const tEv = Math.min(tTimer, tNative, tPol);
      if (tEv <= pt) {
        if (tEv === Infinity) return clock.global;
        if (tEv >= end) {
          clock.setGlobal(end);
          return clock.global;
        }
        clock.setGlobal(tEv);
        if (tNative <= tTimer && tNative <= tPol) return clock.global;
        if (tTimer <= tPol) {
          this._timers.fireExpired(clock.global);
        } else {
          const pc = pcs[polCpu]!;
          if (pc.time < tPol) pc.time = tPol;
          clock.enter(pc);
          try {
            policy.timer(polCpu, clock.now());
          } finally {
            clock.leave();
          }
        }
        continue;
      }
      if (pt >= end) {
        clock.setGlobal(end);
        return clock.global;
      }
      clock.setGlobal(pt);
      const target = Math.min(n > 1 ? pt + this.quantumNs : Infinity, tEv, end);
      this._turn(p, target);
    }
  }

  private _runHost(ns: number): number {
    const clock = this._clock;
    const core = this._core;
    const policy = core.policy;
    const n = core.pcpus;
    const end = clock.now() + ns;
    for (;;) {
      let now = clock.now();
      this._timers.fireExpired(now);
      for (let q = 0; q < n; q++) {
        if (policy.nextTimer(q) > now) continue;
        clock.enter(core.pcpu[q]!);
        try {
          policy.timer(q, clock.now());
        } finally {
          clock.leave();
        }
      }
      now = clock.now();
      if (now >= end) return now;
      if (this._env.nativePending() && now >= this._env.nativeDeadline()) return now;
      let p = -1;
      for (let i = 0; i < n; i++) {
        const q = (this._rrNext + i) % n;
        if (this._active(q)) {
          p = q;
          break;
        }
      }
      if (p < 0) return now;
      this._rrNext = (p + 1) % n;
      this._turn(p, Math.min(now + this.quantumNs, this._timers.nextDeadline(), end));
    }
  }

  /** One turn of pCPU `p`, up to local time `target`. */
  private _turn(p: number, target: number): void {
    const clock = this._clock;
    const core = this._core;
    const policy = core.policy;
    const pc = core.pcpu[p]!;
    this.turns++;
    clock.enter(pc);
    try {
      for (;;) {
        const now = clock.now();
        const nd = this._env.nativeDeadline();
        const stop = nd < target ? nd : target;
        if (now >= stop) return;
        const tp = policy.nextTimer(p);
        if (tp <= now) {
          policy.timer(p, now);
          continue;
        }
        const cur = pc.current;
        if (pc.resched <= now || (cur !== null && (now >= pc.sliceEnd || !cur.runnable()))) {
          if (core.schedule(p) === null && pc.resched === Infinity) return; // idle: halted
          continue;
        }
        if (cur === null) {
          // Idle with a tickle due later on this pCPU's clock: halt until then.
          clock.advanceSystem(Math.min(pc.resched, stop, tp));
          continue;
        }
        const until = Math.min(stop, pc.sliceEnd, pc.resched, tp);
        // Whole ns, at least one: every run moves its pCPU's clock.
        this._env.runVcpu(cur, Math.max(1, Math.ceil(until - now)));
      }
    } finally {
      clock.leave();
    }
  }
}
