/**
 * Conversions between the extended format and the x87's memory formats: single and double
 * real, 16/32/64-bit integers and 18-digit packed BCD.
 *
 * Loads into extended are exact. They leave the value in OUT and return DE when the source
 * was a denormal in its own format (the x87 reports it even though the extended value is
 * normal); signalling NaNs are NOT quietened here (the caller decides: FLD quietens and raises
 * IE, arithmetic lets the NaN rules see the SNaN).
 *
 * Stores from extended round by RC (never by PC) to the destination's precision and range:
 * results go to OUT[2] (32-bit formats) or OUT[1]:OUT[2] (hi:lo of 64-bit formats), and the
 * return value carries IE/OE/UE/PE | C1_UP. With OE or UE unmasked a real store writes
 * nothing (flags say so); with IE the masked response is the format's indefinite.
 */
import {
  BIAS, C1_UP, DE, IE, K_DENORMAL, K_INF, K_NORMAL, K_QNAN, K_SNAN, K_UNSUPPORTED, K_ZERO, OE, OUT, PE, UE,
  RC_DOWN, RC_NEAREST, RC_UP, classify, setOut,
} from './f80.ts';
import { normalize96, roundSig, shiftRightJam96, W } from './f80_round.ts';

const TWO32 = 4294967296;
const CARRY = 0x10000;

// ---- loads --------------------------------------------------------------------------------

export function f32ToF80(bits: number): number {
  const sign = (bits >>> 31) << 15;
  const e = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (e === 0xff) {
    // Infinity or NaN: the fraction moves to the top of the 63-bit fraction field.
    setOut(sign | 0x7fff, (0x80000000 | (frac << 8)) | 0, 0);
    return 0;
  }
  if (e === 0) {
    if (frac === 0) { setOut(sign, 0, 0); return 0; }
    const z = Math.clz32(frac) - 8; // leading zeros within the 24-bit field
    setOut(sign | (0x3f81 - z), (frac << (8 + z)) | 0, 0);
    return DE;
  }
  setOut(sign | (e - 127 + BIAS), (0x80000000 | (frac << 8)) | 0, 0);
  return 0;
}

export function f64ToF80(hi: number, lo: number): number {
  const sign = (hi >>> 31) << 15;
  const e = (hi >>> 20) & 0x7ff;
  const fh = hi & 0xfffff;
  if (e === 0x7ff) {
    setOut(sign | 0x7fff, (0x80000000 | (fh << 11) | (lo >>> 21)) | 0, (lo << 11) | 0);
    return 0;
  }
  if (e === 0) {
    if ((fh | lo) === 0) { setOut(sign, 0, 0); return 0; }
    // normalize96 sees the fraction as fh·2^64 + lo·2^32; after a shift of n its top 64
    // bits are frac·2^n, so frac·2^-1074 = (frac·2^n)·2^(exp - BIAS - 63) gives exp below.
    const n = normalize96(fh | 0, (lo >>> 0) | 0, 0);
    const exp = BIAS - 1011 - n;
    setOut(sign | exp, W[0] | 0, W[1] | 0);
    return DE;
  }
  setOut(sign | (e - 1023 + BIAS), (0x80000000 | (fh << 11) | (lo >>> 21)) | 0, (lo << 11) | 0);
  return 0;
}

/** Signed 32-bit integer (also used for 16-bit loads after sign extension). */
export function i32ToF80(v: number): void {
  if (v === 0) { setOut(0, 0, 0); return; }
  const sign = v < 0 ? 0x8000 : 0;
  const m = v < 0 ? -v : v; // exact in a double, including -2^31
  const z = Math.clz32(m);
  setOut(sign | (BIAS + 31 - z), (m * Math.pow(2, z)) | 0, 0);
}

