/**
 * Significand plumbing and the one rounding routine every x87 result goes through.
 *
 * Wide significands are three unsigned 32-bit limbs s0:s1:s2 (s0 most significant) held in
 * number locals; bit 95 is the integer bit J once normalized. Across calls limbs travel as
 * int32 (callers pass `x | 0`, callees widen with `>>> 0`): in optimized code a double
 * argument above 2^31 would be boxed into a fresh heap number on every call. Routines that produce several
 * limbs leave them in W[0..2] (read them right after the call; the next call overwrites
 * them). This avoids allocating a tuple per operation.
 *
 * Rounding (roundPack80): the value is sign · s0:s1:s2 · 2^(exp - BIAS - 95), exp unbounded.
 * The precision (24/53/64 bits) picks where the round bit sits inside the 64-bit field; the
 * exponent range is always the extended one (the x87 precision control does not narrow it).
 * Tininess is detected after rounding (SDM vol. 1 §4.9.1.5: "the result of rounding with
 * unbounded exponent ... is non-zero and tiny"), checked against the host in the differential
 * test. With UE masked a tiny result is denormalized first and then rounded at the same bit
 * position, UE is raised only if it is also inexact; with UE unmasked the normalized rounded
 * value is delivered with the exponent raised by BIAS_ADJUST. Overflow is symmetric.
 *
 * Worked example: 1 + 2^-30 under PC=24 and RC=nearest: s0 = 0x80000002 after alignment,
 * round bit is bit 7 of s0 (clear), sticky non-zero, so the result is 1.0 with PE and C1=0.
 */
import { BIAS_ADJUST, C1_UP, EXP_MAX, OE, OUT, PE, RC_DOWN, RC_NEAREST, RC_UP, UE } from './f80.ts';

/**
 * Limb results W[0..2] (most significant first). A Float64Array, not module variables: a
 * module variable holding a uint32 above 2^31 is a heap number, and every write would
 * allocate one.
 */
export const W = new Float64Array(3);

const TWO32 = 4294967296;
/** Set by roundSig when rounding carried out of the top bit (the value became 2^64). */
const CARRY = 0x10000;

/** Shift s0:s1:s2 right by n ≥ 0, OR-ing every bit shifted out into bit 0 of W[2] ("jamming"). */
export function shiftRightJam96(s0: number, s1: number, s2: number, n: number): void {
  s0 >>>= 0; s1 >>>= 0; s2 >>>= 0;
  if (n === 0) {
    W[0] = s0; W[1] = s1; W[2] = s2;
  } else if (n < 32) {
    const lost = (s2 << (32 - n)) !== 0 ? 1 : 0;
    W[2] = (((s2 >>> n) | (s1 << (32 - n))) | lost) >>> 0;
    W[1] = ((s1 >>> n) | (s0 << (32 - n))) >>> 0;
    W[0] = s0 >>> n;
  } else if (n === 32) {
    W[2] = (s1 | (s2 !== 0 ? 1 : 0)) >>> 0;
    W[1] = s0;
    W[0] = 0;
  } else if (n < 64) {
    const m = n - 32;
    const lost = (s2 !== 0 || (s1 << (32 - m)) !== 0) ? 1 : 0;
    W[2] = (((s1 >>> m) | (s0 << (32 - m))) | lost) >>> 0;
    W[1] = s0 >>> m;
    W[0] = 0;
  } else if (n === 64) {
    W[2] = (s0 | ((s1 | s2) !== 0 ? 1 : 0)) >>> 0;
    W[1] = 0;
    W[0] = 0;
  } else if (n < 96) {
    const m = n - 64;
    const lost = ((s1 | s2) !== 0 || (s0 << (32 - m)) !== 0) ? 1 : 0;
    W[2] = ((s0 >>> m) | lost) >>> 0;
    W[1] = 0;
    W[0] = 0;
  } else {
    W[2] = (s0 | s1 | s2) !== 0 ? 1 : 0;
    W[1] = 0;
    W[0] = 0;
  }
}

/**
 * Shift s0:s1:s2 left until bit 95 is set; returns the shift count (0 if already normal).
 * The value must be non-zero.
 */
export function normalize96(s0: number, s1: number, s2: number): number {
  s0 >>>= 0; s1 >>>= 0; s2 >>>= 0;
  let n = 0;
  if (s0 === 0) {
    if (s1 === 0) { s0 = s2; s1 = 0; s2 = 0; n = 64; } else { s0 = s1; s1 = s2; s2 = 0; n = 32; }
  }
  const z = Math.clz32(s0);
  if (z !== 0) {
    s0 = ((s0 << z) | (s1 >>> (32 - z))) >>> 0;
    s1 = ((s1 << z) | (s2 >>> (32 - z))) >>> 0;
    s2 = (s2 << z) >>> 0;
  }
  W[0] = s0; W[1] = s1; W[2] = s2;
  return n + z;
}

function roundsUp(rc: number, sign: number, half: boolean, rest: boolean, odd: boolean): boolean {
  switch (rc) {
    case RC_NEAREST: return half && (rest || odd);
    case RC_DOWN: return sign !== 0 && (half || rest);
    case RC_UP: return sign === 0 && (half || rest);
    default: return false;
  }
}

/**
 * Round s0:s1:s2 to `bits` (24, 53 or 64) significant bits counted from bit 95, leaving the
 * 64-bit result in W[0]:W[1] (bits below the precision cleared). Returns PE if inexact, C1_UP if
 * the magnitude was increased, CARRY if the result overflowed to 2^64 (then W[0]:W[1] = 2^63).
 */
