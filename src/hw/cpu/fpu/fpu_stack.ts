/**
 * Register-stack primitives shared by the instruction handlers: ST(i) addressing, push/pop,
 * status updates and the masked/unmasked response rules.
 *
 * Response rules (SDM vol. 1 §8.4-8.5): a stack overflow or underflow is IE|SF with C1 = 1
 * (overflow) or 0 (underflow); masked, the destination receives the real indefinite. An
 * unmasked IE, DE or ZE suppresses the instruction's result entirely (no register write, no
 * store, no pop), leaving only the exception flags; unmasked OE/UE deliver a bias-adjusted
 * result to a register destination but suppress memory stores; PE never suppresses anything.
 */
import { C1, DE, EXC_MASK, IE, INDEF_HI, INDEF_LO, INDEF_SE, OUT, SF, ZE } from './f80.ts';
import type { Fpu } from './fpu.ts';

/** Physical register number of ST(i). */
export function phys(f: Fpu, i: number): number {
  return (f.top + i) & 7;
}

export function isEmpty(f: Fpu, p: number): boolean {
  return (f.valid & (1 << p)) === 0;
}

export function setReg(f: Fpu, p: number, se: number, hi: number, lo: number): void {
  f.se[p] = se & 0xffff;
  f.hi[p] = hi;
  f.lo[p] = lo;
  f.valid |= 1 << p;
}

/** Store OUT into physical register p and mark it valid. */
export function setRegOut(f: Fpu, p: number): void {
  f.se[p] = OUT[0] & 0xffff;
  f.hi[p] = OUT[1];
  f.lo[p] = OUT[2];
  f.valid |= 1 << p;
}

export function setRegIndefinite(f: Fpu, p: number): void {
  setReg(f, p, INDEF_SE, INDEF_HI, INDEF_LO);
}

export function pop(f: Fpu): void {
  f.valid &= ~(1 << f.top);
  f.top = (f.top + 1) & 7;
}

/**
 * Record exception flags (sticky) and set C1 from the C1 bit of `flags` (cleared otherwise).
 * Other condition codes are untouched.
 */
export function status(f: Fpu, flags: number): void {
  f.sw = (f.sw & ~C1) | (flags & (EXC_MASK | SF | C1));
}

/** Like status, but C1 changes only on a stack fault (FCMOVcc, FCOMI keep it otherwise). */
export function statusKeepC1(f: Fpu, flags: number): void {
  if ((flags & SF) !== 0) status(f, flags);
  else f.sw |= flags & EXC_MASK;
}

/** Does this outcome suppress the result (an unmasked IE, DE or ZE)? */
export function blocked(f: Fpu, flags: number): boolean {
  return (flags & ~f.cw & (IE | DE | ZE)) !== 0;
}

/** Is IE masked? (the masked response to a stack fault is the indefinite). */
export function ieMasked(f: Fpu): boolean {
  return (f.cw & IE) !== 0;
}

export const STACK_UNDERFLOW = IE | SF;
export const STACK_OVERFLOW = IE | SF | C1;

/**
 * Push the value (se, hi, lo) with the exception flags of producing it. Handles stack
 * overflow (ST(7) not empty) and suppression by unmasked exceptions. C1 = 0 unless overflow
 * or the value was rounded up (flags & C1).
 */
export function push(f: Fpu, se: number, hi: number, lo: number, flags: number): void {
  pushMasked(f, se, hi, lo, flags, IE | DE | ZE);
}

/**
 * push() where only the exceptions in `stops` suppress the push when unmasked: FLD m32/m64
 * loads a denormal even with DE unmasked (only an SNaN with IE unmasked stops it).
 */
export function pushMasked(f: Fpu, se: number, hi: number, lo: number, flags: number, stops: number): void {
  const p = (f.top - 1) & 7;
  if (!isEmpty(f, p)) {
    status(f, STACK_OVERFLOW);
    if (ieMasked(f)) {
      f.top = p;
      setRegIndefinite(f, p);
    }
    return;
  }
  status(f, flags);
  if ((flags & ~f.cw & stops) !== 0) return;
  f.top = p;
  setReg(f, p, se, hi, lo);
}
