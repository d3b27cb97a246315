/**
 * A small seeded PRNG (mulberry32) for replayable random tests: the seed is printed by the
 * tests that use it, and TSXEN_SEED=<n> replays a run.
 */
export function seedFromEnv(fallback: number): number {
  const s = process.env.TSXEN_SEED;
  return s !== undefined && /^\d+$/.test(s) ? Number(s) >>> 0 : fallback >>> 0;
}

export class SeededRng {
  private _s: number;
  constructor(readonly seed: number) { this._s = seed >>> 0; }
  /** Uniform uint32. */
  u32(): number {
    this._s = (this._s + 0x6d2b79f5) >>> 0;
    let t = this._s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number { return this.u32() / 0x1_0000_0000; }
  /** Uniform integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}
