/**
 * Memory-format conversions: single/double loads (exact, DE for denormals, SNaNs kept), stores
 * rounded by RC into the destination's precision and range (checked against the host's own
 * double/single conversion and a BigInt reference), integer stores with every RC and the
 * range limits, and packed BCD.
 */
import { describe, expect, it } from 'vitest';
import { C1_UP, DE, IE, OE, OUT, PE, UE } from './f80.ts';
import {
  STORE_NONE, bcdToF80, f32ToF80, f64ToF80, f80ToBcd, f80ToF32, f80ToF64, f80ToInt, i32ToF80, i64ToF80,
} from './f80_convert.ts';

function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const cw = (rc: number, masks = 0x3f): number => masks | 0x340 | (rc << 10);
const hex = (): string => `${(OUT[0] & 0xffff).toString(16)}:${(OUT[1] >>> 0).toString(16).padStart(8, '0')}${(OUT[2] >>> 0).toString(16).padStart(8, '0')}`;
const dbl = (d: number): [number, number] => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, d, true);
  return [b.getUint32(4, true) | 0, b.getUint32(0, true) | 0];
};
const fromBits = (hi: number, lo: number): number => {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint32(4, hi >>> 0, true);
  b.setUint32(0, lo >>> 0, true);
  return b.getFloat64(0, true);
};

/** The exact value of an extended encoding as a double when it fits (for RN references). */
function valueOf(se: number, hi: number, lo: number): number {
  const sig = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const e = Math.max(1, se & 0x7fff) - 16383 - 63;
  // Number(BigInt) rounds to nearest even once; the scaling by 2^e (in two steps, so that
  // 2^e itself does not underflow) is exact while the result stays normal.
  const x = Number(sig);
  return ((se & 0x8000) !== 0 ? -1 : 1) * (e < -900 ? x * 2 ** (e + 600) * 2 ** -600 : x * 2 ** e);
}

describe('loads', () => {
  it('single and double reals load exactly; denormals report DE and are normalized', () => {
    expect(f32ToF80(0x3f800000)).toBe(0);
    expect(hex()).toBe('3fff:8000000000000000');
    expect(f32ToF80(0x00000001)).toBe(DE);
    expect(hex()).toBe(`${(16383 - 149).toString(16)}:8000000000000000`);
    expect(f32ToF80(0x807fffff)).toBe(DE);
    expect(hex()).toBe(`${(0x8000 | (16383 - 127)).toString(16)}:fffffe0000000000`);
    const [h, l] = dbl(Number.MIN_VALUE);
    expect(f64ToF80(h, l)).toBe(DE);
    expect(hex()).toBe(`${(16383 - 1074).toString(16)}:8000000000000000`);
    const r = rng(1);
    for (let k = 0; k < 5000; k++) {
      const [hi, lo] = [r() | 0, r() | 0];
      const d = fromBits(hi, lo);
      if (!Number.isFinite(d)) continue;
      f64ToF80(hi, lo);
      expect(valueOf(OUT[0], OUT[1], OUT[2])).toBe(d);
    }
  });
  it('NaNs keep their payload and their signalling bit (the caller quietens)', () => {
    f32ToF80(0x7f800001);
    expect(hex()).toBe('7fff:8000010000000000');
    f64ToF80(0xfff80000 | 0, 5);
    expect(hex()).toBe('ffff:c000000000002800');
  });
  it('integers load exactly, including the most negative', () => {
    i32ToF80(-0x80000000);
    expect(hex()).toBe('c01e:8000000000000000');
    i64ToF80(0x80000000 | 0, 0);
    expect(hex()).toBe('c03e:8000000000000000');
    i64ToF80(-1, -1);
    expect(hex()).toBe('bfff:8000000000000000');
    i64ToF80(0x7fffffff, -1);
    expect(hex()).toBe('403d:fffffffffffffffe');
  });
});

describe('stores to real formats', () => {
  it('FST m64 with RC=nearest equals the host double conversion; other modes bracket it', () => {
    const r = rng(64);
    for (let k = 0; k < 5000; k++) {
      const se = ((r() & 1) << 15) | (16383 + (r() % 2000) - 1000);
      const hi = (r() | 0x80000000) | 0, lo = r() | 0;
      const want = valueOf(se, hi, lo);
      f80ToF64(se, hi, lo, cw(0));
      expect(fromBits(OUT[1], OUT[2])).toBe(want);
      f80ToF64(se, hi, lo, cw(1));
      const down = fromBits(OUT[1], OUT[2]);
      f80ToF64(se, hi, lo, cw(2));
      const up = fromBits(OUT[1], OUT[2]);
      expect(down <= want && want <= up).toBe(true);
    }
  });
  it('FST m32 with RC=nearest equals Math.fround for 53-bit values', () => {
    const r = rng(32);
    for (let k = 0; k < 5000; k++) {
      const d = fromBits(((r() & 0x800fffff) | ((1023 + (r() % 300) - 150) << 20)) | 0, r() | 0);
      const [h, l] = dbl(d);
      f64ToF80(h, l);
      const se = OUT[0], hi = OUT[1], lo = OUT[2];
      f80ToF32(se, hi, lo, cw(0));
      const b = new DataView(new ArrayBuffer(4));
      b.setUint32(0, OUT[2] >>> 0, true);
      expect(b.getFloat32(0, true)).toBe(Math.fround(d));
    }
  });
  it('overflow: ∞ or the largest finite by RC when masked; nothing stored when unmasked', () => {
    expect(f80ToF32(0x4100, 0x80000000 | 0, 0, cw(0))).toBe(OE | PE | C1_UP);
    expect(OUT[2] >>> 0).toBe(0x7f800000);
    expect(f80ToF32(0x4100, 0x80000000 | 0, 0, cw(3))).toBe(OE | PE);
    expect(OUT[2] >>> 0).toBe(0x7f7fffff);
    expect(f80ToF64(0xc400, 0x80000000 | 0, 0, cw(2))).toBe(OE | PE);
    expect(OUT[1] >>> 0).toBe(0xffefffff);
    expect(f80ToF32(0x4100, 0x80000000 | 0, 0, cw(0, 0x37))).toBe(OE | STORE_NONE);
  });
  it('underflow: a denormal result, UE only if inexact; unmasked stores nothing', () => {
    expect(f80ToF32(16383 - 149, 0x80000000 | 0, 0, cw(0))).toBe(0); // exactly the smallest denormal
    expect(OUT[2]).toBe(1);
    expect(f80ToF32(16383 - 150, 0xc0000000 | 0, 0, cw(0))).toBe(UE | PE | C1_UP); // 0.75 of it: rounds up
    expect(OUT[2]).toBe(1);
    expect(f80ToF32(16383 - 149, 0x80000000 | 0, 0, cw(0, 0x2f))).toBe(UE | STORE_NONE);
  });
  it('NaNs are truncated and quietened, unsupported values store the indefinite', () => {
    expect(f80ToF32(0x7fff, 0x80000001 | 0, 0, cw(0))).toBe(IE);
    expect(OUT[2] >>> 0).toBe(0x7fc00000);
    expect(f80ToF64(0x3fff, 0x40000000, 0, cw(0))).toBe(IE);
    expect([OUT[1] >>> 0, OUT[2]]).toEqual([0xfff80000, 0]);
  });
});

