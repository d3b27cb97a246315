/**
 * Transcendentals: special operands per the SDM tables, agreement with the host's libm to
 * double precision on random in-domain arguments, exact cases, the 66-bit-π reduction and
 * the out-of-range C2 rule. (Last-bit agreement with the real x87 is the differential test's
 * job: tests/x86/fpu_native.)
 */
import { describe, expect, it } from 'vitest';
import { C2, DE, IE, OUT, PE, ZE } from './f80.ts';
import { f64ToF80 } from './f80_convert.ts';
import {
  TRIG_COS, TRIG_SIN, TRIG_SINCOS, TRIG_TAN, f80Atan, f80Trig, f80TwoXm1, f80Yl2x, f80Yl2xp1, pushHi, pushLo, pushSe,
} from './f80_trans.ts';

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
const CW = 0x37f;
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
const isIndef = (): boolean => (OUT[0] & 0xffff) === 0xffff && OUT[1] >>> 0 === 0xc0000000 && OUT[2] === 0;
/** Relative agreement to a few double ulps (our result is far more precise than libm's). */
const close = (got: number, want: number, ulps = 4): boolean =>
  got === want || Math.abs(got - want) <= ulps * Number.EPSILON * Math.max(Math.abs(want), Number.MIN_VALUE);

describe('FSIN, FCOS, FSINCOS, FPTAN', () => {
  const trig = (x: number, kind: number): number => { const [s, h, l] = d80(x); return f80Trig(s, h, l, kind, CW); };
  it('agree with libm for |x| < 2^8 (beyond, the 66-bit π reduction drifts from libm, as on the x87)', () => {
    const r = rng(1);
    for (let k = 0; k < 1500; k++) {
      const x = (r() / 2 ** 32 - 0.5) * 2 ** ((r() % 12) - 3);
      trig(x, TRIG_SIN);
      expect(close(out(), Math.sin(x), 8), `sin ${x}: ${out()} vs ${Math.sin(x)}`).toBe(true);
      trig(x, TRIG_COS);
      expect(close(out(), Math.cos(x), 8), `cos ${x}`).toBe(true);
      trig(x, TRIG_TAN);
      expect(close(out(), Math.tan(x), 16), `tan ${x}`).toBe(true);
      expect(toNum(pushSe, pushHi, pushLo)).toBe(1);
      trig(x, TRIG_SINCOS);
      expect(close(out(), Math.sin(x), 8) && close(toNum(pushSe, pushHi, pushLo), Math.cos(x), 8), `sincos ${x}`).toBe(true);
    }
  });
  it('zero is exact, infinities are invalid, |x| ≥ 2^63 sets C2 and computes nothing', () => {
    expect(trig(-0, TRIG_SIN)).toBe(0);
    expect(Object.is(out(), -0)).toBe(true);
    expect(trig(0, TRIG_COS)).toBe(0);
    expect(out()).toBe(1);
    expect(trig(Infinity, TRIG_SIN)).toBe(IE);
    expect(isIndef()).toBe(true);
    expect(trig(2 ** 63, TRIG_COS)).toBe(C2);
    expect(trig(-(2 ** 63) + 2 ** 11, TRIG_SIN) & C2).toBe(0);
  });
  it('reduces with the x87 66-bit π: sin of the extended π is 2^-64.. away from the true sin', () => {
    // FLDPI's value P = C90FDAA22168C235·2^-62; the 66-bit π is P − 0.25 ulp. So sin(P) ≈ −(P − π66)
    // = −2^-64·(0.25·4)… exactly −(P − π66) to first order: −(0x...235·4 − 0x...234C·1)/2^64 · 2^-2.
    f80Trig(0x4000, 0xc90fdaa2 | 0, 0x2168c235, TRIG_SIN, CW);
    const p66Diff = (0xc90fdaa22168c235n * 4n - 0x3243f6a8885a308d3n) ; // in units of 2^-64
    expect(out()).toBe(-Number(p66Diff) * 2 ** -64);
  });
  it('a denormal argument reports DE; sin(x) rounds to x', () => {
    expect(f80Trig(0, 0x40000000, 0, TRIG_SIN, CW) & (DE | PE)).toBe(DE | PE);
    expect(OUT[1] >>> 0).toBe(0x40000000);
  });
});

