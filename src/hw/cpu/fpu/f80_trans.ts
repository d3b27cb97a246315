/**
 * Transcendental instructions: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1.
 *
 * These are rare, so they use BigInt (allocating) fixed-point arithmetic: every function is
 * evaluated to at least PREC (≥ 140) significant bits, then rounded once by RC to 64 bits
 * through roundPack80. The results are therefore correctly rounded except when the true value
 * lies within ~2^-140 relative of a rounding boundary; Intel documents < 1 ulp error for its
 * own implementation (SDM vol. 1 §8.3.10), so the two agree to within 1 ulp and usually
 * bit for bit. Exact results (sin 0, log2 2^k · y, 2^±1 - 1, ...) are exact and raise no PE.
 *
 * Argument reduction for FSIN/FCOS/FSINCOS/FPTAN mirrors the hardware: the operand is reduced
 * modulo π/2 using the x87's internal 66-bit approximation of π (0xC90FDAA22168C234C >> 2,
 * i.e. 0x3243F6A8885A308D3 · 2^-64), exactly (dyadic arithmetic), and the reduced argument is
 * then evaluated with the true sine/cosine. So results near multiples of π carry the same
 * large relative error as on real hardware. |x| ≥ 2^63 sets C2 and leaves ST(0) alone.
 *
 * Values are "dyadics" v = m · 2^e with m a BigInt (signed) and e an integer.
 */
import {
  BIAS, C2, DE, EXP_MAX, IE, K_DENORMAL, K_INF, K_QNAN, K_SNAN, K_UNSUPPORTED, K_ZERO, OUT, PE, UE, ZE,
  classify, deStops, propagateNaN1, propagateNaN2, setIndefinite, setOut,
} from './f80.ts';
import { roundPack80 } from './f80_round.ts';

/** Working precision in bits, relative to the magnitude of each result. */
const PREC = 160;

const PI66 = 0x3243f6a8885a308d3n; // π ≈ PI66 · 2^-64, the x87's 66-bit π

// ---- dyadic helpers -----------------------------------------------------------------------

/** Exact dyadic of a finite extended value: returns [m, e]. */
function toDyadic(se: number, hi: number, lo: number): [bigint, number] {
  const sig = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  let e = se & EXP_MAX;
  if (e === 0) e = 1;
  const m = (se & 0x8000) !== 0 ? -sig : sig;
  return [m, e - BIAS - 63];
}

function bitLength(m: bigint): number {
  if (m < 0n) m = -m;
  return m === 0n ? 0 : m.toString(2).length;
}

/** m · 2^e as a fixed-point integer with `f` fraction bits (truncating toward -∞). */
function toFixed(m: bigint, e: number, f: number): bigint {
  const s = e + f;
  return s >= 0 ? m << BigInt(s) : m >> BigInt(-s);
}

/**
 * Round v · 2^-f to extended by cw's RC into OUT. `inexact`: v is an approximation (or was
 * truncated), so the sticky bit is forced on.
 */
function packFixed(v: bigint, f: number, inexact: boolean, cw: number): number {
  if (v === 0n) { setOut(0, 0, 0); return inexact ? PE : 0; }
  const sign = v < 0n ? 1 : 0;
  let a = v < 0n ? -v : v;
  const len = bitLength(a);
  let sticky = inexact;
  if (len > 96) {
    const sh = BigInt(len - 96);
    if ((a & ((1n << sh) - 1n)) !== 0n) sticky = true;
    a >>= sh;
  } else {
    a <<= BigInt(96 - len);
  }
  const s0 = Number(a >> 64n);
  const s1 = Number((a >> 32n) & 0xffffffffn);
  let s2 = Number(a & 0xffffffffn);
  if (sticky) s2 = (s2 | 1) >>> 0;
  // a (96 bits, J at bit 95) · 2^(len - 96 - f) = value; roundPack80 reads exp as BIAS + 95 + that.
  return roundPack80(sign, BIAS + len - 1 - f, s0 | 0, s1 | 0, s2 | 0, cw, 64);
}

