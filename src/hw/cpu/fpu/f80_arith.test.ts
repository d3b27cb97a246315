/**
 * Exact extended arithmetic: results checked against an independent oracle (exact rational
 * arithmetic in BigInt, rounded by the spec's rules) for every rounding mode and precision,
 * against IEEE double/single arithmetic of the host for PC=53/24, and the special-operand
 * rules (NaN propagation, invalid cases, denormal operands, overflow/underflow responses).
 * Random cases are seeded; a failure prints the operands.
 */
import { describe, expect, it } from 'vitest';
import { C1_UP, DE, IE, OE, OUT, PE, UE, ZE } from './f80.ts';
import { f80Add, f80Div, f80Mul, f80Sqrt } from './f80_arith.ts';
import { f64ToF80 } from './f80_convert.ts';

/** Seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const BIAS = 16383;
const cwOf = (rc: number, pc: number, masks = 0x3f): number => masks | 0x40 | (pc << 8) | (rc << 10);
const PC_BITS = [24, 0, 53, 64];

interface V { se: number; hi: number; lo: number }
const out = (): V => ({ se: OUT[0] & 0xffff, hi: OUT[1] >>> 0, lo: OUT[2] >>> 0 });
const hex = (v: V): string => `${v.se.toString(16)}:${v.hi.toString(16).padStart(8, '0')}${v.lo.toString(16).padStart(8, '0')}`;
const sigOf = (v: V): bigint => (BigInt(v.hi) << 32n) | BigInt(v.lo);

/** value = (-1)^s · num / den, from a finite normal encoding. */
function rational(v: V): [number, bigint, bigint] {
  const e = (v.se & 0x7fff) - BIAS - 63;
  const s = v.se >> 15;
  return e >= 0 ? [s, sigOf(v) << BigInt(e), 1n] : [s, sigOf(v), 1n << BigInt(-e)];
}

const bitlen = (x: bigint): number => x.toString(2).length;

/** Round the positive rational num/den to `bits` bits by rc (normal range only). */
function refRound(sign: number, num: bigint, den: bigint, rc: number, bits: number): { v: V; pe: boolean; up: boolean } {
  let s = 63 - (bitlen(num) - bitlen(den));
  const scaled = (k: number): [bigint, bigint] => (k >= 0 ? [num << BigInt(k), den] : [num, den << BigInt(-k)]);
  for (;;) {
    const [n, d] = scaled(s);
    const q = n / d;
    if (q >= 1n << 64n) { s--; continue; }
    if (q < 1n << 63n) { s++; continue; }
    break;
  }
  const [n, d] = scaled(s);
  const q = n / d, rem = n % d;
  const unit = 1n << BigInt(64 - bits);
  let kept = q / unit;
  const low = q % unit;
  const inexact = low !== 0n || rem !== 0n;
  const twice = (low * d + rem) * 2n, half = unit * d;
  let up = false;
  if (rc === 0) up = twice > half || (twice === half && (kept & 1n) === 1n);
  else if (rc === 1) up = sign === 1 && inexact;
  else if (rc === 2) up = sign === 0 && inexact;
  if (up) kept++;
  let exp = 63 - s + BIAS;
  if (kept === 1n << BigInt(bits)) { kept >>= 1n; exp++; }
  const sig = kept * unit;
  return { v: { se: (sign << 15) | exp, hi: Number(sig >> 32n), lo: Number(sig & 0xffffffffn) }, pe: inexact, up };
}

function randNormal(r: () => number, expSpread: number): V {
  const e = BIAS + ((r() % (2 * expSpread + 1)) - expSpread);
  return { se: ((r() & 1) << 15) | e, hi: (r() | 0x80000000) >>> 0, lo: r() };
}

