/**
 * The x87's exact non-arithmetic operations: FRNDINT, FSCALE, FXTRACT, FPREM and FPREM1.
 *
 * None of these is affected by precision control (SDM vol. 1 §8.1.5.2 lists only the
 * add/sub/mul/div/sqrt family); FRNDINT and FSCALE round by RC. FPREM/FPREM1 are exact:
 * the remainder is computed by shift-and-subtract on the 64-bit significands, at most 63
 * quotient bits per execution; a larger exponent gap gives a partial remainder with C2 set.
 *
 * Results are in OUT (FXTRACT's exponent half in the live bindings xSe/xHi/xLo); the return
 * value carries exception flags and, for FPREM, the condition bits C0/C1/C3 (quotient bits
 * Q2/Q0/Q1) and C2 (incomplete).
 */
import {
  BIAS, C0, C1, C1_UP, C2, C3, DE, EXP_MAX, IE, K_DENORMAL, K_INF, K_QNAN, K_UNSUPPORTED, K_ZERO, PE, ZE,
  INDEF_HI, INDEF_LO, INDEF_SE, OUT, classify, deStops, propagateNaN1, propagateNaN2, setIndefinite, setOut,
} from './f80.ts';
import { U, unpack } from './f80_arith.ts';
import { i32ToF80 } from './f80_convert.ts';
import { normalize96, roundPack80, roundSig, shiftRightJam96, W } from './f80_round.ts';

const TWO32 = 4294967296;

/** FRNDINT: round to an integral value by RC. */
export function f80RoundInt(se: number, hi: number, lo: number, cw: number): number {
  const k = classify(se, hi, lo);
  if (k === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (k >= K_QNAN) return propagateNaN1(se, hi, lo, k);
  if (k === K_ZERO || k === K_INF) { setOut(se, hi, lo); return 0; }
  const flags = k === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  const sign = (se >> 15) & 1;
  unpack(se, hi, lo);
  const e = U[0] - BIAS;
  if (e >= 63) { setOut(se, hi, lo); return flags; }
  shiftRightJam96(U[1] | 0, U[2] | 0, 0, 63 - e);
  const r = roundSig(sign, W[0] | 0, W[1] | 0, W[2] | 0, (cw >> 10) & 3, 64) & (PE | C1_UP);
  if (W[0] === 0 && W[1] === 0) { setOut(sign << 15, 0, 0); return flags | r; }
  const n = normalize96(W[0] | 0, W[1] | 0, 0);
  setOut((sign << 15) | (BIAS + 63 - n), W[0] | 0, W[1] | 0);
  return flags | r;
}

/** FSCALE: a · 2^trunc(b), rounded by RC at 64 bits. */
export function f80Scale(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, cw: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) { setIndefinite(); return IE; }
  if (ka >= K_QNAN || kb >= K_QNAN) return propagateNaN2(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb);
  const flags = ka === K_DENORMAL || kb === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags;
  // A zero scale returns ST(0)'s value as it is: a denormal stays (no UE), a pseudo-denormal
  // is re-encoded with exponent 1 (as the host does).
  if (kb === K_ZERO) {
    setOut(ka === K_DENORMAL && aHi < 0 ? aSe | 1 : aSe, aHi, aLo);
    return flags;
  }
  const bNeg = (bSe & 0x8000) !== 0;
  if (kb === K_INF) {
    if (!bNeg) {
      if (ka === K_ZERO) { setIndefinite(); return IE; }
      setOut((aSe & 0x8000) | EXP_MAX, 0x80000000 | 0, 0);
      return flags;
    }
    if (ka === K_INF) { setIndefinite(); return IE; }
    setOut(aSe & 0x8000, 0, 0);
    return flags;
  }
  if (ka === K_ZERO || ka === K_INF) { setOut(aSe, aHi, aLo); return flags; }
  let n = 0;
  if (kb !== K_ZERO) {
    unpack(bSe, bHi, bLo);
    const eb = U[0] - BIAS;
    // |b| < 2^30 is exact below; anything larger over/underflows every finite a anyway.
    if (eb >= 30) n = 1 << 30;
    else if (eb >= 0) n = Math.floor(U[1] / Math.pow(2, 31 - eb));
    if (bNeg) n = -n;
  }
  unpack(aSe, aHi, aLo);
  return flags | roundPack80((aSe >> 15) & 1, (U[0] + n) | 0, U[1] | 0, U[2] | 0, 0, cw, 64);
}

export let xSe = 0;
export let xHi = 0;
export let xLo = 0;

/**
 * FXTRACT: OUT ← significand (exponent forced to BIAS, sign kept), xSe/xHi/xLo ← the unbiased
 * exponent as a value. Zero gives ZE with exponent -∞; infinity gives +∞.
 */
export function f80Extract(se: number, hi: number, lo: number): number {
  const k = classify(se, hi, lo);
  if (k === K_UNSUPPORTED) { setIndefinite(); setX(INDEF_SE, INDEF_HI, INDEF_LO); return IE; }
  if (k >= K_QNAN) {
    const f = propagateNaN1(se, hi, lo, k);
    setX(OUT[0], OUT[1], OUT[2]);
    return f;
  }
  if (k === K_ZERO) { setX(0x8000 | EXP_MAX, 0x80000000 | 0, 0); setOut(se, 0, 0); return ZE; }
  if (k === K_INF) { setX(EXP_MAX, 0x80000000 | 0, 0); setOut(se, hi, lo); return 0; }
  unpack(se, hi, lo);
  const e = U[0] - BIAS;
  const sig0 = U[1], sig1 = U[2];
  i32ToF80(e);
  setX(OUT[0], OUT[1], OUT[2]);
  setOut((se & 0x8000) | BIAS, sig0 | 0, sig1 | 0);
  return k === K_DENORMAL ? DE : 0;
}