/**
 * The hardware reports PE for these instructions even when the result happens to be exact
 * (F2XM1 of ±1, FYL2X of a power of two): keep the exact value but add PE, and UE when that
 * makes a tiny result "inexact" under a masked UE.
 */
function withPE(flags: number, cw: number): number {
  if ((flags & UE) === 0 && (cw & UE) !== 0 && (OUT[0] & EXP_MAX) === 0 && (OUT[1] | OUT[2]) !== 0) flags |= UE;
  return flags | PE;
}

// ---- constants and series ------------------------------------------------------------------

/** atanh(1/n) · 2^f by its series (n ≥ 2). */
function atanhInv(n: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  let term = one / n;
  const n2 = n * n;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term /= n2;
  }
  return sum;
}

/** atan(1/n) · 2^f (n ≥ 2). */
function atanInv(n: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  let term = one / n;
  const n2 = n * n;
  let sum = 0n;
  let neg = false;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += neg ? -(term / k) : term / k;
    neg = !neg;
    term /= n2;
  }
  return sum;
}

let cacheBits = 0;
let lnTwo = 0n;
let piTrue = 0n;

/** Make ln 2 and π available with at least `f` fraction bits (computed once, grown on demand). */
function constants(f: number): void {
  if (cacheBits >= f) return;
  const g = Math.max(f, 1024) + 32;
  lnTwo = atanhInv(3n, g) * 2n >> 32n;
  piTrue = (16n * atanInv(5n, g) - 4n * atanInv(239n, g)) >> 32n;
  cacheBits = g - 32;
}

function ln2(f: number): bigint { constants(f); return lnTwo >> BigInt(cacheBits - f); }
function pi(f: number): bigint { constants(f); return piTrue >> BigInt(cacheBits - f); }

/** e^x - 1 for a fixed-point x (|x| ≤ 1), f fraction bits. */
function expm1Fixed(x: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  let term = x;
  let sum = 0n;
  for (let k = 2n; term !== 0n; k++) {
    sum += term;
    term = (term * x) / (k * one);
  }
  return sum;
}

/** sin and cos of a fixed-point r (|r| ≤ 1), f fraction bits. */
function sinCosFixed(r: bigint, f: number): [bigint, bigint] {
  const one = 1n << BigInt(f);
  const r2 = (r * r) >> BigInt(f);
  let s = 0n, term = r;
  for (let k = 2n; term !== 0n; k += 2n) {
    s += term;
    term = -(term * r2) / (k * (k + 1n) * one);
  }
  let c = 0n;
  term = one;
  for (let k = 1n; term !== 0n; k += 2n) {
    c += term;
    term = -(term * r2) / (k * (k + 1n) * one);
  }
  return [s, c];
}

/** ln(1 + x) for fixed-point x > -1 (|x| moderate), via 2·atanh(x / (2 + x)). */
function log1pFixed(x: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  const z = (x << BigInt(f)) / (2n * one + x);
  const z2 = (z * z) >> BigInt(f);
  let term = z, sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = (term * z2) / one; // division truncates toward 0, so a negative term also dies out
  }
  return 2n * sum;
}

/** atan of a fixed-point t in [0, 1], f fraction bits. */
function atanFixed(t: bigint, f: number): bigint {
  const one = 1n << BigInt(f);
  // Two argument halvings: atan t = 2 atan(t / (1 + √(1 + t²))), leaving t ≤ tan(π/16).
  let halvings = 0n;
  for (let i = 0; i < 2; i++) {
    const root = isqrt((one * one) + t * t);
    t = (t << BigInt(f)) / (one + root);
    halvings++;
  }
  const t2 = (t * t) >> BigInt(f);
  let term = t, sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = -((term * t2) >> BigInt(f));
  }
  return sum << halvings;
}