describe('f80 arithmetic against exact rationals', () => {
  const ops: [string, (a: V, b: V, cw: number) => number, (a: [number, bigint, bigint], b: [number, bigint, bigint]) => [number, bigint, bigint]][] = [
    ['add', (a, b, cw) => f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, false, cw, 0), ([sa, na, da], [sb, nb, db]) => {
      const x = (sa ? -na : na) * db + (sb ? -nb : nb) * da;
      return [x < 0n ? 1 : 0, x < 0n ? -x : x, da * db];
    }],
    ['sub', (a, b, cw) => f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, true, cw, 0), ([sa, na, da], [sb, nb, db]) => {
      const x = (sa ? -na : na) * db - (sb ? -nb : nb) * da;
      return [x < 0n ? 1 : 0, x < 0n ? -x : x, da * db];
    }],
    ['mul', (a, b, cw) => f80Mul(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0), ([sa, na, da], [sb, nb, db]) => [sa ^ sb, na * nb, da * db]],
    ['div', (a, b, cw) => f80Div(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0), ([sa, na, da], [sb, nb, db]) => [sa ^ sb, na * db, da * nb]],
  ];
  for (const [name, op, exact] of ops) {
    it(`${name}: every RC and PC, 4000 seeded cases`, () => {
      const r = rng(name.length * 7919);
      for (let k = 0; k < 4000; k++) {
        const a = randNormal(r, 70);
        // b close in exponent half the time (cancellation, ties), else spread.
        const b = k % 2 === 0 ? { ...randNormal(r, 2), se: (randNormal(r, 0).se & 0x8000) | Math.max(1, (a.se & 0x7fff) + (r() % 5) - 2) } : randNormal(r, 70);
        if (k % 16 === 0) { b.hi = a.hi; b.lo = (a.lo + (r() % 3)) >>> 0; }
        const rc = r() & 3, pc = [0, 2, 3][r() % 3];
        const flags = op(a, b, cwOf(rc, pc));
        const [s, n, d] = exact(rational(a), rational(b));
        const ctx = `${name} ${hex(a)} ${hex(b)} rc=${rc} pc=${pc}`;
        if (n === 0n) {
          expect(out(), ctx).toEqual({ se: rc === 1 ? 0x8000 : 0, hi: 0, lo: 0 });
          continue;
        }
        const want = refRound(s, n, d, rc, PC_BITS[pc]);
        expect(hex(out()), ctx).toBe(hex(want.v));
        expect((flags & PE) !== 0, `${ctx} PE`).toBe(want.pe);
        expect((flags & C1_UP) !== 0, `${ctx} C1`).toBe(want.up);
        expect(flags & (IE | ZE | OE | UE | DE), ctx).toBe(0);
      }
    });
  }

  it('sqrt: every RC and PC, 3000 seeded cases (checked by squaring)', () => {
    const r = rng(4242);
    for (let k = 0; k < 3000; k++) {
      const a = randNormal(r, 200);
      a.se &= 0x7fff;
      if (k % 10 === 0) { a.hi = 0x80000000; a.lo = 0; a.se = (a.se & ~1) | 0; } // perfect squares
      const rc = r() & 3, pc = [0, 2, 3][r() % 3];
      const flags = f80Sqrt(a.se, a.hi | 0, a.lo | 0, cwOf(rc, pc));
      const res = out();
      const ctx = `sqrt ${hex(a)} rc=${rc} pc=${pc} -> ${hex(res)}`;
      const [, an, ad] = rational(a);
      // Work in units of 2^(e0-1), e0 = the result's unit exponent, so half ulps are integers.
      const e0 = (res.se & 0x7fff) - BIAS - 63 - 1;
      const R2 = sigOf(res) * 2n;
      const U = 1n << BigInt(64 - PC_BITS[pc]); // half an ulp in these units
      const cmpSq = (x: bigint): number => {
        let l = x * x * ad, rr = an;
        if (e0 >= 0) l <<= BigInt(2 * e0); else rr <<= BigInt(-2 * e0);
        return l < rr ? -1 : l > rr ? 1 : 0;
      };
      const c = cmpSq(R2);
      expect((flags & PE) !== 0, `${ctx} PE`).toBe(c !== 0);
      if (c === 0) continue;
      expect((flags & C1_UP) !== 0, `${ctx} C1`).toBe(c > 0);
      // √a lies within one ulp on the side RC allows, and within half an ulp for nearest.
      const pow2 = sigOf(res) === 1n << 63n;
      const down = pow2 && c > 0 ? U : 2n * U; // the ulp below a power of two is half as big
      expect(cmpSq(c > 0 ? R2 - down : R2 + 2n * U), `${ctx} bracket`).toBe(-c);
      if (rc === 0) expect(cmpSq(c > 0 ? R2 - down / 2n : R2 + U), `${ctx} nearest`).toBe(-c);
      if (rc === 1 || rc === 3) expect(c, `${ctx} toward -inf/0`).toBe(-1);
      if (rc === 2) expect(c, `${ctx} toward +inf`).toBe(1);
    }
  });
});