describe('F2XM1, FYL2X, FYL2XP1, FPATAN', () => {
  it('F2XM1 agrees with libm on [-1, 1]; ±1 are exact but report PE; -∞ gives -1', () => {
    const r = rng(2);
    for (let k = 0; k < 1500; k++) {
      const x = (r() / 2 ** 31 - 1) * 2 ** -(r() % 40);
      const [s, h, l] = d80(x);
      f80TwoXm1(s, h, l, CW);
      expect(close(out(), Math.expm1(x * Math.LN2), 8), `2^${x}-1`).toBe(true);
    }
    let [s, h, l] = d80(-1);
    expect(f80TwoXm1(s, h, l, CW)).toBe(PE);
    expect(out()).toBe(-0.5);
    [s, h, l] = d80(-Infinity);
    expect(f80TwoXm1(s, h, l, CW)).toBe(0);
    expect(out()).toBe(-1);
  });
  it('FYL2X agrees with libm; powers of two are exact; log of 0 is ZE, of a negative IE', () => {
    const y = (v: number, x: number): number => { const [xs, xh, xl] = d80(x), [ys, yh, yl] = d80(v); return f80Yl2x(xs, xh, xl, ys, yh, yl, CW); };
    const r = rng(3);
    for (let k = 0; k < 1500; k++) {
      const x = 2 ** ((r() % 200) - 100) * (1 + r() / 2 ** 32);
      y(3, x);
      expect(close(out(), 3 * Math.log2(x), 8), `log2 ${x}`).toBe(true);
    }
    expect(y(3, 1024)).toBe(PE);
    expect(out()).toBe(30);
    expect(y(-2, 0)).toBe(ZE);
    expect(out()).toBe(Infinity);
    expect(y(1, -3)).toBe(IE);
    expect(y(Infinity, 1)).toBe(IE);
  });
  it('FYL2XP1 is accurate for tiny x', () => {
    const r = rng(4);
    for (let k = 0; k < 1500; k++) {
      const x = (r() / 2 ** 31 - 1) * 2 ** -(2 + (r() % 60));
      const [xs, xh, xl] = d80(x), [ys, yh, yl] = d80(1);
      f80Yl2xp1(xs, xh, xl, ys, yh, yl, CW);
      expect(close(out(), Math.log1p(x) / Math.LN2, 8), `log2(1+${x})`).toBe(true);
    }
  });
  it('FPATAN covers all quadrants and the special cases of atan2', () => {
    const at = (yv: number, xv: number): number => {
      const [ys, yh, yl] = d80(yv), [xs, xh, xl] = d80(xv);
      f80Atan(ys, yh, yl, xs, xh, xl, CW);
      return out();
    };
    const r = rng(5);
    for (let k = 0; k < 1500; k++) {
      const yv = (r() / 2 ** 31 - 1) * 2 ** ((r() % 40) - 20), xv = (r() / 2 ** 31 - 1) * 2 ** ((r() % 40) - 20);
      expect(close(at(yv, xv), Math.atan2(yv, xv), 8), `atan2 ${yv} ${xv}`).toBe(true);
    }
    for (const [yv, xv] of [[0, -1], [-0, 1], [1, 0], [Infinity, Infinity], [-Infinity, -Infinity], [5, -Infinity], [-0, -0]]) {
      expect(close(at(yv, xv), Math.atan2(yv, xv), 2), `atan2(${yv}, ${xv})`).toBe(true);
    }
    expect(Object.is(at(-0, 3), -0)).toBe(true);
  });
});
