/**
 * Exact extended-precision add, subtract, multiply, divide and square root.
 *
 * Each routine takes packed operands (se, hi, lo), the control word (RC, PC and the OE/UE
 * masks matter) and `inFlags` (DE when an operand came from a memory format in which it was
 * denormal: converting it to extended made it normal, but the x87 still reports it). It returns
 * exception flags | C1_UP and leaves the masked-response result in OUT; the caller decides
 * whether an unmasked IE/DE/ZE suppresses the write.
 *
 * Special operands follow the x87's priority (SDM vol. 1 §4.9.2): unsupported or SNaN (IE)
 * and QNaN propagation first, then the other invalid cases and divide-by-zero, then the
 * denormal-operand flag, then overflow/underflow/precision from rounding.
 *
 * All significand math is exact integer math in number locals: 32-bit limbs for add/sub and
 * the quotient/root loops, 16-bit limbs for products (each partial product < 2^32 and every
 * column sum < 2^35, exact in a double). Nothing allocates.
 */
import {
  BIAS, DE, IE, K_DENORMAL, K_INF, K_QNAN, K_UNSUPPORTED, K_ZERO, RC_DOWN, ZE,
  classify, deStops, propagateNaN1, propagateNaN2, setIndefinite, setOut,
} from './f80.ts';
import { normalize96, precisionBits, roundPack80, shiftRightJam96, W } from './f80_round.ts';

const TWO32 = 4294967296;

/**
 * Unpacked finite non-zero operand, written by unpack(): U[0] = biased exponent (may be < 1
 * for denormals), U[1]:U[2] = the normalized 64-bit significand (unsigned halves). Typed
 * storage keeps the unsigned halves unboxed (see W in f80_round.ts).
 */
export const U = new Float64Array(3);

/** Unpack a normal, denormal or pseudo-denormal value into U[0]/U[1]/U[2], normalized. */
export function unpack(se: number, hi: number, lo: number): void {
  const e = se & 0x7fff;
  U[1] = hi >>> 0;
  U[2] = lo >>> 0;
  if (e !== 0) { U[0] = e; return; }
  // Denormal: the exponent field 0 means 2^(1-BIAS); pseudo-denormals (J=1) are already normal.
  const n = normalize96(U[1] | 0, U[2] | 0, 0);
  U[1] = W[0]; U[2] = W[1];
  U[0] = 1 - n;
}

/** Shared special-operand screen: returns -1 when both operands are finite or infinite numbers. */
function nanScreen(aSe: number, aHi: number, aLo: number, ka: number, bSe: number, bHi: number, bLo: number, kb: number): number {
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (ka >= K_QNAN || kb >= K_QNAN) return propagateNaN2(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb);
  return -1;
}

