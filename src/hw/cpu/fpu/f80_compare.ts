/**
 * Ordered and unordered comparison, and FXAM's classification, as status-word condition bits.
 *
 * f80Compare returns the exception flags OR-ed with the condition codes the x87 writes for
 * FCOM/FUCOM/FICOM/FTST: a > b → none, a < b → C0, equal → C3, unordered → C3|C2|C0.
 * FCOMI/FUCOMI map the same bits to ZF (C3), PF (C2), CF (C0).
 *
 * Invalid operation: an unsupported operand or an SNaN always; a QNaN only for the ordered
 * forms (FCOM, FICOM, FTST, FCOMI). DE is reported for a denormal operand only when the
 * comparison is ordered (NaN handling takes precedence, SDM vol. 1 §4.9.2). ±0 compare equal;
 * a pseudo-denormal compares as the normal number it denotes.
 */
import { C0, C2, C3, DE, IE, K_DENORMAL, K_INF, K_QNAN, K_SNAN, K_UNSUPPORTED, K_ZERO, classify } from './f80.ts';
import { U, unpack } from './f80_arith.ts';

export const CMP_GT = 0;
export const CMP_LT = C0;
export const CMP_EQ = C3;
export const CMP_UN = C3 | C2 | C0;

export function f80Compare(aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, quiet: boolean, inFlags: number): number {
  const ka = classify(aSe, aHi, aLo);
  const kb = classify(bSe, bHi, bLo);
  if (ka >= K_QNAN || kb >= K_QNAN) {
    let flags = CMP_UN;
    if (ka === K_UNSUPPORTED || kb === K_UNSUPPORTED || ka === K_SNAN || kb === K_SNAN || !quiet) flags |= IE;
    return flags;
  }
  const flags = (ka === K_DENORMAL || kb === K_DENORMAL ? DE : 0) | (inFlags & DE);
  const aSign = (aSe >> 15) & 1;
  const bSign = (bSe >> 15) & 1;
  if (ka === K_ZERO && kb === K_ZERO) return flags | CMP_EQ;
  if (ka === K_ZERO) return flags | (bSign !== 0 ? CMP_GT : CMP_LT);
  if (kb === K_ZERO) return flags | (aSign !== 0 ? CMP_LT : CMP_GT);
  if (aSign !== bSign) return flags | (aSign !== 0 ? CMP_LT : CMP_GT);
  // Same sign: compare magnitudes (exponent, then significand), then apply the sign.
  let mag: number; // -1, 0, 1 for |a| <, =, > |b|
  if (ka === K_INF || kb === K_INF) {
    mag = ka === kb ? 0 : ka === K_INF ? 1 : -1;
  } else {
    unpack(aSe, aHi, aLo);
    const ea = U[0], ah = U[1], al = U[2];
    unpack(bSe, bHi, bLo);
    const eb = U[0], bh = U[1], bl = U[2];
    if (ea !== eb) mag = ea > eb ? 1 : -1;
    else if (ah !== bh) mag = ah > bh ? 1 : -1;
    else if (al !== bl) mag = al > bl ? 1 : -1;
    else mag = 0;
  }
  if (mag === 0) return flags | CMP_EQ;
  if (aSign !== 0) mag = -mag;
  return flags | (mag > 0 ? CMP_GT : CMP_LT);
}

/**
 * FXAM: C3 C2 C0 = class, C1 = sign. Classes: unsupported 000, NaN 001, normal 010,
 * infinity 011, zero 100, empty 101, denormal 110. Pseudo-denormals report as denormal.
 */
export function f80Examine(se: number, hi: number, lo: number, empty: boolean): number {
  const sign = (se & 0x8000) !== 0 ? 0x200 : 0;
  if (empty) return sign | C3 | C0;
  switch (classify(se, hi, lo)) {
    case K_UNSUPPORTED: return sign;
    case K_QNAN: case K_SNAN: return sign | C0;
    case K_INF: return sign | C2 | C0;
    case K_ZERO: return sign | C3;
    case K_DENORMAL: return sign | C3 | C2;
    default: return sign | C2;
  }
}