describe('stores to integers', () => {
  const fist = (v: number, rc: number, size: number): [number, number, number] => {
    const [h, l] = dbl(v);
    f64ToF80(h, l);
    const f = f80ToInt(OUT[0], OUT[1], OUT[2], cw(rc), size);
    return [f, size === 64 ? OUT[1] : 0, OUT[2]];
  };
  it('rounds by RC and reports PE and C1', () => {
    expect(fist(2.5, 0, 32)).toEqual([PE, 0, 2]);
    expect(fist(3.5, 0, 32)).toEqual([PE | C1_UP, 0, 4]);
    expect(fist(-2.5, 1, 32)).toEqual([PE | C1_UP, 0, -3]);
    expect(fist(2.1, 2, 16)).toEqual([PE | C1_UP, 0, 3]);
    expect(fist(-2.9, 3, 16)).toEqual([PE, 0, -2]);
    expect(fist(-0.4, 0, 64)).toEqual([PE, 0, 0]);
  });
  it('accepts exactly the representable range and stores the indefinite beyond it', () => {
    expect(fist(-32768, 0, 16)[0]).toBe(0);
    expect(fist(32767.5, 3, 16)).toEqual([PE, 0, 32767]);
    expect(fist(32767.5, 0, 16)).toEqual([IE, 0, 0xffff8000 | 0]);
    expect(fist(-2147483648, 0, 32)).toEqual([0, 0, -2147483648]);
    expect(fist(2147483648, 0, 32)[0]).toBe(IE);
    expect(fist(-(2 ** 63), 0, 64)).toEqual([0, 0x80000000 | 0, 0]);
    expect(fist(2 ** 63, 0, 64)).toEqual([IE, 0x80000000 | 0, 0]);
    expect(fist(NaN, 0, 32)[0]).toBe(IE);
    expect(fist(-Infinity, 0, 64)[0]).toBe(IE);
  });
});

describe('packed BCD', () => {
  it('round-trips values and signs (including -0)', () => {
    const r = rng(18);
    const b = new Uint8Array(10), c = new Uint8Array(10);
    for (let k = 0; k < 2000; k++) {
      b.fill(0);
      for (let d = 0; d < 18; d++) b[d >> 1] |= (r() % 10) << ((d & 1) * 4);
      b[9] = k % 2 === 0 ? 0x80 : 0;
      bcdToF80(b);
      expect(f80ToBcd(OUT[0], OUT[1], OUT[2], cw(0), c)).toBe(0);
      expect(Array.from(c)).toEqual(Array.from(b));
    }
  });
  it('rounds by RC; |x| ≥ 10^18, NaN and ∞ store the BCD indefinite with IE', () => {
    const c = new Uint8Array(10);
    const [h, l] = dbl(-123.5);
    f64ToF80(h, l);
    const v = [OUT[0], OUT[1], OUT[2]] as const;
    expect(f80ToBcd(v[0], v[1], v[2], cw(1), c)).toBe(PE | C1_UP);
    expect(Array.from(c)).toEqual([0x24, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    const [h2, l2] = dbl(1e18);
    f64ToF80(h2, l2);
    expect(f80ToBcd(OUT[0], OUT[1], OUT[2], cw(0), c)).toBe(IE);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
    // 10^18 - 1 (exact, from a 64-bit integer) is the largest value FBSTP accepts.
    const max = 10n ** 18n - 1n;
    i64ToF80(Number(max >> 32n) | 0, Number(max & 0xffffffffn) | 0);
    expect(f80ToBcd(OUT[0], OUT[1], OUT[2], cw(0), c)).toBe(0);
    expect(Array.from(c)).toEqual([0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0]);
    i64ToF80(Number((max + 1n) >> 32n) | 0, Number((max + 1n) & 0xffffffffn) | 0);
    expect(f80ToBcd(OUT[0], OUT[1], OUT[2], cw(0), c)).toBe(IE);
  });
});