/** Signed 64-bit integer given as two's-complement halves. */
export function i64ToF80(hi: number, lo: number): void {
  let h = hi >>> 0;
  let l = lo >>> 0;
  if ((h | l) === 0) { setOut(0, 0, 0); return; }
  let sign = 0;
  if (hi < 0) {
    sign = 0x8000;
    l = TWO32 - l;
    h = TWO32 - 1 - h;
    if (l === TWO32) { l = 0; h += 1; }
    h >>>= 0;
  }
  const n = normalize96(h | 0, l | 0, 0);
  setOut(sign | (BIAS + 63 - n), W[0] | 0, W[1] | 0);
}

// ---- stores to real formats ---------------------------------------------------------------

// Output of narrow() and toIntMagnitude(): NR[0] = destination exponent, NR[1]:NR[2] = the
// rounded 64-bit significand or integer magnitude (unsigned halves, kept unboxed).
const NR = new Float64Array(3);

/** Round a finite non-zero extended value into a narrower real format. */
function narrow(se: number, hi: number, lo: number, cw: number, bits: number, emax: number, ebias: number): number {
  const sign = (se >> 15) & 1;
  const rc = (cw >> 10) & 3;
  let exp = se & 0x7fff;
  let s0 = hi >>> 0, s1 = lo >>> 0;
  if (exp === 0) {
    const n = normalize96(s0 | 0, s1 | 0, 0);
    s0 = W[0]; s1 = W[1];
    exp = 1 - n;
  }
  let e = exp - BIAS + ebias; // destination biased exponent, unbounded
  let flags: number;
  if (e < 1) {
    let tiny = true;
    if (e === 0) tiny = (roundSig(sign, s0 | 0, s1 | 0, 0, rc, bits) & CARRY) === 0;
    // Unmasked underflow/overflow on a store: nothing is written and only UE/OE is reported.
    if (tiny && (cw & UE) === 0) return UE | STORE_NONE;
    shiftRightJam96(s0 | 0, s1 | 0, 0, 1 - e);
    flags = roundSig(sign, W[0] | 0, W[1] | 0, W[2] | 0, rc, bits);
    e = W[0] >= 0x80000000 ? 1 : 0;
    if (tiny && (flags & PE) !== 0) flags |= UE;
  } else {
    flags = roundSig(sign, s0 | 0, s1 | 0, 0, rc, bits);
    if ((flags & CARRY) !== 0) { e++; flags &= ~CARRY; }
    if (e >= emax) {
      if ((cw & OE) === 0) return OE | STORE_NONE;
      const toInf = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0);
      if (toInf) { NR[0] = emax; NR[1] = 0; NR[2] = 0; return OE | PE | C1_UP; }
      NR[0] = emax - 1; NR[1] = 0xffffffff; NR[2] = 0xffffffff;
      return OE | PE;
    }
  }
  NR[0] = e; NR[1] = W[0]; NR[2] = W[1];
  return flags;
}
/** Internal flag: nothing may be stored (unmasked overflow/underflow). */
export const STORE_NONE = 0x20000;

/** FST m32: result bits in OUT[2]. */
export function f80ToF32(se: number, hi: number, lo: number, cw: number): number {
  const k = classify(se, hi, lo);
  const sign = (se & 0x8000) << 16;
  switch (k) {
    case K_ZERO: OUT[2] = sign; return 0;
    case K_INF: OUT[2] = sign | 0x7f800000; return 0;
    case K_UNSUPPORTED: OUT[2] = 0xffc00000 | 0; return IE;
    case K_QNAN: case K_SNAN:
      OUT[2] = sign | 0x7fc00000 | ((hi >>> 8) & 0x7fffff);
      return k === K_SNAN ? IE : 0;
  }
  const flags = narrow(se, hi, lo, cw, 24, 0xff, 127);
  if ((flags & STORE_NONE) === 0) OUT[2] = sign | (NR[0] << 23) | ((NR[1] >>> 8) & 0x7fffff);
  return flags;
}