/** a + b, or a - b when `negB`. */
export function f80Add(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, negB: boolean, cw: number, inFlags: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka >= K_QNAN || kb >= K_QNAN) return nanScreen(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb);
  let flags = inFlags & DE;
  if (ka === K_DENORMAL || kb === K_DENORMAL) flags |= DE;
  if (deStops(flags, cw)) return flags;
  const aSign = (aSe >> 15) & 1;
  const bSign = ((bSe >> 15) & 1) ^ (negB ? 1 : 0);
  if (ka === K_INF) {
    if (kb === K_INF && aSign !== bSign) { setIndefinite(); return IE; }
    setOut(aSe, aHi, aLo);
    return flags;
  }
  if (kb === K_INF) { setOut((bSign << 15) | 0x7fff, bHi, bLo); return flags; }
  const bits = precisionBits(cw);
  if (kb === K_ZERO) {
    if (ka === K_ZERO) {
      const s = aSign === bSign ? aSign : ((cw >> 10) & 3) === RC_DOWN ? 1 : 0;
      setOut(s << 15, 0, 0);
      return flags;
    }
    unpack(aSe, aHi, aLo);
    return flags | roundPack80(aSign, U[0] | 0, U[1] | 0, U[2] | 0, 0, cw, bits);
  }
  if (ka === K_ZERO) {
    unpack(bSe, bHi, bLo);
    return flags | roundPack80(bSign, U[0] | 0, U[1] | 0, U[2] | 0, 0, cw, bits);
  }
  unpack(aSe, aHi, aLo);
  let ea = U[0], a0 = U[1], a1 = U[2];
  unpack(bSe, bHi, bLo);
  let eb = U[0], b0 = U[1], b1 = U[2];
  let sign = aSign;
  // Order by magnitude so the subtraction never goes negative.
  if (eb > ea || (eb === ea && (b0 > a0 || (b0 === a0 && b1 > a1)))) {
    let t = ea; ea = eb; eb = t;
    t = a0; a0 = b0; b0 = t;
    t = a1; a1 = b1; b1 = t;
    sign = bSign;
  }
  shiftRightJam96(b0 | 0, b1 | 0, 0, ea - eb);
  const c0 = W[0], c1 = W[1], c2 = W[2];
  let r0: number, r1: number, r2: number;
  let exp = ea;
  if (aSign === bSign) {
    r2 = c2;
    r1 = a1 + c1;
    r0 = a0 + c0;
    if (r1 >= TWO32) { r1 -= TWO32; r0 += 1; }
    if (r0 >= TWO32) {
      // 65-bit sum: shift right one, keeping the lost bit sticky.
      r0 -= TWO32;
      r2 = ((r2 >>> 1) | ((r1 & 1) << 31) | (r2 & 1)) >>> 0;
      r1 = ((r1 >>> 1) | ((r0 & 1) << 31)) >>> 0;
      r0 = ((r0 >>> 1) | 0x80000000) >>> 0;
      exp++;
    }
  } else {
    let borrow = 0;
    r2 = 0 - c2;
    if (r2 < 0) { r2 += TWO32; borrow = 1; }
    r1 = a1 - c1 - borrow;
    borrow = 0;
    if (r1 < 0) { r1 += TWO32; borrow = 1; }
    r0 = a0 - c0 - borrow;
    if (r0 === 0 && r1 === 0 && r2 === 0) {
      setOut((((cw >> 10) & 3) === RC_DOWN ? 1 : 0) << 15, 0, 0);
      return flags;
    }
    const n = normalize96(r0 | 0, r1 | 0, r2 | 0);
    r0 = W[0]; r1 = W[1]; r2 = W[2];
    exp -= n;
  }
  return flags | roundPack80(sign, exp | 0, r0 | 0, r1 | 0, r2 | 0, cw, bits);
}

/** a × b. */
export function f80Mul(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, cw: number, inFlags: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka >= K_QNAN || kb >= K_QNAN) return nanScreen(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb);
  const sign = ((aSe ^ bSe) >> 15) & 1;
  if ((ka === K_INF && kb === K_ZERO) || (ka === K_ZERO && kb === K_INF)) { setIndefinite(); return IE; }
  let flags = inFlags & DE;
  if (ka === K_DENORMAL || kb === K_DENORMAL) flags |= DE;
  if (deStops(flags, cw)) return flags;
  if (ka === K_INF || kb === K_INF) { setOut((sign << 15) | 0x7fff, 0x80000000 | 0, 0); return flags; }
  if (ka === K_ZERO || kb === K_ZERO) { setOut(sign << 15, 0, 0); return flags; }
  unpack(aSe, aHi, aLo);
  const ea = U[0], a0 = U[1], a1 = U[2];
  unpack(bSe, bHi, bLo);
  const eb = U[0], b0 = U[1], b1 = U[2];
  // 64×64 → 128 from four exact 32×32 → 64 products.
  mul32(a1 | 0, b1 | 0);
  const h11 = MP[0], l11 = MP[1];
  mul32(a0 | 0, b1 | 0);
  const h01 = MP[0], l01 = MP[1];
  mul32(a1 | 0, b0 | 0);
  const h10 = MP[0], l10 = MP[1];
  mul32(a0 | 0, b0 | 0);
  let t = h11 + l01 + l10;               // < 3·2^32
  let c = (t / TWO32) | 0;
  let p2 = t - c * TWO32;
  t = h01 + h10 + MP[1] + c;
  c = (t / TWO32) | 0;
  let p1 = t - c * TWO32;
  let p0 = MP[0] + c;
  if (l11 !== 0 && (p2 & 1) === 0) p2 += 1; // jam the low 32 bits into the sticky bit
  let exp = ea + eb - BIAS + 1;
  if (p0 < 0x80000000) {
    p0 = ((p0 << 1) | (p1 >>> 31)) >>> 0;
    p1 = ((p1 << 1) | (p2 >>> 31)) >>> 0;
    p2 = (p2 << 1) >>> 0;
    exp--;
  }
  return flags | roundPack80(sign, exp | 0, p0 | 0, p1 | 0, p2 | 0, cw, precisionBits(cw));
}

