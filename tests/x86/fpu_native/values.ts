/**
 * Operand generators for the x87 differential test: 80-bit values by class (with the
 * encodings the P6 treats specially: pseudo-denormals, unnormals, pseudo-infinities and
 * pseudo-NaNs), memory reals, integers and packed BCD, biased towards rounding boundaries
 * and range edges.
 */
import type { Rng } from './rng.ts';

/** An 80-bit value: se = sign<<15 | exponent, hi/lo = significand halves (unsigned). */
export interface F80 { se: number; hi: number; lo: number }

const f80 = (se: number, hi: number, lo: number): F80 => ({ se: se & 0xffff, hi: hi >>> 0, lo: lo >>> 0 });

/** A significand with bit patterns around the 24-, 53- and 64-bit rounding positions. */
function boundarySig(r: Rng): [number, number] {
  let hi = (r.u32() | 0x80000000) >>> 0;
  let lo = r.u32();
  switch (r.below(7)) {
    case 0: lo = 0; hi = ((hi & ~0xff) | r.pick([0x80, 0x7f, 0x81, 0x00, 0xff, 0x180])) >>> 0; break; // 24-bit
    case 1: lo = ((lo & ~0x7ff) | r.pick([0x400, 0x3ff, 0x401, 0x000, 0x7ff, 0xc00])) >>> 0; break;   // 53-bit
    case 2: lo = r.pick([0, 1, 0xffffffff, 0x80000000]); break;
    case 3: hi = 0xffffffff; lo = r.pick([0xffffffff, 0xfffff800, 0xfffffc00, 0]); break;
    case 4: hi = r.pick([0x80000000, 0xffffff00, 0xffffff80]); lo = 0; break;
    default: break;
  }
  return [hi, lo];
}

export function genF80(r: Rng): F80 {
  const s = r.chance(0.5) ? 0x8000 : 0;
  switch (r.below(22)) {
    case 0: return f80(s, 0, 0);
    case 1: return f80(s | 0x7fff, 0x80000000, 0);                                       // infinity
    case 2: return f80(s | 0x7fff, 0xc0000000 | r.u32(), r.u32());                       // QNaN
    case 3: { const lo = r.u32(); return f80(s | 0x7fff, 0x80000000 | (r.u32() & 0x3fffffff), lo === 0 ? 1 : lo); } // SNaN
    case 4: return f80(0xffff, 0xc0000000, 0);                                           // indefinite
    case 5: return f80(s, r.u32() & 0x7fffffff, r.u32());                                // denormal
    case 6: return f80(s, r.pick([0, 1, 0x7fffffff]) >>> 0, r.u32() >>> r.below(32));     // tiny denormal
    case 7: return f80(s, 0x80000000 | r.u32(), r.u32());                                // pseudo-denormal
    case 8: return f80(s | r.range(1, 0x7ffe), r.u32() & 0x7fffffff, r.u32());           // unnormal
    case 9: return f80(s | 0x7fff, r.u32() & 0x7fffffff, r.u32());                       // pseudo-NaN/infinity
    case 10: return f80(s | 0x7ffe, 0xffffffff, r.pick([0xffffffff, 0xfffff800, 0]));     // near max
    case 11: return f80(s | r.range(1, 3), 0x80000000 | r.u32(), r.u32());                // near min normal
    case 12: { const n = r.range(1, 2 ** 20); return intF80(s !== 0 ? -n : n); }
    case 13: case 14: { const [hi, lo] = boundarySig(r); return f80(s | r.range(0x3fff - 80, 0x3fff + 80), hi, lo); }
    case 15: { const [hi, lo] = boundarySig(r); return f80(s | r.range(1, 0x7ffe), hi, lo); }
    case 16: return f80(s | r.range(0x3fff - 3, 0x3fff + 3), 0x80000000 | (r.u32() & r.pick([0xff000000, 0xfffff800, 0xffffffff])), 0);
    case 17: return f80(s | r.pick([0x3fff - 16382 + 1, 0x3fff - 126, 0x3fff - 1022, 0x3fff + 127, 0x3fff + 1023, 0x3fff - 149, 0x3fff - 1074, 0x3fff - 150, 0x3fff - 1075]) , 0x80000000 | r.u32(), r.u32());
    default: return f80(s | r.range(0x3fff - 64, 0x3fff + 64), 0x80000000 | r.u32(), r.u32());
  }
}

/** A special or in-every-domain operand: zero, infinity, NaN, denormal, unsupported. */
export function specialF80(r: Rng): F80 {
  for (;;) {
    const v = genF80(r);
    const e = v.se & 0x7fff;
    if (e === 0 || e === 0x7fff || (v.hi & 0x80000000) === 0) return v;
  }
}

export function intF80(n: number): F80 {
  if (n === 0) return f80(0, 0, 0);
  const s = n < 0 ? 0x8000 : 0;
  let m = Math.abs(n);
  let e = 0x3fff + 63;
  let hi = 0, lo = 0;
  // m < 2^53: place it at the top of the 64-bit significand.
  while (m < 2 ** 52) { m *= 2; e--; }
  // now m in [2^52, 2^53): significand = m · 2^11
  hi = Math.floor(m / 2 ** 21);
  lo = (m % 2 ** 21) * 2 ** 11;
  e -= 11;
  return f80(s | e, hi, lo);
}