/** FST m64: result in OUT[1] (high word) and OUT[2] (low word). */
export function f80ToF64(se: number, hi: number, lo: number, cw: number): number {
  const k = classify(se, hi, lo);
  const sign = (se & 0x8000) << 16;
  switch (k) {
    case K_ZERO: OUT[1] = sign; OUT[2] = 0; return 0;
    case K_INF: OUT[1] = sign | 0x7ff00000; OUT[2] = 0; return 0;
    case K_UNSUPPORTED: OUT[1] = 0xfff80000 | 0; OUT[2] = 0; return IE;
    case K_QNAN: case K_SNAN:
      OUT[1] = sign | 0x7ff80000 | ((hi >>> 11) & 0xfffff);
      OUT[2] = ((hi << 21) | (lo >>> 11)) | 0;
      return k === K_SNAN ? IE : 0;
  }
  const flags = narrow(se, hi, lo, cw, 53, 0x7ff, 1023);
  if ((flags & STORE_NONE) === 0) {
    OUT[1] = sign | (NR[0] << 20) | ((NR[1] >>> 11) & 0xfffff);
    OUT[2] = ((NR[1] << 21) | (NR[2] >>> 11)) | 0;
  }
  return flags;
}

// ---- stores to integers -------------------------------------------------------------------

/**
 * Round to an integer by RC into NR[1]:NR[2] (magnitude) and return PE | C1_UP, or IE when the value
 * is a NaN, infinite, unsupported or too large for `maxHi:maxLo` (the largest magnitude
 * allowed for positive values; negatives may reach one more). Shared by FIST and FBSTP.
 */
function toIntMagnitude(se: number, hi: number, lo: number, cw: number): number {
  const k = classify(se, hi, lo);
  if (k === K_ZERO) { NR[1] = 0; NR[2] = 0; return 0; }
  if (k !== K_NORMAL && k !== K_DENORMAL) return IE;
  const sign = (se >> 15) & 1;
  let exp = se & 0x7fff;
  let s0 = hi >>> 0, s1 = lo >>> 0;
  if (exp === 0) {
    const n = normalize96(s0 | 0, s1 | 0, 0);
    s0 = W[0]; s1 = W[1];
    exp = 1 - n;
  }
  const e = exp - BIAS; // value = s0:s1 · 2^(e-63)
  if (e >= 64) return IE;
  shiftRightJam96(s0 | 0, s1 | 0, 0, 63 - e);
  const flags = roundSig(sign, W[0] | 0, W[1] | 0, W[2] | 0, (cw >> 10) & 3, 64);
  if ((flags & CARRY) !== 0) { NR[1] = TWO32; NR[2] = 0; return flags & ~CARRY; } // 2^64: overflow below
  NR[1] = W[0]; NR[2] = W[1];
  return flags;
}

/**
 * FIST/FISTP to a `size`-bit integer (16, 32 or 64): two's complement in OUT[1]:OUT[2]
 * (OUT[2] alone for 16/32). Out of range → IE with the integer indefinite (0x8000...).
 */
export function f80ToInt(se: number, hi: number, lo: number, cw: number, size: number): number {
  const flags = toIntMagnitude(se, hi, lo, cw);
  const neg = (se & 0x8000) !== 0;
  if ((flags & IE) === 0) {
    // Range check on the magnitude NR[1]:NR[2].
    let ok: boolean;
    if (size === 64) ok = NR[1] < 0x80000000 || (neg && NR[1] === 0x80000000 && NR[2] === 0);
    else if (size === 32) ok = NR[1] === 0 && (NR[2] < 0x80000000 || (neg && NR[2] === 0x80000000));
    else ok = NR[1] === 0 && (NR[2] < 0x8000 || (neg && NR[2] === 0x8000));
    if (ok) {
      let h = NR[1], l = NR[2];
      if (neg && (h !== 0 || l !== 0)) {
        l = TWO32 - l;
        h = TWO32 - 1 - h;
        if (l === TWO32) { l = 0; h += 1; }
      }
      OUT[1] = h | 0;
      OUT[2] = l | 0;
      if (size === 16) OUT[2] = (OUT[2] << 16) >> 16;
      return flags;
    }
  }
  OUT[1] = 0x80000000 | 0;
  OUT[2] = size === 64 ? 0 : size === 32 ? 0x80000000 | 0 : 0xffff8000 | 0;
  return IE;
}