/** a ÷ b. */
export function f80Div(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, cw: number, inFlags: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka >= K_QNAN || kb >= K_QNAN) return nanScreen(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb);
  const sign = ((aSe ^ bSe) >> 15) & 1;
  if ((ka === K_INF && kb === K_INF) || (ka === K_ZERO && kb === K_ZERO)) { setIndefinite(); return IE; }
  // Divide-by-zero outranks the denormal-operand flag (a denormal dividend reports ZE only).
  if (kb === K_ZERO && ka !== K_INF) { setOut((sign << 15) | 0x7fff, 0x80000000 | 0, 0); return ZE; }
  let flags = inFlags & DE;
  if (ka === K_DENORMAL || kb === K_DENORMAL) flags |= DE;
  if (deStops(flags, cw)) return flags;
  if (ka === K_INF) { setOut((sign << 15) | 0x7fff, 0x80000000 | 0, 0); return flags; }
  if (kb === K_INF || ka === K_ZERO) { setOut(sign << 15, 0, 0); return flags; }
  unpack(aSe, aHi, aLo);
  const ea = U[0];
  let r0 = U[1], r1 = U[2];
  unpack(bSe, bHi, bLo);
  const eb = U[0];
  DV[0] = U[1]; DV[1] = U[2];
  let exp = ea - eb + BIAS;
  // Integer part of A/B (0 or 1), then three 32-bit quotient digits by long division.
  let top = 0;
  if (r0 > DV[0] || (r0 === DV[0] && r1 >= DV[1])) {
    top = 1;
    r1 -= DV[1];
    if (r1 < 0) { r1 += TWO32; r0 -= 1; }
    r0 -= DV[0];
  }
  const d1 = divDigit(r0 | 0, r1 | 0); r0 = DV[2]; r1 = DV[3];
  const d2 = divDigit(r0 | 0, r1 | 0); r0 = DV[2]; r1 = DV[3];
  const d3 = divDigit(r0 | 0, r1 | 0);
  const sticky = DV[2] !== 0 || DV[3] !== 0 ? 1 : 0;
  let q0: number, q1: number, q2: number;
  if (top === 1) {
    q0 = (0x80000000 | (d1 >>> 1)) >>> 0;
    q1 = ((d1 << 31) | (d2 >>> 1)) >>> 0;
    q2 = ((d2 << 31) | (d3 >>> 1) | (d3 & 1) | sticky) >>> 0;
  } else {
    exp--;
    q0 = d1; q1 = d2; q2 = (d3 | sticky) >>> 0;
  }
  return flags | roundPack80(sign, exp | 0, q0 | 0, q1 | 0, q2 | 0, cw, precisionBits(cw));
}

// Divisor (DV[0]:DV[1]) and remainder (DV[2]:DV[3]) of the long division, unsigned limbs.
const DV = new Float64Array(4);

/**
 * One radix-2^32 step: with R = r0:r1 < B = DV[0]:DV[1], return q = floor(R·2^32 / B) and leave
 * R·2^32 - q·B in DV[2]:DV[3]. The estimate from doubles is within one of q; exact 96-bit
 * products correct it.
 */
function divDigit(r0: number, r1: number): number {
  r0 >>>= 0; r1 >>>= 0;
  let q = Math.floor(((r0 * TWO32 + r1) / (DV[0] * TWO32 + DV[1])) * TWO32);
  if (q > 0xffffffff) q = 0xffffffff;
  // T = q·B as t0:t1:t2.
  mul32(q | 0, DV[1] | 0);
  let t2 = MP[1];
  let t1 = MP[0];
  mul32(q | 0, DV[0] | 0);
  t1 += MP[1];
  let t0 = MP[0];
  if (t1 >= TWO32) { t1 -= TWO32; t0 += 1; }
  // X = r0:r1:0. While T > X: q--, T -= B.
  while (t0 > r0 || (t0 === r0 && (t1 > r1 || (t1 === r1 && t2 > 0)))) {
    q--;
    t2 -= DV[1];
    if (t2 < 0) { t2 += TWO32; t1 -= 1; }
    t1 -= DV[0];
    if (t1 < 0) { t1 += TWO32; t0 -= 1; }
  }
  // R' = X - T (< 2^64), then while R' ≥ B: q++, R' -= B.
  let x2 = 0 - t2, x1 = r1 - t1, x0 = r0 - t0;
  if (x2 < 0) { x2 += TWO32; x1 -= 1; }
  if (x1 < 0) { x1 += TWO32; x0 -= 1; }
  // x0 is now 0: the remainder is x1:x2.
  let n0 = x1, n1 = x2;
  while (x0 > 0 || n0 > DV[0] || (n0 === DV[0] && n1 >= DV[1])) {
    q++;
    n1 -= DV[1];
    if (n1 < 0) { n1 += TWO32; n0 -= 1; }
    n0 -= DV[0];
    if (n0 < 0) { n0 += TWO32; x0 -= 1; }
  }
  DV[2] = n0; DV[3] = n1;
  return q;
}