describe('f80 arithmetic against the host FPU (IEEE double and single)', () => {
  const toF80 = (d: number): V => {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, d, true);
    f64ToF80(b.getUint32(4, true) | 0, b.getUint32(0, true) | 0);
    return out();
  };
  const toDouble = (v: V): number => {
    const [s, n, d] = rational(v);
    return (s ? -1 : 1) * Number(n) / Number(d);
  };
  const randDouble = (r: () => number): number => {
    const b = new DataView(new ArrayBuffer(8));
    b.setUint32(4, ((r() & 0x80000000) | ((900 + (r() % 250)) << 20) | (r() & 0xfffff)) >>> 0, true);
    b.setUint32(0, r(), true);
    return b.getFloat64(0, true);
  };
  it('PC=53, RC=nearest: add/sub/mul/div/sqrt equal the host double result', () => {
    const r = rng(53);
    const cw = cwOf(0, 2);
    for (let k = 0; k < 8000; k++) {
      const x = randDouble(r), y = randDouble(r);
      const a = toF80(x), b = toF80(y);
      f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, false, cw, 0);
      expect(toDouble(out()), `${x} + ${y}`).toBe(x + y);
      f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, true, cw, 0);
      expect(toDouble(out()), `${x} - ${y}`).toBe(x - y);
      f80Mul(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0);
      expect(toDouble(out()), `${x} * ${y}`).toBe(x * y);
      f80Div(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0);
      expect(toDouble(out()), `${x} / ${y}`).toBe(x / y);
      f80Sqrt(a.se & 0x7fff, a.hi | 0, a.lo | 0, cw);
      expect(toDouble(out()), `sqrt ${x}`).toBe(Math.sqrt(Math.abs(x)));
    }
  });
  it('PC=24, RC=nearest: equal Math.fround of the exact double operation', () => {
    const r = rng(24);
    const cw = cwOf(0, 0);
    for (let k = 0; k < 8000; k++) {
      const x = Math.fround(randDouble(r) / 1e10), y = Math.fround(randDouble(r) / 1e10);
      // The x87 keeps its extended exponent range under PC=24: compare inside the single range.
      const inRange = (v: number): boolean => v === 0 || (Math.abs(v) < 3.4e38 && Math.abs(v) > 1.2e-38);
      if (!inRange(x / y) || !inRange(x * y) || !inRange(x + y)) continue;
      const a = toF80(x), b = toF80(y);
      f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, false, cw, 0);
      expect(toDouble(out()), `${x} + ${y}`).toBe(Math.fround(x + y));
      f80Mul(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0);
      expect(toDouble(out()), `${x} * ${y}`).toBe(Math.fround(x * y));
      f80Div(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, cw, 0);
      expect(toDouble(out()), `${x} / ${y}`).toBe(Math.fround(x / y));
    }
  });
});

