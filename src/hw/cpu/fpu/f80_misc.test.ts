/**
 * FRNDINT, FSCALE, FXTRACT, FPREM and FPREM1. Remainders are checked against exact BigInt
 * arithmetic, including the partial-remainder loop (C2) for exponent gaps of 64 and more.
 */
import { describe, expect, it } from 'vitest';
import { C0, C1, C1_UP, C2, C3, DE, IE, OUT, PE, ZE } from './f80.ts';
import { f64ToF80 } from './f80_convert.ts';
import { f80Extract, f80Rem, f80RoundInt, f80Scale, xHi, xLo, xSe } from './f80_misc.ts';

function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

type V = [number, number, number];
const cw = (rc: number, masks = 0x3f): number => masks | 0x340 | (rc << 10);
const d80 = (d: number): V => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, d, true);
  f64ToF80(b.getUint32(4, true) | 0, b.getUint32(0, true) | 0);
  return [OUT[0], OUT[1], OUT[2]];
};
const toNum = (se: number, hi: number, lo: number): number => {
  if ((se & 0x7fff) === 0x7fff) return (hi & 0x7fffffff) === 0 && lo === 0 ? ((se & 0x8000) !== 0 ? -Infinity : Infinity) : NaN;
  const sig = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return ((se & 0x8000) !== 0 ? -1 : 1) * Number(sig) * 2 ** (Math.max(1, se & 0x7fff) - 16383 - 63);
};
const out = (): number => toNum(OUT[0], OUT[1], OUT[2]);

describe('FRNDINT', () => {
  it('rounds to an integer by RC, keeping the sign of zero', () => {
    const table: [number, number[]][] = [
      [2.5, [2, 2, 3, 2]], [-2.5, [-2, -3, -2, -2]], [0.3, [0, 0, 1, 0]], [-0.3, [-0, -1, -0, -0]], [7, [7, 7, 7, 7]],
    ];
    for (const [v, want] of table) {
      for (let rc = 0; rc < 4; rc++) {
        const [se, hi, lo] = d80(v);
        const f = f80RoundInt(se, hi, lo, cw(rc));
        expect(Object.is(out(), want[rc]), `${v} rc=${rc} → ${out()}`).toBe(true);
        expect((f & PE) !== 0).toBe(!Number.isInteger(v));
        expect((f & C1_UP) !== 0).toBe(Math.abs(want[rc]) > Math.abs(v));
      }
    }
  });
  it('leaves large values, infinities and zeros alone; a denormal reports DE', () => {
    const [se, hi, lo] = d80(2 ** 70 + 2 ** 18);
    expect(f80RoundInt(se, hi, lo, cw(0))).toBe(0);
    expect(out()).toBe(2 ** 70 + 2 ** 18);
    expect(f80RoundInt(0, 0x40000000, 0, cw(2))).toBe(DE | PE | C1_UP);
    expect(out()).toBe(1);
  });
});

describe('FSCALE', () => {
  it('multiplies by 2^trunc(ST1)', () => {
    const s = (a: number, b: number, rc = 0): number => {
      const [as, ah, al] = d80(a), [bs, bh, bl] = d80(b);
      f80Scale(as, ah, al, bs, bh, bl, cw(rc));
      return out();
    };
    expect(s(3, 2.9)).toBe(12);
    expect(s(3, -2.9)).toBe(0.75);
    expect(s(-1, 100)).toBe(-(2 ** 100));
    expect(s(1, 0.5)).toBe(1);
    expect(s(5, Infinity)).toBe(Infinity);
    expect(s(5, -Infinity)).toBe(0);
    expect(s(0, 1e10)).toBe(0);
  });
  it('∞·2^-∞ and 0·2^∞ are invalid; a huge scale overflows', () => {
    const [is, ih, il] = d80(Infinity), [ns, nh, nl] = d80(-Infinity), [zs, zh, zl] = d80(0);
    expect(f80Scale(is, ih, il, ns, nh, nl, cw(0))).toBe(IE);
    expect(f80Scale(zs, zh, zl, is, ih, il, cw(0))).toBe(IE);
    const [os, oh, ol] = d80(1), [bs, bh, bl] = d80(1e6);
    expect(f80Scale(os, oh, ol, bs, bh, bl, cw(0)) & 0x08).toBe(0x08);
    expect(out()).toBe(Infinity);
  });
});