export function roundSig(sign: number, s0: number, s1: number, s2: number, rc: number, bits: number): number {
  s0 >>>= 0; s1 >>>= 0; s2 >>>= 0;
  let half: boolean, rest: boolean, odd: boolean;
  if (bits === 64) {
    half = s2 >= 0x80000000;
    rest = (s2 & 0x7fffffff) !== 0;
    odd = (s1 & 1) !== 0;
  } else if (bits === 53) {
    const r = s1 & 0x7ff;
    half = (r & 0x400) !== 0;
    rest = (r & 0x3ff) !== 0 || s2 !== 0;
    odd = (s1 & 0x800) !== 0;
    s1 -= r;
  } else {
    const r = s0 & 0xff;
    half = (r & 0x80) !== 0;
    rest = (r & 0x7f) !== 0 || s1 !== 0 || s2 !== 0;
    odd = (s0 & 0x100) !== 0;
    s0 -= r;
    s1 = 0;
  }
  let flags = half || rest ? PE : 0;
  if (roundsUp(rc, sign, half, rest, odd)) {
    flags |= C1_UP;
    if (bits === 64) s1 += 1;
    else if (bits === 53) s1 += 0x800;
    else s0 += 0x100;
    if (s1 >= TWO32) { s1 -= TWO32; s0 += 1; }
    if (s0 >= TWO32) { s0 = 0x80000000; flags |= CARRY; }
  }
  W[0] = s0;
  W[1] = s1;
  return flags;
}

export function precisionBits(cw: number): number {
  const pc = (cw >> 8) & 3;
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}

/**
 * Round and deliver a finite non-zero extended result into OUT. s0 must have bit 31 set.
 * `bits` is the precision (precisionBits(cw) for the PC-controlled ops, else 64); cw supplies
 * RC and the OE/UE masks. Returns exception flags (OE, UE, PE) and C1_UP.
 */
export function roundPack80(sign: number, exp: number, s0: number, s1: number, s2: number, cw: number, bits: number): number {
  s0 >>>= 0; s1 >>>= 0; s2 >>>= 0;
  const rc = (cw >> 10) & 3;
  let flags: number;
  if (exp < 1) {
    // Tiny after rounding unless the unbounded-exponent rounding carries exp 0 up to 1.
    let tiny = true;
    if (exp === 0) tiny = (roundSig(sign, s0 | 0, s1 | 0, s2 | 0, rc, bits) & CARRY) === 0;
    if ((cw & UE) === 0 && tiny) {
      flags = roundSig(sign, s0 | 0, s1 | 0, s2 | 0, rc, bits);
      if ((flags & CARRY) !== 0) exp++;
      if (exp + BIAS_ADJUST < 1) {
        // Too small even for the adjusted range (only FSCALE gets here): a signed zero.
        OUT[0] = sign << 15; OUT[1] = 0; OUT[2] = 0;
        return UE | PE;
      }
      OUT[0] = (sign << 15) | ((exp + BIAS_ADJUST) & EXP_MAX);
      OUT[1] = W[0] | 0;
      OUT[2] = W[1] | 0;
      return (flags & ~CARRY) | UE;
    }
    shiftRightJam96(s0 | 0, s1 | 0, s2 | 0, 1 - exp);
    flags = roundSig(sign, W[0] | 0, W[1] | 0, W[2] | 0, rc, bits);
    // A carry into J makes the smallest normal (exponent 1).
    exp = W[0] >= 0x80000000 ? 1 : 0;
    if (tiny && (flags & PE) !== 0) flags |= UE;
    OUT[0] = (sign << 15) | exp;
    OUT[1] = W[0] | 0;
    OUT[2] = W[1] | 0;
    return flags;
  }
  flags = roundSig(sign, s0 | 0, s1 | 0, s2 | 0, rc, bits);
  if ((flags & CARRY) !== 0) { exp++; flags &= ~CARRY; }
  if (exp >= EXP_MAX) {
    if ((cw & OE) === 0) {
      if (exp - BIAS_ADJUST >= EXP_MAX) {
        // Too large even for the adjusted range (only FSCALE gets here): infinity.
        OUT[0] = (sign << 15) | EXP_MAX; OUT[1] = 0x80000000 | 0; OUT[2] = 0;
        return OE | PE | C1_UP;
      }
      OUT[0] = (sign << 15) | ((exp - BIAS_ADJUST) & EXP_MAX);
      OUT[1] = W[0] | 0;
      OUT[2] = W[1] | 0;
      return flags | OE;
    }
    return overflowResult(sign, rc, bits);
  }
  OUT[0] = (sign << 15) | exp;
  OUT[1] = W[0] | 0;
  OUT[2] = W[1] | 0;
  return flags;
}

/** Masked overflow: infinity, or the largest finite value of the precision when RC points inward. */
export function overflowResult(sign: number, rc: number, bits: number): number {
  const toInf = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0);
  if (toInf) {
    OUT[0] = (sign << 15) | EXP_MAX;
    OUT[1] = 0x80000000 | 0;
    OUT[2] = 0;
    return OE | PE | C1_UP;
  }
  OUT[0] = (sign << 15) | (EXP_MAX - 1);
  if (bits === 64) { OUT[1] = -1; OUT[2] = -1; }
  else if (bits === 53) { OUT[1] = -1; OUT[2] = 0xfffff800 | 0; }
  else { OUT[1] = 0xffffff00 | 0; OUT[2] = 0; }
  return OE | PE;
}

