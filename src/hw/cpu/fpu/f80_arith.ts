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
import { normalize96, precisionBits, roundPack80, shiftRightJam96, w0, w1, w2 } from './f80_round.ts';

const TWO32 = 4294967296;

// Unpacked finite non-zero operand: biased exponent (may be < 1 for denormals) and a
// normalized 64-bit significand (unsigned halves). Written by unpack(); live bindings.
export let ue = 0;
export let u0 = 0;
export let u1 = 0;

/** Unpack a normal, denormal or pseudo-denormal value into ue/u0/u1, normalized. */
export function unpack(se: number, hi: number, lo: number): void {
  const e = se & 0x7fff;
  u0 = hi >>> 0;
  u1 = lo >>> 0;
  if (e !== 0) { ue = e; return; }
  // Denormal: the exponent field 0 means 2^(1-BIAS); pseudo-denormals (J=1) are already normal.
  const n = normalize96(u0, u1, 0);
  u0 = w0; u1 = w1;
  ue = 1 - n;
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
    return flags | roundPack80(aSign, ue, u0, u1, 0, cw, bits);
  }
  if (ka === K_ZERO) {
    unpack(bSe, bHi, bLo);
    return flags | roundPack80(bSign, ue, u0, u1, 0, cw, bits);
  }
  unpack(aSe, aHi, aLo);
  let ea = ue, a0 = u0, a1 = u1;
  unpack(bSe, bHi, bLo);
  let eb = ue, b0 = u0, b1 = u1;
  let sign = aSign;
  // Order by magnitude so the subtraction never goes negative.
  if (eb > ea || (eb === ea && (b0 > a0 || (b0 === a0 && b1 > a1)))) {
    let t = ea; ea = eb; eb = t;
    t = a0; a0 = b0; b0 = t;
    t = a1; a1 = b1; b1 = t;
    sign = bSign;
  }
  shiftRightJam96(b0, b1, 0, ea - eb);
  const c0 = w0, c1 = w1, c2 = w2;
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
    const n = normalize96(r0, r1, r2);
    r0 = w0; r1 = w1; r2 = w2;
    exp -= n;
  }
  return flags | roundPack80(sign, exp, r0, r1, r2, cw, bits);
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
  const ea = ue, a0 = u0, a1 = u1;
  unpack(bSe, bHi, bLo);
  const eb = ue, b0 = u0, b1 = u1;
  // 16-bit limbs, least significant first.
  const x0 = a1 & 0xffff, x1 = a1 >>> 16, x2 = a0 & 0xffff, x3 = a0 >>> 16;
  const y0 = b1 & 0xffff, y1 = b1 >>> 16, y2 = b0 & 0xffff, y3 = b0 >>> 16;
  let c = x0 * y0;
  const d0 = c % 65536;
  c = Math.floor(c / 65536) + x0 * y1 + x1 * y0;
  const d1 = c % 65536;
  c = Math.floor(c / 65536) + x0 * y2 + x1 * y1 + x2 * y0;
  const d2 = c % 65536;
  c = Math.floor(c / 65536) + x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0;
  const d3 = c % 65536;
  c = Math.floor(c / 65536) + x1 * y3 + x2 * y2 + x3 * y1;
  const d4 = c % 65536;
  c = Math.floor(c / 65536) + x2 * y3 + x3 * y2;
  const d5 = c % 65536;
  c = Math.floor(c / 65536) + x3 * y3;
  const d6 = c % 65536;
  const d7 = Math.floor(c / 65536);
  let p0 = d7 * 65536 + d6;
  let p1 = d5 * 65536 + d4;
  let p2 = d3 * 65536 + d2;
  if ((d1 | d0) !== 0) p2 += p2 % 2 === 0 ? 1 : 0; // jam the low 32 bits into the sticky bit
  let exp = ea + eb - BIAS + 1;
  if (p0 < 0x80000000) {
    p0 = ((p0 << 1) | (p1 >>> 31)) >>> 0;
    p1 = ((p1 << 1) | (p2 >>> 31)) >>> 0;
    p2 = (p2 << 1) >>> 0;
    exp--;
  }
  return flags | roundPack80(sign, exp, p0, p1, p2, cw, precisionBits(cw));
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
  const ea = ue;
  let rHi = u0, rLo = u1;
  unpack(bSe, bHi, bLo);
  const eb = ue, bh = u0, bl = u1;
  let exp = ea - eb + BIAS;
  // Make the dividend ≥ the divisor (at most one doubling), so the first quotient bit is J.
  if (rHi < bh || (rHi === bh && rLo < bl)) {
    rHi = rHi * 2 + (rLo >= 0x80000000 ? 1 : 0);
    rLo = rLo >= 0x80000000 ? rLo * 2 - TWO32 : rLo * 2;
    exp--;
  }
  rLo -= bl;
  if (rLo < 0) { rLo += TWO32; rHi -= 1; }
  rHi -= bh;
  // Quotient bits after J: 31 into q0, 32 into q1, 2 into q2 (plus sticky from the remainder).
  let q0 = 1, q1 = 0, q2 = 0;
  for (let i = 0; i < 65; i++) {
    rHi = rHi * 2 + (rLo >= 0x80000000 ? 1 : 0);
    rLo = rLo >= 0x80000000 ? rLo * 2 - TWO32 : rLo * 2;
    let bit = 0;
    if (rHi > bh || (rHi === bh && rLo >= bl)) {
      rLo -= bl;
      if (rLo < 0) { rLo += TWO32; rHi -= 1; }
      rHi -= bh;
      bit = 1;
    }
    if (i < 31) q0 = q0 * 2 + bit;
    else if (i < 63) q1 = q1 * 2 + bit;
    else q2 = q2 * 2 + bit;
  }
  q2 = q2 * 0x40000000 + (rHi !== 0 || rLo !== 0 ? 1 : 0);
  return flags | roundPack80(sign, exp, q0, q1, q2, cw, precisionBits(cw));
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
  const e = ue - BIAS;
  // Radicand N = A·2^67 (even exponent) or A·2^68 (odd), so that the 66-bit root has J at bit 65.
  // Feed N two bits at a time: A's 64 bits, then zeros.
  const odd = (e & 1) !== 0;
  let a0 = u0, a1 = u1;
  let rootHi = 0, rootLo = 0; // root = rootHi·2^32 + rootLo
  let remHi = 0, remLo = 0;   // remainder < 2·root + 1
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
    else if (i === 32) { pair = pendingBit * 2; }
    else pair = 0;
    // rem = rem·4 + pair
    remHi = remHi * 4 + Math.floor(remLo / 0x40000000);
    remLo = (remLo % 0x40000000) * 4 + pair;
    // trial = root·4 + 1
    const tHi = rootHi * 4 + Math.floor(rootLo / 0x40000000);
    const tLo = (rootLo % 0x40000000) * 4 + 1;
    rootHi = rootHi * 2 + (rootLo >= 0x80000000 ? 1 : 0);
    rootLo = rootLo >= 0x80000000 ? rootLo * 2 - TWO32 : rootLo * 2;
    if (remHi > tHi || (remHi === tHi && remLo >= tLo)) {
      remLo -= tLo;
      if (remLo < 0) { remLo += TWO32; remHi -= 1; }
      remHi -= tHi;
      rootLo += 1;
    }
  }
  // root has 66 bits: bits 65..34 → s0, 33..2 → s1, 1..0 → top of s2 (plus sticky).
  const s0 = Math.floor(rootHi / 4);
  const s1 = (rootHi % 4) * 0x40000000 + Math.floor(rootLo / 4);
  const s2 = (rootLo % 4) * 0x40000000 + (remHi !== 0 || remLo !== 0 ? 1 : 0);
  const exp = (odd ? (e - 1) / 2 : e / 2) + BIAS;
  return flags | roundPack80(0, exp, s0, s1, s2, cw, precisionBits(cw));
}