describe('FXTRACT', () => {
  it('splits into exponent and significand', () => {
    const [se, hi, lo] = d80(-10);
    expect(f80Extract(se, hi, lo)).toBe(0);
    expect(out()).toBe(-1.25);
    expect(toNum(xSe, xHi, xLo)).toBe(3);
  });
  it('zero gives ZE with exponent -∞; a denormal gives its true exponent', () => {
    expect(f80Extract(0x8000, 0, 0)).toBe(ZE);
    expect(Object.is(out(), -0)).toBe(true);
    expect(toNum(xSe, xHi, xLo)).toBe(-Infinity);
    expect(f80Extract(0, 0, 1)).toBe(DE);
    expect(toNum(xSe, xHi, xLo)).toBe(-16382 - 63);
    expect(out()).toBe(1);
  });
});

describe('FPREM and FPREM1', () => {
  /** Exact dyadic [m, e] of an encoding. */
  const dy = (se: number, hi: number, lo: number): [bigint, number] => {
    const sig = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return [(se & 0x8000) !== 0 ? -sig : sig, Math.max(1, se & 0x7fff) - 16383 - 63];
  };
  /** Reference remainder and quotient (truncated or nearest-even), exact. */
  function ref(a: V, b: V, ieee: boolean): { r: [bigint, number]; q: bigint } {
    const [ma, ea] = dy(...a), [mb, eb] = dy(...b);
    const e = Math.min(ea, eb);
    const A = ma << BigInt(ea - e), B = mb << BigInt(eb - e);
    let q = A / B; // truncates toward zero
    if (ieee) {
      const r0 = A - q * B;
      const twice = 2n * (r0 < 0n ? -r0 : r0), absB = B < 0n ? -B : B;
      if (twice > absB || (twice === absB && (q & 1n) !== 0n)) q += (A < 0n) === (B < 0n) ? 1n : -1n;
    }
    return { r: [A - q * B, e], q: q < 0n ? -q : q };
  }
  const same = (x: [bigint, number], y: [bigint, number]): boolean => {
    const e = Math.min(x[1], y[1]);
    return x[0] << BigInt(x[1] - e) === y[0] << BigInt(y[1] - e);
  };

  it('gives the exact remainder and the low quotient bits in C0/C3/C1 (gap < 64)', () => {
    const r = rng(7);
    for (let k = 0; k < 3000; k++) {
      const ieee = k % 2 === 1;
      const eb = 16383 + (r() % 200) - 100;
      const a: V = [((r() & 1) << 15) | (eb + (r() % 64) - (ieee ? 1 : 0)), (r() | 0x80000000) | 0, r() | 0];
      const b: V = [((r() & 1) << 15) | eb, (r() | 0x80000000) | 0, k % 7 === 0 ? 0 : r() | 0];
      const f = f80Rem(a[0], a[1], a[2], b[0], b[1], b[2], ieee, cw(0));
      const want = ref(a, b, ieee);
      const ctx = `${ieee ? 'fprem1' : 'fprem'} ${a.map((x) => (x >>> 0).toString(16))} ${b.map((x) => (x >>> 0).toString(16))}`;
      expect(f & (C2 | IE | PE), ctx).toBe(0);
      if (want.r[0] === 0n) expect(OUT[1] | OUT[2], ctx).toBe(0);
      else expect(same(dy(OUT[0], OUT[1], OUT[2]), want.r), ctx).toBe(true);
      const bits = ((f & C0) !== 0 ? 4 : 0) | ((f & C3) !== 0 ? 2 : 0) | ((f & C1) !== 0 ? 1 : 0);
      expect(bits, ctx).toBe(Number(want.q & 7n));
    }
  });

  it('reduces large gaps in partial steps (C2 set) that end at the exact remainder', () => {
    const r = rng(8);
    for (let k = 0; k < 200; k++) {
      const ieee = k % 2 === 1;
      let a: V = [16383 + 64 + (r() % 2000), (r() | 0x80000000) | 0, r() | 0];
      const b: V = [16383, (r() | 0x80000000) | 0, r() | 0];
      const want = ref(a, b, ieee);
      let steps = 0;
      for (;;) {
        const f = f80Rem(a[0], a[1], a[2], b[0], b[1], b[2], ieee, cw(0));
        a = [OUT[0], OUT[1], OUT[2]];
        steps++;
        if ((f & C2) === 0) break;
        expect(steps).toBeLessThan(100);
      }
      expect(steps).toBeGreaterThan(1);
      expect(same(dy(...a), want.r)).toBe(true);
    }
  });

  it('invalid and special operands', () => {
    const [is, ih, il] = d80(Infinity), [os, oh, ol] = d80(1), [zs, zh, zl] = d80(0);
    expect(f80Rem(is, ih, il, os, oh, ol, false, cw(0)) & IE).toBe(IE);
    expect(f80Rem(os, oh, ol, zs, zh, zl, false, cw(0)) & IE).toBe(IE);
    expect(f80Rem(os, oh, ol, is, ih, il, true, cw(0)) & IE).toBe(0);
    expect(out()).toBe(1);
  });
});