describe('f80 special operands', () => {
  const QNAN = (hi: number, s = 0): V => ({ se: s | 0x7fff, hi: (0xc0000000 | hi) >>> 0, lo: 0 });
  const SNAN = (hi: number, s = 0): V => ({ se: s | 0x7fff, hi: (0x80000000 | hi) >>> 0, lo: 1 });
  const INF = (s = 0): V => ({ se: s | 0x7fff, hi: 0x80000000, lo: 0 });
  const ONE: V = { se: 0x3fff, hi: 0x80000000, lo: 0 };
  const ZERO = (s = 0): V => ({ se: s, hi: 0, lo: 0 });
  const DEN: V = { se: 0, hi: 0x40000000, lo: 0 };
  const INDEF: V = { se: 0xffff, hi: 0xc0000000, lo: 0 };
  const cw = cwOf(0, 3);
  const add = (a: V, b: V, c = cw): number => f80Add(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, false, c, 0);
  const mul = (a: V, b: V, c = cw): number => f80Mul(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, c, 0);
  const div = (a: V, b: V, c = cw): number => f80Div(a.se, a.hi | 0, a.lo | 0, b.se, b.hi | 0, b.lo | 0, c, 0);

  it('NaNs: a QNaN beats an SNaN, else the larger significand wins; results are quiet', () => {
    expect(add(SNAN(0x100), QNAN(0x1))).toBe(IE);
    expect(out()).toEqual(QNAN(0x1));
    expect(add(QNAN(0x5), QNAN(0x7, 0x8000))).toBe(0);
    expect(out()).toEqual(QNAN(0x7, 0x8000));
    expect(add(SNAN(0x7), SNAN(0x5))).toBe(IE);
    expect(out()).toEqual({ ...SNAN(0x7), hi: (0xc0000007) >>> 0 });
    expect(mul(ONE, SNAN(0x3))).toBe(IE);
    expect(out()).toEqual({ ...SNAN(0x3), hi: 0xc0000003 });
  });
  it('invalid operations give the real indefinite', () => {
    expect(add(INF(), INF(0x8000))).toBe(IE);
    expect(out()).toEqual(INDEF);
    expect(mul(ZERO(), INF())).toBe(IE);
    expect(div(ZERO(), ZERO())).toBe(IE);
    expect(div(INF(), INF(0x8000))).toBe(IE);
    expect(f80Sqrt(0xbfff, 0x80000000, 0, cw)).toBe(IE);
    expect(out()).toEqual(INDEF);
    // Unnormal (J=0 with a non-zero exponent) is an unsupported operand.
    expect(add({ se: 0x3fff, hi: 0x40000000, lo: 0 }, ONE)).toBe(IE);
    expect(out()).toEqual(INDEF);
  });
  it('divide by zero gives a signed infinity with ZE (a denormal dividend reports no DE)', () => {
    expect(div(ONE, ZERO(0x8000))).toBe(ZE);
    expect(out()).toEqual(INF(0x8000));
    expect(div(DEN, ZERO())).toBe(ZE);
  });
  it('denormal operands raise DE; unmasked DE stops before any result flag', () => {
    expect(add(DEN, ONE) & DE).toBe(DE);
    expect(mul(DEN, DEN, cwOf(0, 3, 0x3d))).toBe(DE); // DE unmasked: no UE/PE
  });
  it('exact zero sums are +0, or -0 when rounding down', () => {
    add(ONE, { ...ONE, se: 0xbfff });
    expect(out()).toEqual(ZERO());
    add(ONE, { ...ONE, se: 0xbfff }, cwOf(1, 3));
    expect(out()).toEqual(ZERO(0x8000));
    add(ZERO(0x8000), ZERO(0x8000));
    expect(out()).toEqual(ZERO(0x8000));
  });
  it('overflow: masked gives ∞ or the largest finite by RC; unmasked gives the bias-adjusted result', () => {
    const big: V = { se: 0x7ffe, hi: 0xc0000000, lo: 0 };
    expect(mul(big, big)).toBe(OE | PE | C1_UP);
    expect(out()).toEqual(INF());
    expect(mul(big, big, cwOf(3, 3))).toBe(OE | PE);
    expect(out()).toEqual({ se: 0x7ffe, hi: 0xffffffff, lo: 0xffffffff });
    expect(mul(big, big, cwOf(3, 2))).toBe(OE | PE);
    expect(out()).toEqual({ se: 0x7ffe, hi: 0xffffffff, lo: 0xfffff800 });
    expect(mul(big, big, cwOf(0, 3, 0x37))).toBe(OE);
    // 1.5² · 2^(2·(0x7ffe - BIAS)) = 1.125 · 2^(…+1): biased 0xbffe, delivered as 0xbffe - 0x6000.
    expect(out()).toEqual({ se: 0xbffe - 0x6000, hi: 0x90000000, lo: 0 });
  });
  it('underflow: masked gives a denormal (UE only if inexact); unmasked adds 0x6000 to the exponent', () => {
    const tiny: V = { se: 0x0001, hi: 0x80000000, lo: 0 };
    const half: V = { se: 0x3ffe, hi: 0x80000000, lo: 0 };
    expect(mul(tiny, half)).toBe(0); // exact denormal: no UE when masked
    expect(out()).toEqual({ se: 0, hi: 0x40000000, lo: 0 });
    const third: V = { se: 0x3ffd, hi: 0xaaaaaaaa, lo: 0xaaaaaaab };
    expect(mul(tiny, third) & (UE | PE)).toBe(UE | PE);
    expect(mul(tiny, half, cwOf(0, 3, 0x2f))).toBe(UE);
    expect(out()).toEqual({ se: 0x6000, hi: 0x80000000, lo: 0 });
  });
});