function setX(se: number, hi: number, lo: number): void {
  xSe = se; xHi = hi; xLo = lo;
}

/**
 * Returned by f80Rem when no quotient was formed (invalid operand or NaN): C0 and C3 keep
 * their values, C1 and C2 are cleared (as the host does).
 */
export const REM_NO_QUOTIENT = 0x10000;

/** Quotient bits retired per partial FPREM step when the exponent gap is 64 or more. */
export function partialBits(d: number): number {
  return 32 + (d & 31);
}

/**
 * FPREM (ieee = false: quotient truncated) and FPREM1 (ieee = true: quotient rounded to
 * nearest even). a = ST(0), b = ST(1).
 */
export function f80Rem(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, ieee: boolean, cw: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED) { setIndefinite(); return IE | REM_NO_QUOTIENT; }
  if (ka >= K_QNAN || kb >= K_QNAN) return propagateNaN2(aSe, aHi, aLo, ka, bSe, bHi, bLo, kb) | REM_NO_QUOTIENT;
  if (ka === K_INF || kb === K_ZERO) { setIndefinite(); return IE | REM_NO_QUOTIENT; }
  let flags = ka === K_DENORMAL || kb === K_DENORMAL ? DE : 0;
  if (deStops(flags, cw)) return flags | REM_NO_QUOTIENT;
  if (ka === K_ZERO) { setOut(aSe, aHi, aLo); return flags; }
  let sign = (aSe >> 15) & 1;
  if (kb === K_INF) {
    // ST(0) comes back as it is: a denormal stays (no UE even when unmasked), a
    // pseudo-denormal is re-encoded with exponent 1 (host-verified).
    setOut(ka === K_DENORMAL && aHi < 0 ? aSe | 1 : aSe, aHi, aLo);
    return flags;
  }
  unpack(bSe, bHi, bLo);
  const eb = U[0], bh = U[1], bl = U[2];
  unpack(aSe, aHi, aLo);
  const ea = U[0];
  let rHi = U[1], rLo = U[2];
  const d = ea - eb;
  let q = 0;
  let scale = eb; // the remainder rHi:rLo is in units of b's exponent
  if (d < 0) {
    if (!(ieee && d === -1 && (rHi > bh || (rHi === bh && rLo > bl)))) {
      return flags | roundPack80(sign, ea | 0, rHi | 0, rLo | 0, 0, cw, 64);
    }
    // |a| > |b|/2: quotient 1, remainder |b| - |a| = (2B - A) in units of a's exponent.
    let tHi = bh * 2 + (bl >= 0x80000000 ? 1 : 0);
    let tLo = bl >= 0x80000000 ? bl * 2 - TWO32 : bl * 2;
    tLo -= rLo;
    if (tLo < 0) { tLo += TWO32; tHi -= 1; }
    tHi -= rHi;
    rHi = tHi; rLo = tLo;
    sign ^= 1;
    q = 1;
    scale = ea;
  } else {
    let steps = d;
    if (d >= 64) {
      steps = partialBits(d);
      scale = eb + d - steps;
      flags |= C2;
    }
    if (rHi > bh || (rHi === bh && rLo >= bl)) {
      rLo -= bl;
      if (rLo < 0) { rLo += TWO32; rHi -= 1; }
      rHi -= bh;
      q = 1;
    }
    for (let i = 0; i < steps; i++) {
      rHi = rHi * 2 + (rLo >= 0x80000000 ? 1 : 0);
      rLo = rLo >= 0x80000000 ? rLo * 2 - TWO32 : rLo * 2;
      q = (q * 2) & 7;
      if (rHi > bh || (rHi === bh && rLo >= bl)) {
        rLo -= bl;
        if (rLo < 0) { rLo += TWO32; rHi -= 1; }
        rHi -= bh;
        q |= 1;
      }
    }
    if (ieee && (flags & C2) === 0) {
      // Round the quotient to nearest: compare 2R with B.
      const dHi = rHi * 2 + (rLo >= 0x80000000 ? 1 : 0);
      const dLo = rLo >= 0x80000000 ? rLo * 2 - TWO32 : rLo * 2;
      if (dHi > bh || (dHi === bh && (dLo > bl || (dLo === bl && (q & 1) !== 0)))) {
        let tHi = bh, tLo = bl - rLo;
        if (tLo < 0) { tLo += TWO32; tHi -= 1; }
        tHi -= rHi;
        rHi = tHi; rLo = tLo;
        sign ^= 1;
        q = (q + 1) & 7;
      }
    }
  }
  if ((flags & C2) === 0) {
    if ((q & 4) !== 0) flags |= C0;
    if ((q & 2) !== 0) flags |= C3;
    if ((q & 1) !== 0) flags |= C1;
  }
  if (rHi === 0 && rLo === 0) { setOut(aSe & 0x8000, 0, 0); return flags; }
  const n = normalize96(rHi | 0, rLo | 0, 0);
  return flags | roundPack80(sign, (scale - n) | 0, W[0] | 0, W[1] | 0, 0, cw, 64);
}
