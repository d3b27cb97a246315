/**
 * Physical CPUs and their clocks.
 *
 * tsxen runs every pCPU in one host thread, time-sliced. Each pCPU keeps its own local
 * time (`Pcpu.time`, Xen system time in ns): it advances while the pCPU runs a vCPU (by the
 * instructions retired, or by charged hypercall work) and jumps while it idles. A global
 * time orders everything else (timers, dom0). The run loop (run_loop.ts) always advances
 * the pCPU that is furthest behind, by at most one quantum, so local times never drift
 * apart by more than a quantum (100 µs by default) and every interaction between pCPUs
 * (a wake-up, an IPI, a steal) happens within that bound of where it would on real
 * hardware — deterministically.
 *
 * `PcpuClock` is the Clock the hypervisor and the vCPUs' CPUs read (RDTSC, system time):
 *   - inside pCPU p's turn: p's local time plus the instructions retired since the turn
 *     (or since the last charge) times ns per instruction;
 *   - outside any turn (timers firing, dom0's hypercalls between slices): the global time.
 * With a host clock every context reads the host's time instead (interactive use: the
 * pCPUs share real time; nothing is skipped).
 *
 * Per-pCPU state is a plain object of numbers (no references into other pCPUs' state
 * except the current vCPU), so a pCPU can later move to a worker thread.
 *
 * Invariants:
 *  - A pCPU's local time never decreases; the global time never decreases.
 *  - Outside a turn, `cur` is -1.
 */
import type { Clock, InstructionCounter } from '../../../hw/clock.ts';
import type { Vcpu } from '../vcpu.ts';

export class Pcpu {
  /** The running vCPU, null when idle. */
  current: Vcpu | null = null;
  /** Local time (system ns). Only meaningful while the pCPU is busy or tickled. */
  time = 0;
  /** Reschedule once local time reaches this (a tickle); Infinity: none pending. */
  resched = Infinity;
  /** The current vCPU's slice ends here. */
  sliceEnd = Infinity;
  /** When the pCPU went idle, and its idle time before that (sysctl getcpuinfo). */
  idleSince = 0;
  idleNs = 0;
  /** Context switches done on this pCPU. */
  switches = 0;
  /** Scheduling decisions taken (switches or not). */
  schedules = 0;

  constructor(readonly id: number) {}

  /** Idle time up to `now` (now >= idleSince while idle). */
  idleTime(now: number): number {
    return this.idleNs + (this.current === null ? Math.max(0, now - this.idleSince) : 0);
  }
}

export interface PcpuClock extends Clock {
  /** System time in the current context (ns). */
  now(): number;
  /** The pCPU whose turn it is, or -1. */
  readonly cur: number;
  /** The global time (system ns). */
  readonly global: number;
  /** Begin pCPU p's turn: reads now come from its local time. */
  enter(p: Pcpu): void;
  /** End the turn: the pCPU's local time becomes what the clock reads now. */
  leave(): void;
  /** Move the current context's time forward to system time `ns` (no-op if not later). */
  advanceSystem(ns: number): void;
  /** Clock interface form of advanceSystem (clock ns, used by XenTime). */
  advanceTo(clockNs: number): void;
  /** Raise the global time to `ns` (events happen, dom0 runs at it). */
  setGlobal(ns: number): void;
}

/**
 * Virtual time: derived from the instructions the vCPUs retire (`counter`, the sum over
 * all vCPU CPUs, read as a delta across a turn) plus explicit advances.
 */
export class VirtualPcpuClock implements PcpuClock {
  readonly virtual = true;
  cur = -1;
  global: number;
  private _pcpu: Pcpu | null = null;
  private _base = 0;
  private _mark = 0;
  private _counter: InstructionCounter | null = null;

  /** @param baseNs system time when the clock reads 0. */
  constructor(readonly nsPerInstruction: number, readonly baseNs: number, startNs: number) {
    this.global = startNs;
  }

  /** The instruction counter of every vCPU CPU (set once the architecture exists). */
  attach(counter: InstructionCounter): void {
    this._counter = counter;
  }

  now(): number {
    if (this._pcpu === null) return this.global;
    const c = this._counter;
    return c === null ? this._base : this._base + (c.instructions - this._mark) * this.nsPerInstruction;
  }

  nowNs(): number {
    return this.now() - this.baseNs;
  }

  enter(p: Pcpu): void {
    this._pcpu = p;
    this.cur = p.id;
    this._base = p.time;
    this._mark = this._counter === null ? 0 : this._counter.instructions;
  }

  leave(): void {
    const p = this._pcpu;
    if (p === null) return;
    const t = this.now();
    if (t > p.time) p.time = t;
    this._pcpu = null;
    this.cur = -1;
  }

  advanceSystem(ns: number): void {
    if (this._pcpu === null) {
      if (ns > this.global) this.global = ns;
      return;
    }
    const t = this.now();
    if (ns > t) this._base += ns - t;
  }

  advanceTo(clockNs: number): void {
    this.advanceSystem(clockNs + this.baseNs);
  }

  setGlobal(ns: number): void {
    if (ns > this.global) this.global = ns;
  }
}

/** Host time for every context (interactive use). */
export class HostPcpuClock implements PcpuClock {
  readonly virtual = false;
  cur = -1;
  private _pcpu: Pcpu | null = null;

  constructor(private readonly _host: Clock, readonly baseNs: number) {}

  get global(): number {
    return this.now();
  }

  now(): number {
    return this._host.nowNs() + this.baseNs;
  }

  nowNs(): number {
    return this._host.nowNs();
  }

  enter(p: Pcpu): void {
    this._pcpu = p;
    this.cur = p.id;
    p.time = this.now();
  }

  leave(): void {
    if (this._pcpu !== null) this._pcpu.time = this.now();
    this._pcpu = null;
    this.cur = -1;
  }

  advanceSystem(_ns: number): void {}

  advanceTo(_clockNs: number): void {}

  setGlobal(_ns: number): void {}
}
