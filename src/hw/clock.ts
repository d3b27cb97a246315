/**
 * Time for the emulated machine. The core (hw, devices, xen) never reads a wall clock: it is
 * given a Clock. Two kinds exist:
 *  - VirtualClock (here): time derived from retired instructions, plus explicit skips while
 *    every CPU is idle. Runs are deterministic and replayable; tests use it.
 *  - a host clock (src/host), monotonic host time for interactive use.
 *
 * Invariants: nowNs() never decreases; it is cheap but not free, so the CPU reads it only
 * for RDTSC and the platform driver once per run slice (CPU-PERF rule 11).
 */
export interface Clock {
  /** Nanoseconds since the machine was created; monotonic. */
  nowNs(): number;
  /** True when time is derived from execution (deterministic), false for host time. */
  readonly virtual: boolean;
}

/** Anything that counts retired instructions (a Cpu, or a sum over the vCPUs of a pCPU). */
export interface InstructionCounter {
  readonly instructions: number;
}

export class VirtualClock implements Clock {
  readonly virtual = true;
  private _source: InstructionCounter | null = null;
  private _skewNs = 0;

  /**
   * @param nsPerInstruction virtual nanoseconds per retired instruction (default 1, i.e. a
   *   1,000 MIPS machine; timer rates a guest measures scale with it).
   */
  constructor(readonly nsPerInstruction = 1) {
    if (!(nsPerInstruction > 0)) throw new RangeError(`nsPerInstruction ${nsPerInstruction} must be > 0`);
  }

  /** Derive time from `counter` from now on (time is continuous across the switch). */
  attach(counter: InstructionCounter): void {
    const now = this.nowNs();
    this._source = counter;
    this._skewNs = now - counter.instructions * this.nsPerInstruction;
  }

  nowNs(): number {
    const s = this._source;
    return this._skewNs + (s === null ? 0 : s.instructions * this.nsPerInstruction);
  }

  /** Idle skip: every CPU is halted, so jump to `ns` (no-op if that is in the past). */
  advanceTo(ns: number): void {
    const now = this.nowNs();
    if (ns > now) this._skewNs += ns - now;
  }

  /** Instructions to retire before time reaches `ns` (at least 1). */
  instructionsUntil(ns: number): number {
    const d = Math.ceil((ns - this.nowNs()) / this.nsPerInstruction);
    return d > 1 ? d : 1;
  }
}
