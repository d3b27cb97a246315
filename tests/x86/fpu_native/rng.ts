/**
 * A small seeded generator (mulberry32) for the x87 differential cases: the same seed gives
 * the same cases on every machine, so a failure is replayed by its seed.
 */
export class Rng {
  private _s: number;

  constructor(seed: number) {
    this._s = seed | 0;
  }

  u32(): number {
    this._s = (this._s + 0x6d2b79f5) | 0;
    let t = this._s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)] as T; // SAFETY: index < length (callers pass non-empty lists)
  }
}