// ---- packed BCD ---------------------------------------------------------------------------

/**
 * FBLD: 18 digits in bytes 0..8 (two per byte, low nibble less significant), sign in bit 7
 * of byte 9. `b` supplies the bytes. Nibbles above 9 are undefined by Intel; they are weighed
 * by their binary value here.
 */
export function bcdToF80(b: Uint8Array): void {
  let hiPart = 0; // digits 17..9
  for (let i = 8; i >= 5; i--) hiPart = hiPart * 100 + (b[i] >> 4) * 10 + (b[i] & 15);
  hiPart = hiPart * 10 + (b[4] >> 4);
  let loPart = b[4] & 15; // digits 8..0
  for (let i = 3; i >= 0; i--) loPart = loPart * 100 + (b[i] >> 4) * 10 + (b[i] & 15);
  // value = hiPart · 10^9 + loPart, below 2^64 (with nibbles up to 15, below 1.6·10^18·1.6).
  const h1 = Math.floor(hiPart / 65536), h0 = hiPart % 65536;
  // hiPart·10^9 = h1·10^9·2^16 + h0·10^9; accumulate in 32-bit halves.
  const a = h1 * 1e9; // < 2^45
  let lo32 = (a % 65536) * 65536;
  let hi32 = Math.floor(a / 65536);
  lo32 += h0 * 1e9 + loPart; // < 2^32 + 2^46: split again
  hi32 += Math.floor(lo32 / TWO32);
  lo32 %= TWO32;
  i64ToF80(hi32 | 0, lo32 | 0);
  if ((b[9] & 0x80) !== 0) OUT[0] |= 0x8000;
}

/**
 * FBSTP: round by RC, store 18 digits and the sign into `b`. |value| ≥ 10^18, NaN, infinity
 * or unsupported → IE and the BCD indefinite (FFFF C000 0000 0000 0000). Returns flags.
 */
export function f80ToBcd(se: number, hi: number, lo: number, cw: number, b: Uint8Array): number {
  let flags = toIntMagnitude(se, hi, lo, cw);
  // 10^18 = 0x0DE0B6B3_A7640000
  if ((flags & IE) === 0 && (NR[1] > 0x0de0b6b3 || (NR[1] === 0x0de0b6b3 && NR[2] >= 0xa7640000))) flags = IE;
  if ((flags & IE) !== 0) {
    b.fill(0);
    b[7] = 0xc0;
    b[8] = 0xff;
    b[9] = 0xff;
    return IE;
  }
  // Split NR[1]:NR[2] into two 9-digit halves by long division by 10^9 in 16-bit steps.
  // Digits in base 2^16: [NR[1], NR[2] >> 16, NR[2] & 0xffff] (NR[1] < 2^28 since the value < 10^18).
  let t = NR[1];
  const q1 = Math.floor(t / 1e9);
  t = (t - q1 * 1e9) * 65536 + Math.floor(NR[2] / 65536);
  const q2 = Math.floor(t / 1e9);
  t = (t - q2 * 1e9) * 65536 + (NR[2] % 65536);
  const q3 = Math.floor(t / 1e9);
  let low = t - q3 * 1e9;
  let high = (q1 * 65536 + q2) * 65536 + q3;
  for (let i = 0; i < 4; i++) {
    const v = low % 100;
    low = Math.floor(low / 100);
    b[i] = (Math.floor(v / 10) << 4) | (v % 10);
  }
  b[4] = ((high % 10) << 4) | low;
  high = Math.floor(high / 10);
  for (let i = 5; i < 9; i++) {
    const v = high % 100;
    high = Math.floor(high / 100);
    b[i] = (Math.floor(v / 10) << 4) | (v % 10);
  }
  b[9] = (se & 0x8000) !== 0 ? 0x80 : 0;
  return flags;
}

