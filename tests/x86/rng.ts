/**
 * The seeded random source of the x86 generators: xoshiro128** seeded through splitmix32,
 * so a 32-bit seed replays a whole run. Edge-biased helpers pick the operand values where
 * flag and carry logic goes wrong (0, 1, -1, sign and carry boundaries).
 *
 * Invariant: the same seed and the same sequence of calls give the same values on every
 * machine; nothing here reads the clock.
 */

export class Rng {
  private _a: number;
  private _b: number;
  private _c: number;
  private _d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this._a = next(); this._b = next(); this._c = next(); this._d = next();
    if ((this._a | this._b | this._c | this._d) === 0) this._a = 1;
  }

  /** A uniform 32-bit value (as an unsigned number). */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this._b, 5), 7), 9);
    const t = this._b << 9;
    this._c ^= this._a; this._d ^= this._b; this._b ^= this._c; this._a ^= this._d;
    this._c ^= t; this._d = rotl(this._d, 11);
    return r >>> 0;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick from an empty list');
    return xs[this.below(xs.length)] as T; // SAFETY: index < length
  }

  /** An operand of `bits` width biased to edge values (returned unsigned). */
  edge(bits: 8 | 16 | 32): number {
    const mask = bits === 32 ? 0xffff_ffff : (1 << bits) - 1;
    const top = 2 ** (bits - 1);
    switch (this.below(12)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return mask;
      case 3: return top - 1;
      case 4: return top;
      case 5: return top + 1;
      case 6: return mask - 1;
      case 7: return this.below(16);
      case 8: return (mask - this.below(16)) >>> 0;
      case 9: return ((2 ** this.below(bits)) >>> 0) & mask;
      default: return (this.u32() & mask) >>> 0;
    }
  }

  /** A 32-bit register value: an edge value of a random width, zero- or sign-extended, or noise. */
  reg32(): number {
    switch (this.below(4)) {
      case 0: return this.edge(32);
      case 1: return ((this.u32() & 0xffffff00) | this.edge(8)) >>> 0;
      case 2: return ((this.u32() & 0xffff0000) | this.edge(16)) >>> 0;
      default: return this.u32();
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seed from the environment (X86_SEED, decimal or 0x hex) or the fixed CI default. */
export function seedFromEnv(fallback: number): number {
  const s = process.env.X86_SEED;
  if (s === undefined || s === '') return fallback >>> 0;
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new Error(`X86_SEED must be a 32-bit integer, got ${JSON.stringify(s)}`);
  return v >>> 0;
}

/** Scale factor for case counts from X86_CASES (a multiplier, default 1). */
export function scaleFromEnv(): number {
  const s = process.env.X86_CASES;
  if (s === undefined || s === '') return 1;
  const v = Number(s);
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`X86_CASES must be a positive number, got ${JSON.stringify(s)}`);
  return v;
}