/** A value near another (same or adjacent exponent, or far apart), for cancellation and alignment. */
export function nearF80(r: Rng, a: F80): F80 {
  const e = a.se & 0x7fff;
  if (e === 0 || e === 0x7fff) return genF80(r);
  const s = r.chance(0.5) ? a.se & 0x8000 : (a.se ^ 0x8000) & 0x8000;
  switch (r.below(4)) {
    case 0: return f80(s | e, a.hi, (a.lo + r.range(-2, 2)) >>> 0);
    case 1: return f80(s | Math.max(1, Math.min(0x7ffe, e + r.range(-2, 2))), 0x80000000 | r.u32(), r.u32());
    case 2: return f80(s | Math.max(1, Math.min(0x7ffe, e + r.pick([-64, -63, -65, 64, 66, -100, 30, -30]))), 0x80000000 | r.u32(), r.u32());
    default: return f80(s | e, 0x80000000 | r.u32(), r.u32());
  }
}

/** In-domain operands for the transcendentals and other range-restricted instructions. */
export function domainF80(r: Rng, dom: string): F80 {
  const s = r.chance(0.5) ? 0x8000 : 0;
  const sig = (): [number, number] => [0x80000000 | r.u32(), r.u32()];
  switch (dom) {
    case 'trig': {
      if (r.chance(0.05)) return f80(s | r.range(0x3fff + 63, 0x3fff + 70), 0x80000000 | r.u32(), r.u32()); // out of range
      const [hi, lo] = sig();
      return f80(s | r.range(0x3fff - 70, r.chance(0.7) ? 0x3fff + 2 : 0x3fff + 62), hi, lo);
    }
    case 'f2xm1': {
      if (r.chance(0.1)) return specialF80(r);
      if (r.chance(0.1)) return f80(s | 0x3fff, 0x80000000, 0);
      const [hi, lo] = sig();
      return f80(s | r.range(0x3fff - 80, 0x3ffe), hi, lo);
    }
    case 'log': { // positive x for FYL2X
      const [hi, lo] = sig();
      if (r.chance(0.15)) return f80(0x3fff + r.range(-3, 3), 0x80000000, 0);                 // powers of two
      if (r.chance(0.2)) return f80(r.pick([0x3fff, 0x3ffe]), r.pick([0xffffffff, 0x80000000]), r.range(0, 3)); // near 1
      return f80(r.range(1, 0x7ffe), hi, lo);
    }
    case 'log1p': { // |x| < 1 - √2/2 ≈ 0.2929
      if (r.chance(0.1)) return specialF80(r);
      const [hi, lo] = sig();
      return f80(s | r.range(0x3fff - 70, 0x3ffc), hi, lo);
    }
    default: return genF80(r);
  }
}

// ---- memory formats ------------------------------------------------------------------------

export function genF32(r: Rng): number {
  const s = r.chance(0.5) ? 0x80000000 : 0;
  switch (r.below(10)) {
    case 0: return s >>> 0;
    case 1: return (s | (r.u32() & 0x7fffff)) >>> 0;                     // denormal
    case 2: return (s | 0x7f800000) >>> 0;
    case 3: return (s | 0x7fc00000 | (r.u32() & 0x3fffff)) >>> 0;         // QNaN
    case 4: return (s | 0x7f800000 | ((r.u32() & 0x3fffff) || 1)) >>> 0;  // SNaN
    case 5: return (s | 0x7f7fffff) >>> 0;
    case 6: return (s | 0x00800000 | (r.u32() & 0x7fffff)) >>> 0;
    default: return (s | (r.range(100, 154) << 23) | (r.u32() & 0x7fffff)) >>> 0;
  }
}

export function genF64(r: Rng): [number, number] {
  const s = r.chance(0.5) ? 0x80000000 : 0;
  const lo = r.u32();
  switch (r.below(10)) {
    case 0: return [s >>> 0, 0];
    case 1: return [(s | (r.u32() & 0xfffff)) >>> 0, lo];                 // denormal
    case 2: return [(s | 0x7ff00000) >>> 0, 0];
    case 3: return [(s | 0x7ff80000 | (r.u32() & 0x7ffff)) >>> 0, lo];    // QNaN
    case 4: return [(s | 0x7ff00000 | (r.u32() & 0x7ffff)) >>> 0, lo === 0 ? 1 : lo]; // SNaN
    case 5: return [(s | 0x7fefffff) >>> 0, 0xffffffff];
    case 6: return [(s | 0x00100000 | (r.u32() & 0xfffff)) >>> 0, lo];
    default: return [(s | (r.range(1000, 1046) << 20) | (r.u32() & 0xfffff)) >>> 0, lo];
  }
}

/** An integer of `bits` width as unsigned halves [hi, lo] (hi = 0 below 64 bits). */
export function genInt(r: Rng, bits: 16 | 32 | 64): [number, number] {
  const mask = bits === 16 ? 0xffff : 0xffffffff;
  if (r.chance(0.4)) {
    const edge = r.pick([0, 1, -1, 2, -2, 3, 10, -10, 100]);
    if (bits === 64) return [(edge < 0 ? 0xffffffff : 0) >>> 0, (edge >>> 0)];
    return [0, (edge & mask) >>> 0];
  }
  if (r.chance(0.2)) {
    // the extremes
    if (bits === 64) return r.pick([[0x80000000, 0], [0x7fffffff, 0xffffffff], [0x80000000, 1]]);
    return [0, r.pick(bits === 16 ? [0x8000, 0x7fff, 0x8001] : [0x80000000, 0x7fffffff, 0x80000001])];
  }
  if (bits === 64) return [r.u32() >>> r.below(32), r.u32()];
  return [0, (r.u32() >>> r.below(bits)) & mask];
}

/** Packed BCD: 18 digits (0..9), sign byte 0x00/0x80. */
export function genBcd(r: Rng): Uint8Array {
  const b = new Uint8Array(10);
  const digits = r.range(0, 18);
  for (let d = 0; d < digits; d++) {
    const v = r.below(10);
    b[d >> 1] |= (d & 1) !== 0 ? v << 4 : v;
  }
  b[9] = r.chance(0.5) ? 0x80 : 0;
  return b;
}