function isqrt(n: bigint): bigint {
  if (n <= 0n) return 0n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

// ---- FSIN / FCOS / FSINCOS / FPTAN ---------------------------------------------------------

/** Second result of FSINCOS/FPTAN (the value pushed): cos, or 1.0. */
export let pushSe = 0;
export let pushHi = 0;
export let pushLo = 0;

export const TRIG_SIN = 0;
export const TRIG_COS = 1;
export const TRIG_SINCOS = 2;
export const TRIG_TAN = 3;

/**
 * Trigonometric functions of ST(0). Returns flags; C2 set means "out of range, nothing
 * changes". For SINCOS, OUT = sin (replaces ST(0)) and push* = cos; for TAN, OUT = tan and
 * push* = 1.0. Results are written even under IE (masked response).
 */
export function f80Trig(se: number, hi: number, lo: number, kind: number, cw: number): number {
  const k = classify(se, hi, lo);
  setPush(0x3fff, 0x80000000 | 0, 0);
  if (k === K_UNSUPPORTED || k === K_INF) { setIndefinite(); setPush(OUT[0], OUT[1], OUT[2]); return IE; }
  if (k === K_QNAN || k === K_SNAN) {
    const fl = propagateNaN1(se, hi, lo, k);
    setPush(OUT[0], OUT[1], OUT[2]);
    return fl;
  }
  if (k === K_ZERO) {
    if (kind === TRIG_COS) setOut(0x3fff, 0x80000000 | 0, 0);
    else setOut(se, 0, 0);
    return 0;
  }
  const flags = k === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  if ((se & EXP_MAX) - BIAS >= 63) return C2;
  const [m, e] = toDyadic(se, hi, lo);
  // Reduce: x = q·(π66/2) + r with q = round(x / (π66/2)); exact in dyadics at scale 2^-(65+…).
  const fx = Math.max(0, -e);                       // x exact at scale 2^-fx
  const scale = Math.max(fx, 65);
  const X = toFixed(m, e, scale);                  // x · 2^scale (exact)
  const halfPi = PI66 << BigInt(scale - 65);       // (π66/2) · 2^scale (exact)
  let q = (X * 2n + halfPi) / (2n * halfPi);       // round to nearest (toward +∞ on ties)
  if (X < 0n) q = -((-X * 2n + halfPi) / (2n * halfPi));
  const R = X - q * halfPi;                          // exact reduced argument · 2^scale
  // Evaluate at a precision relative to |r|.
  const rBits = bitLength(R) - scale;               // r ≈ 2^rBits
  const f = PREC + Math.max(0, -rBits) + 8;
  const r = toFixed(R, -scale, f);
  const [s, c] = R === 0n ? [0n, 1n << BigInt(f)] : sinCosFixed(r, f);
  const quadrant = Number(((q % 4n) + 4n) % 4n);
  let sinV: bigint, cosV: bigint;
  switch (quadrant) {
    case 0: sinV = s; cosV = c; break;
    case 1: sinV = c; cosV = -s; break;
    case 2: sinV = -s; cosV = -c; break;
    default: sinV = -c; cosV = s; break;
  }
  const exact = R === 0n && q === 0n;
  switch (kind) {
    case TRIG_SIN: return flags | packFixed(sinV, f, !exact, cw);
    case TRIG_COS: return flags | packFixed(cosV, f, !exact, cw);
    case TRIG_SINCOS: {
      const cf = packFixed(cosV, f, !exact, cw);
      setPush(OUT[0], OUT[1], OUT[2]);
      return flags | packFixed(sinV, f, !exact, cw) | (cf & ~0x200);
    }
    default: {
      const g = f + 8;
      const t = cosV === 0n ? 0n : (sinV << BigInt(g)) / cosV;
      return flags | packFixed(t, g, !exact, cw);
    }
  }
}

function setPush(se: number, hi: number, lo: number): void {
  pushSe = se; pushHi = hi; pushLo = lo;
}

// ---- F2XM1 ---------------------------------------------------------------------------------

/** F2XM1: 2^x - 1 (defined for -1 ≤ x ≤ 1; evaluated as the true function elsewhere too). */
export function f80TwoXm1(se: number, hi: number, lo: number, cw: number): number {
  const k = classify(se, hi, lo);
  if (k === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (k === K_QNAN || k === K_SNAN) return propagateNaN1(se, hi, lo, k);
  if (k === K_ZERO) { setOut(se, 0, 0); return 0; }
  if (k === K_INF) {
    if ((se & 0x8000) !== 0) setOut(0xbfff, 0x80000000 | 0, 0);
    else setOut(se, hi, lo);
    return 0;
  }
  const flags = k === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  const [m, e] = toDyadic(se, hi, lo);
  const xBits = bitLength(m) + e; // |x| < 2^xBits
  if (xBits > 15) {
    // Far outside the domain: 2^x overflows, or 2^x - 1 is -1 plus something below 2^-32768.
    if (m > 0n) return flags | roundPack80(0, EXP_MAX + 64, 0x80000000 | 0, 0, 0, cw, 64);
    return flags | packFixed(1n - (1n << 200n), 200, true, cw);
  }
  const integral = e >= 0 || (m & ((1n << BigInt(-e)) - 1n)) === 0n;
  if (integral) {
    // 2^n - 1 is a dyadic: exact before the one rounding.
    const n = Number(e >= 0 ? m << BigInt(e) : m >> BigInt(-e));
    if (n >= 0) return flags | withPE(packFixed((1n << BigInt(n)) - 1n, 0, false, cw), cw);
    return flags | withPE(packFixed(1n - (1n << BigInt(-n)), -n, false, cw), cw);
  }
  if (xBits <= 0) {
    // |x| < 1: evaluate at a precision relative to |x| (2^x - 1 ≈ x·ln 2 for tiny x).
    const f = PREC + 8 - xBits;
    const y = (toFixed(m, e, f) * ln2(f)) >> BigInt(f);
    return flags | packFixed(expm1Fixed(y, f), f, true, cw);
  }
  // |x| > 1 (outside Intel's domain): 2^x - 1 = 2^n · (1 + expm1(r·ln 2)) - 1, x = n + r.
  const f = PREC + 8;
  const X = toFixed(m, e, f);
  const one = 1n << BigInt(f);
  const n = (X + one / 2n) >> BigInt(f);
  const r = X - (n << BigInt(f));
  const v = one + expm1Fixed((r * ln2(f)) >> BigInt(f), f);
  const nn = Number(n);
  const scaled = nn >= 0 ? v << BigInt(nn) : v >> BigInt(-nn);
  return flags | packFixed(scaled - one, f, true, cw);
}

// ---- FYL2X / FYL2XP1 -----------------------------------------------------------------------

/** FYL2X: y · log2(x), x = ST(0), y = ST(1). */
export function f80Yl2x(xSe: number, xHi: number, xLo: number, ySe: number, yHi: number, yLo: number, cw: number): number {
  const kx = classify(xSe, xHi, xLo);
  const ky = classify(ySe, yHi, yLo);
  if (kx === K_UNSUPPORTED || ky === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (kx >= K_QNAN || ky >= K_QNAN) return propagateNaN2(xSe, xHi, xLo, kx, ySe, yHi, yLo, ky);
  const xNeg = (xSe & 0x8000) !== 0;
  const yNeg = (ySe & 0x8000) !== 0;
  if (xNeg && kx !== K_ZERO) { setIndefinite(); return IE; }
  if (kx === K_ZERO) {
    // log2(±0) = -∞: divide-by-zero outranks a denormal y (the host reports ZE alone).
    if (ky === K_ZERO) { setIndefinite(); return IE; }
    setOut((yNeg ? 0 : 0x8000) | EXP_MAX, 0x80000000 | 0, 0);
    return ky === K_INF ? 0 : ZE;
  }
  const flags = kx === K_DENORMAL || ky === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  if (kx === K_INF) {
    if (ky === K_ZERO) { setIndefinite(); return IE; }
    setOut((yNeg ? 0x8000 : 0) | EXP_MAX, 0x80000000 | 0, 0);
    return flags;
  }
  // x finite positive: log2 x = E + log2(m), sign known.
  const [mx, ex] = toDyadic(xSe, xHi, xLo);
  const xb = bitLength(mx);
  const E = xb - 1 + ex;                       // x = 2^E · (mx / 2^(xb-1)), mantissa in [1, 2)
  const isPow2 = (mx & (mx - 1n)) === 0n;
  if (ky === K_INF) {
    if (isPow2 && E === 0) { setIndefinite(); return IE; }
    const neg = (E < 0) !== yNeg;
    setOut((neg ? 0x8000 : 0) | EXP_MAX, 0x80000000 | 0, 0);
    return flags;
  }
  if (ky === K_ZERO) {
    const neg = (E < 0) !== yNeg;
    setOut(neg ? 0x8000 : 0, 0, 0);
    return flags;
  }
  const [my, ey] = toDyadic(ySe, yHi, yLo);
  if (isPow2) {
    // Exact: y · E, rounded once.
    if (E === 0) { setOut(yNeg ? 0x8000 : 0, 0, 0); return flags; }
    return flags | withPE(packDyadic(my * BigInt(E), ey, false, cw), cw);
  }
  // log2 x = E + ln(mant)/ln2 with mant = x / 2^E; near x = 1 use ln(1 + (x - 1)).
  const f0 = PREC + 8;
  let L: bigint, f: number;
  if (E === 0 || E === -1) {
    // x in [0.5, 2): compute x - 1 exactly and take ln(1 + d) at a precision relative to d.
    const dBits = bitLength(toFixed(mx, ex, 80) - (1n << 80n)) - 80;
    f = f0 + Math.max(0, -dBits);
    const d = toFixed(mx, ex, f) - (1n << BigInt(f));
    L = (log1pFixed(d, f) << BigInt(f)) / ln2(f);
  } else {
    f = f0;
    const mant = toFixed(mx, ex - E, f) - (1n << BigInt(f)); // mant - 1 in [0, 1)
    L = (BigInt(E) << BigInt(f)) + (log1pFixed(mant, f) << BigInt(f)) / ln2(f);
  }
  return flags | packDyadic(my * L, ey - f, true, cw);
}

/** FYL2XP1: y · log2(x + 1), x = ST(0), y = ST(1); x is meant to be within ±(1 - √2/2). */
export function f80Yl2xp1(xSe: number, xHi: number, xLo: number, ySe: number, yHi: number, yLo: number, cw: number): number {
  const kx = classify(xSe, xHi, xLo);
  const ky = classify(ySe, yHi, yLo);
  if (kx === K_UNSUPPORTED || ky === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (kx >= K_QNAN || ky >= K_QNAN) return propagateNaN2(xSe, xHi, xLo, kx, ySe, yHi, yLo, ky);
  const xNeg = (xSe & 0x8000) !== 0;
  const yNeg = (ySe & 0x8000) !== 0;
  const flags = kx === K_DENORMAL || ky === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  if (kx === K_ZERO) {
    if (ky === K_INF) { setIndefinite(); return IE; }
    setOut(xNeg !== yNeg ? 0x8000 : 0, 0, 0);
    return flags;
  }
  if (kx === K_INF) {
    if (xNeg || ky === K_ZERO) { setIndefinite(); return IE; }
    setOut((yNeg ? 0x8000 : 0) | EXP_MAX, 0x80000000 | 0, 0);
    return flags;
  }
  const [mx, ex] = toDyadic(xSe, xHi, xLo);
  if (xNeg && toFixed(mx, ex, 64) <= -(1n << 64n)) {
    // x ≤ -1: log of a non-positive number.
    if (toFixed(mx, ex, 64) === -(1n << 64n) && ky !== K_ZERO) {
      setOut((yNeg ? 0 : 0x8000) | EXP_MAX, 0x80000000 | 0, 0);
      return ky === K_INF ? flags : flags | ZE;
    }
    setIndefinite();
    return IE;
  }
  if (ky === K_INF) {
    setOut((xNeg !== yNeg ? 0x8000 : 0) | EXP_MAX, 0x80000000 | 0, 0);
    return flags;
  }
  if (ky === K_ZERO) { setOut(xNeg !== yNeg ? 0x8000 : 0, 0, 0); return flags; }
  const [my, ey] = toDyadic(ySe, yHi, yLo);
  const xBits = bitLength(mx) + ex;
  const f = PREC + 8 + Math.max(0, -xBits);
  const X = toFixed(mx, ex, f);
  let L: bigint;
  if (xBits <= 0) L = (log1pFixed(X, f) << BigInt(f)) / ln2(f);
  else {
    // Large x (outside the documented domain): log2(1 + x) = E + log2 of the mantissa.
    const s = X + (1n << BigInt(f));
    const E = bitLength(s) - 1 - f;
    const mant = (E >= 0 ? s >> BigInt(E) : s << BigInt(-E)) - (1n << BigInt(f));
    L = (BigInt(E) << BigInt(f)) + (log1pFixed(mant, f) << BigInt(f)) / ln2(f);
  }
  return flags | packDyadic(my * L, ey - f, true, cw);
}

/** Round m · 2^e (m may be huge) into OUT. */
function packDyadic(m: bigint, e: number, inexact: boolean, cw: number): number {
  return packFixed(m, -e, inexact, cw);
}

// ---- FPATAN --------------------------------------------------------------------------------

/** FPATAN: atan2(y, x), y = ST(1), x = ST(0). */
export function f80Atan(ySe: number, yHi: number, yLo: number, xSe: number, xHi: number, xLo: number, cw: number): number {
  const ky = classify(ySe, yHi, yLo);
  const kx = classify(xSe, xHi, xLo);
  if (kx === K_UNSUPPORTED || ky === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (kx >= K_QNAN || ky >= K_QNAN) return propagateNaN2(xSe, xHi, xLo, kx, ySe, yHi, yLo, ky);
  const flags = kx === K_DENORMAL || ky === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  const yNeg = (ySe & 0x8000) !== 0;
  const xNeg = (xSe & 0x8000) !== 0;
  const f = PREC + 8;
  const sgn = (v: bigint): bigint => (yNeg ? -v : v);
  // Multiples of π/4 for the special cases: k · π/4.
  const piQuarter = (k: number): number => packFixed(sgn(BigInt(k) * pi(f) / 4n), f, true, cw);
  if (ky === K_ZERO) {
    if (!xNeg) { setOut(ySe & 0x8000, 0, 0); return flags; }
    return flags | piQuarter(4);
  }
  if (kx === K_ZERO) return flags | piQuarter(2);
  if (ky === K_INF) {
    if (kx === K_INF) return flags | piQuarter(xNeg ? 3 : 1);
    return flags | piQuarter(2);
  }
  if (kx === K_INF) {
    if (!xNeg) { setOut(ySe & 0x8000, 0, 0); return flags; }
    return flags | piQuarter(4);
  }
  const [my, ey] = toDyadic(ySe, yHi, yLo);
  const [mx, ex] = toDyadic(xSe, xHi, xLo);
  const ay = my < 0n ? -my : my;
  const ax = mx < 0n ? -mx : mx;
  // Compare |y| and |x| exactly to pick t = min/max in [0, 1].
  const common = Math.min(ey, ex);
  const Y = ay << BigInt(ey - common);
  const Xv = ax << BigInt(ex - common);
  const swap = Y > Xv;
  const num = swap ? Xv : Y, den = swap ? Y : Xv;
  // t may be tiny: scale the precision to it.
  const tBits = bitLength(num) - bitLength(den);
  const g = f + Math.max(0, -tBits);
  const t = (num << BigInt(g)) / den;
  let a = atanFixed(t, g);
  const P = pi(g);
  if (swap) a = P / 2n - a;
  if (xNeg) a = P - a;
  return flags | packFixed(sgn(a), g, true, cw);
}

