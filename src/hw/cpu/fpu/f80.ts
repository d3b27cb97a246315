/**
 * The 80-bit double-extended format of the x87 and its vocabulary: exception bits,
 * operand classes, special encodings and the shared result buffer.
 *
 * A value travels as three int32 numbers: `se` = sign << 15 | biased exponent (15 bits),
 * `hi` = significand bits 63..32 (bit 63 is the explicit integer bit J), `lo` = bits 31..0.
 * Inside the arithmetic the halves are widened to unsigned (`>>> 0`) in locals only; what is
 * stored (registers, OUT) is always int32.
 *
 * Every arithmetic routine in f80_*.ts returns a flags word and leaves its 80-bit result in
 * OUT[0..2] (se, hi, lo). Flags use the status-word positions of the exceptions (IE..PE) plus
 * C1_UP (bit 9, the position of C1): set when rounding increased the magnitude, which is what
 * the x87 reports in C1 after an inexact result.
 *
 * Classes (classify): the P6 accepts zero, normal, denormal, pseudo-denormal (exp 0 with J=1,
 * read as a denormal operand with exponent 1), infinity and NaNs; unnormals, pseudo-infinities
 * and pseudo-NaNs (J=0 with a non-zero exponent) are "unsupported" and raise IE like an SNaN.
 */

/** Exception flags, at their status-word bit positions. */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;
/** Stack fault: comes with IE; C1 tells overflow (1) from underflow (0). */
export const SF = 0x40;
export const ES = 0x80;
export const C0 = 0x100;
export const C1 = 0x200;
export const C2 = 0x400;
export const C3 = 0x4000;
export const BUSY = 0x8000;
/** Returned with the flags when rounding increased the magnitude (reported in C1). */
export const C1_UP = C1;
export const EXC_MASK = 0x3f;

/** Control-word fields. */
export const CW_PC_SHIFT = 8;
export const CW_RC_SHIFT = 10;
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_CHOP = 3;

export const EXP_MAX = 0x7fff;
export const BIAS = 0x3fff;
/** Exponent adjustment applied to results delivered with OE or UE unmasked. */
export const BIAS_ADJUST = 0x6000;

/** Operand classes. */
export const K_ZERO = 0;
export const K_NORMAL = 1;
/** Denormal or pseudo-denormal: raises DE when used as an arithmetic operand. */
export const K_DENORMAL = 2;
export const K_INF = 3;
export const K_QNAN = 4;
export const K_SNAN = 5;
/** Unnormal, pseudo-infinity, pseudo-NaN: an invalid operand on the 387 and later. */
export const K_UNSUPPORTED = 6;

/** The "real indefinite" QNaN: negative, quiet bit only. */
export const INDEF_SE = 0xffff;
export const INDEF_HI = 0xc0000000 | 0;
export const INDEF_LO = 0;

/** Result of the last f80 routine: [se, hi, lo]. Overwritten by every call. */
export const OUT = new Int32Array(3);

export function classify(se: number, hi: number, lo: number): number {
  const e = se & EXP_MAX;
  if (e === 0) {
    if ((hi | lo) === 0) return K_ZERO;
    return K_DENORMAL;
  }
  if (hi >= 0) return K_UNSUPPORTED; // J bit clear with a non-zero exponent
  if (e === EXP_MAX) {
    if (((hi & 0x7fffffff) | lo) === 0) return K_INF;
    return (hi & 0x40000000) !== 0 ? K_QNAN : K_SNAN;
  }
  return K_NORMAL;
}

/**
 * An unmasked denormal-operand exception stops the instruction before any result (and any
 * lower-priority flag) is produced.
 */
export function deStops(flags: number, cw: number): boolean {
  return (flags & DE) !== 0 && (cw & DE) === 0;
}

export function isNaNClass(k: number): boolean {
  return k === K_QNAN || k === K_SNAN;
}

export function setOut(se: number, hi: number, lo: number): void {
  OUT[0] = se;
  OUT[1] = hi;
  OUT[2] = lo;
}

export function setIndefinite(): void {
  OUT[0] = INDEF_SE;
  OUT[1] = INDEF_HI;
  OUT[2] = INDEF_LO;
}

/**
 * NaN propagation for two operands (SDM vol. 1, table 4-7, x87 column): a QNaN beats an SNaN;
 * of two NaNs of the same kind the one with the larger significand wins (equal significands:
 * the first operand); the result is always quiet.
 * Returns IE if either operand is an SNaN. Either operand may be a non-NaN (then the other
 * is returned).
 */
export function propagateNaN2(
  aSe: number, aHi: number, aLo: number, ka: number,
  bSe: number, bHi: number, bLo: number, kb: number,
): number {
  const flags = ka === K_SNAN || kb === K_SNAN ? IE : 0;
  const aNaN = ka === K_QNAN || ka === K_SNAN;
  const bNaN = kb === K_QNAN || kb === K_SNAN;
  let pickA: boolean;
  if (aNaN && bNaN && ka !== kb) {
    pickA = ka === K_QNAN;
  } else if (aNaN && bNaN) {
    const ah = (aHi | 0x40000000) >>> 0;
    const bh = (bHi | 0x40000000) >>> 0;
    if (ah !== bh) pickA = ah > bh;
    else if (aLo !== bLo) pickA = aLo >>> 0 > bLo >>> 0;
    else pickA = true;
  } else {
    pickA = aNaN;
  }
  if (pickA) setOut(aSe, aHi | 0x40000000, aLo);
  else setOut(bSe, bHi | 0x40000000, bLo);
  return flags;
}

/** One-operand NaN: quieten it (IE if it was signalling). */
export function propagateNaN1(se: number, hi: number, lo: number, k: number): number {
  setOut(se, hi | 0x40000000, lo);
  return k === K_SNAN ? IE : 0;
}