// Exact 32×32 → 64 product of mul32: MP[0] = high half, MP[1] = low half.
const MP = new Float64Array(2);

/**
 * a·b for unsigned 32-bit a, b: the low half from Math.imul, the high half from the double
 * product, whose rounding error (≤ 2^11) is far below the 2^31 that Math.round tolerates.
 */
function mul32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const lo = Math.imul(a, b) >>> 0;
  MP[1] = lo;
  MP[0] = Math.round((a * b - lo) / TWO32);
}

/** √a. */
export function f80Sqrt(aSe: number, aHi: number, aLo: number, cw: number): number {
  const ka = classify(aSe, aHi, aLo);
  if (ka === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (ka >= K_QNAN) return propagateNaN1(aSe, aHi, aLo, ka);
  if (ka === K_ZERO) { setOut(aSe, 0, 0); return 0; }
  if ((aSe & 0x8000) !== 0) { setIndefinite(); return IE; }
  if (ka === K_INF) { setOut(aSe, aHi, aLo); return 0; }
  const flags = ka === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  unpack(aSe, aHi, aLo);
  const e = U[0] - BIAS;
  // Radicand N = A·2^67 (even exponent) or A·2^68 (odd), so that the 66-bit root has J at bit 65.
  // Feed N two bits at a time: A's 64 bits, then zeros.
  const odd = (e & 1) !== 0;
  let a0 = U[1], a1 = U[2];
  // root q0:q1:q2 (< 2^66) and remainder m0:m1:m2 (< 2·root + 1), 32-bit limbs kept in
  // uint32 range with >>> 0 so that every step is integer arithmetic.
  let q0 = 0, q1 = 0, q2 = 0;
  let m0 = 0, m1 = 0, m2 = 0;
  // With an even exponent N's top pair is (0, A63): feed A shifted right by one, its last
  // bit going out as the high half of pair 32.
  let pendingBit = 0;
  if (!odd) {
    pendingBit = a1 & 1;
    a1 = ((a1 >>> 1) | ((a0 & 1) << 31)) >>> 0;
    a0 = a0 >>> 1;
  }
  for (let i = 0; i < 66; i++) {
    let pair: number;
    if (i < 16) { pair = a0 >>> 30; a0 = (a0 << 2) >>> 0; }
    else if (i < 32) { pair = a1 >>> 30; a1 = (a1 << 2) >>> 0; }
    else if (i === 32) { pair = pendingBit << 1; }
    else pair = 0;
    // rem = rem·4 + pair; trial = root·4 + 1; root = root·2
    m0 = ((m0 << 2) | (m1 >>> 30)) >>> 0;
    m1 = ((m1 << 2) | (m2 >>> 30)) >>> 0;
    m2 = ((m2 << 2) | pair) >>> 0;
    const t0 = ((q0 << 2) | (q1 >>> 30)) >>> 0;
    const t1 = ((q1 << 2) | (q2 >>> 30)) >>> 0;
    const t2 = ((q2 << 2) | 1) >>> 0;
    q0 = ((q0 << 1) | (q1 >>> 31)) >>> 0;
    q1 = ((q1 << 1) | (q2 >>> 31)) >>> 0;
    q2 = (q2 << 1) >>> 0;
    if (m0 > t0 || (m0 === t0 && (m1 > t1 || (m1 === t1 && m2 >= t2)))) {
      const b2 = m2 < t2 ? 1 : 0;
      m2 = (m2 - t2) >>> 0;
      const b1 = m1 < t1 || (m1 === t1 && b2 === 1) ? 1 : 0;
      m1 = (m1 - t1 - b2) >>> 0;
      m0 = (m0 - t0 - b1) >>> 0;
      q2 = (q2 | 1) >>> 0;
    }
  }
  // root has 66 bits: bits 65..34 → s0, 33..2 → s1, 1..0 → top of s2 (plus sticky).
  const s0 = ((q0 << 30) | (q1 >>> 2)) >>> 0;
  const s1 = ((q1 << 30) | (q2 >>> 2)) >>> 0;
  const s2 = ((q2 << 30) | ((m0 | m1 | m2) !== 0 ? 1 : 0)) >>> 0;
  const exp = (odd ? (e - 1) / 2 : e / 2) + BIAS;
  return flags | roundPack80(0, exp | 0, s0 | 0, s1 | 0, s2 | 0, cw, precisionBits(cw));
}
