/**
 * The D9 E0..FF register group: FCHS, FABS, FXAM, the constants, the transcendentals, FXTRACT,
 * FPREM/FPREM1, FSCALE, FSQRT, FRNDINT, FDECSTP/FINCSTP (FTST is in fpu_exec.ts with the other
 * compares).
 *
 * Each handler follows fpu_stack.ts's response rules: stack faults first (masked → the
 * indefinite), then the operation's own flags, with an unmasked IE/DE/ZE suppressing the
 * result. Sine, cosine and tangent report "out of range" through C2 and then change nothing
 * else; FPREM/FPREM1 write the quotient bits to C0/C3/C1 and "incomplete" to C2.
 */
import { C0, C1, C2, C3 } from './f80.ts';
import { f80Sqrt } from './f80_arith.ts';
import { f80Examine } from './f80_compare.ts';
import { REM_NO_QUOTIENT, f80Extract, f80Rem, f80RoundInt, f80Scale, xHi, xLo, xSe } from './f80_misc.ts';
import {
  TRIG_COS, TRIG_SIN, TRIG_SINCOS, TRIG_TAN, f80Atan, f80Trig, f80TwoXm1, f80Yl2x, f80Yl2xp1,
  pushHi, pushLo, pushSe,
} from './f80_trans.ts';
import type { Fpu } from './fpu.ts';
import {
  STACK_OVERFLOW, STACK_UNDERFLOW, blocked, ieMasked, isEmpty, pop, push, setReg, setRegIndefinite, setRegOut,
  status,
} from './fpu_stack.ts';

/** Execute D9 /4../7 with register operand i (except FTST); false for an invalid encoding. */
export function execD9Group(f: Fpu, reg: number, i: number): boolean {
  switch (reg) {
    case 4:
      switch (i) {
        case 0: unary(f, 0); return true; // FCHS
        case 1: unary(f, 1); return true; // FABS
        case 5: { // FXAM
          const p = f.top;
          const c = f80Examine(f.se[p], f.hi[p], f.lo[p], isEmpty(f, p));
          f.sw = (f.sw & ~(C0 | C1 | C2 | C3)) | c;
          return true;
        }
        default: return false;
      }
    case 5:
      if (i === 7) return false;
      fldConst(f, i);
      return true;
    case 6:
      switch (i) {
        case 0: unaryOp(f, OP_F2XM1); return true;
        case 1: binaryPop(f, OP_FYL2X); return true;
        case 2: trigPush(f, TRIG_TAN); return true;
        case 3: binaryPop(f, OP_FPATAN); return true;
        case 4: fxtract(f); return true;
        case 5: fprem(f, true); return true;
        case 6: f.top = (f.top - 1) & 7; status(f, 0); return true; // FDECSTP
        default: f.top = (f.top + 1) & 7; status(f, 0); return true; // FINCSTP
      }
    default:
      switch (i) {
        case 0: fprem(f, false); return true;
        case 1: binaryPop(f, OP_FYL2XP1); return true;
        case 2: unaryOp(f, OP_FSQRT); return true;
        case 3: trigPush(f, TRIG_SINCOS); return true;
        case 4: unaryOp(f, OP_FRNDINT); return true;
        case 5: fscale(f); return true;
        case 6: unaryOp(f, OP_FSIN); return true;
        default: unaryOp(f, OP_FCOS); return true;
      }
  }
}

/** Constants as truncated 64-bit significands; `up` = the infinitely precise tail exceeds half. */
const CONST_SE = [0x3fff, 0x4000, 0x3fff, 0x4000, 0x3ffd, 0x3ffe, 0];
const CONST_HI = [0x80000000 | 0, 0xd49a784b | 0, 0xb8aa3b29 | 0, 0xc90fdaa2 | 0, 0x9a209a84 | 0, 0xb17217f7 | 0, 0];
const CONST_LO = [0, 0xcd1b8afe | 0, 0x5c17f0bb, 0x2168c234, 0xfbcff798 | 0, 0xd1cf79ab | 0, 0];
/** Round-to-nearest goes up (tail > half); exact constants have no tail. */
const CONST_NEAREST_UP = [false, false, true, true, true, true, false];
const CONST_EXACT = [true, false, false, false, false, false, true];

function fldConst(f: Fpu, k: number): void {
  let lo = CONST_LO[k];
  if (!CONST_EXACT[k]) {
    const rc = (f.cw >> 10) & 3;
    if (rc === 2 || (rc === 0 && CONST_NEAREST_UP[k])) lo = (lo + 1) | 0;
  }
  push(f, CONST_SE[k], CONST_HI[k], lo, 0);
}

/** FCHS (0) / FABS (1): sign-bit only, no exceptions beyond stack underflow. */
function unary(f: Fpu, which: number): void {
  const p = f.top;
  if (isEmpty(f, p)) {
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) setRegIndefinite(f, p);
    return;
  }
  f.se[p] = which === 0 ? f.se[p] ^ 0x8000 : f.se[p] & 0x7fff;
  status(f, 0);
}

const OP_F2XM1 = 0;
const OP_FSQRT = 1;
const OP_FRNDINT = 2;
const OP_FSIN = 3;
const OP_FCOS = 4;
const OP_FYL2X = 5;
const OP_FPATAN = 6;
const OP_FYL2XP1 = 7;

/** ST(0) ← fn(ST(0)). FSIN/FCOS set C2 (and change nothing) for |x| ≥ 2^63. */
function unaryOp(f: Fpu, fn: number): void {
  const p = f.top;
  const trig = fn === OP_FSIN || fn === OP_FCOS;
  if (isEmpty(f, p)) {
    status(f, STACK_UNDERFLOW);
    if (trig) f.sw &= ~C2;
    if (ieMasked(f)) setRegIndefinite(f, p);
    return;
  }
  const se = f.se[p], hi = f.hi[p], lo = f.lo[p];
  let flags: number;
  switch (fn) {
    case OP_F2XM1: flags = f80TwoXm1(se, hi, lo, f.cw); break;
    case OP_FSQRT: flags = f80Sqrt(se, hi, lo, f.cw); break;
    case OP_FRNDINT: flags = f80RoundInt(se, hi, lo, f.cw); break;
    case OP_FSIN: flags = f80Trig(se, hi, lo, TRIG_SIN, f.cw); break;
    default: flags = f80Trig(se, hi, lo, TRIG_COS, f.cw); break;
  }
  if (trig) {
    if ((flags & C2) !== 0) { f.sw |= C2; status(f, flags & ~C2); return; }
    f.sw &= ~C2;
  }
  status(f, flags);
  if (blocked(f, flags)) return;
  setRegOut(f, p);
}

/** ST(1) ← fn(ST(0), ST(1)), pop: FYL2X, FYL2XP1, FPATAN. */
function binaryPop(f: Fpu, fn: number): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (isEmpty(f, p0) || isEmpty(f, p1)) {
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) { setRegIndefinite(f, p1); pop(f); }
    return;
  }
  const xs = f.se[p0], xh = f.hi[p0], xl = f.lo[p0];
  const ys = f.se[p1], yh = f.hi[p1], yl = f.lo[p1];
  let flags: number;
  if (fn === OP_FYL2X) flags = f80Yl2x(xs, xh, xl, ys, yh, yl, f.cw);
  else if (fn === OP_FYL2XP1) flags = f80Yl2xp1(xs, xh, xl, ys, yh, yl, f.cw);
  else flags = f80Atan(ys, yh, yl, xs, xh, xl, f.cw);
  status(f, flags);
  if (blocked(f, flags)) return;
  setRegOut(f, p1);
  pop(f);
}

/** FPTAN and FSINCOS: replace ST(0) and push a second result. */
function trigPush(f: Fpu, kind: number): void {
  const p = f.top;
  const pn = (f.top - 1) & 7;
  if (isEmpty(f, p)) {
    status(f, STACK_UNDERFLOW);
    f.sw &= ~C2;
    if (ieMasked(f)) {
      setRegIndefinite(f, p);
      f.top = pn;
      setRegIndefinite(f, pn);
    }
    return;
  }
  if (!isEmpty(f, pn)) {
    status(f, STACK_OVERFLOW);
    f.sw &= ~C2;
    if (ieMasked(f)) {
      setRegIndefinite(f, p);
      f.top = pn;
      setRegIndefinite(f, pn);
    }
    return;
  }
  const flags = f80Trig(f.se[p], f.hi[p], f.lo[p], kind, f.cw);
  if ((flags & C2) !== 0) { f.sw |= C2; status(f, flags & ~C2); return; }
  f.sw &= ~C2;
  status(f, flags);
  if (blocked(f, flags)) return;
  setRegOut(f, p);
  f.top = pn;
  setReg(f, pn, pushSe, pushHi, pushLo);
}

function fxtract(f: Fpu): void {
  const p = f.top;
  const pn = (f.top - 1) & 7;
  if (isEmpty(f, p)) {
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) {
      setRegIndefinite(f, p);
      f.top = pn;
      setRegIndefinite(f, pn);
    }
    return;
  }
  if (!isEmpty(f, pn)) {
    status(f, STACK_OVERFLOW);
    if (ieMasked(f)) {
      setRegIndefinite(f, p);
      f.top = pn;
      setRegIndefinite(f, pn);
    }
    return;
  }
  const flags = f80Extract(f.se[p], f.hi[p], f.lo[p]);
  status(f, flags);
  if (blocked(f, flags)) return;
  setReg(f, p, xSe, xHi, xLo);
  f.top = pn;
  setRegOut(f, pn);
}

function fscale(f: Fpu): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (isEmpty(f, p0) || isEmpty(f, p1)) {
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) setRegIndefinite(f, p0);
    return;
  }
  const flags = f80Scale(f.se[p0], f.hi[p0], f.lo[p0], f.se[p1], f.hi[p1], f.lo[p1], f.cw);
  status(f, flags);
  if (blocked(f, flags)) return;
  setRegOut(f, p0);
}

function fprem(f: Fpu, ieee: boolean): void {
  const p0 = f.top, p1 = (f.top + 1) & 7;
  if (isEmpty(f, p0) || isEmpty(f, p1)) {
    status(f, STACK_UNDERFLOW);
    f.sw &= ~C2;
    if (ieMasked(f)) setRegIndefinite(f, p0);
    return;
  }
  const r = f80Rem(f.se[p0], f.hi[p0], f.lo[p0], f.se[p1], f.hi[p1], f.lo[p1], ieee, f.cw);
  status(f, r & ~C1);
  if ((r & REM_NO_QUOTIENT) !== 0 || blocked(f, r)) f.sw &= ~C2;
  else f.sw = (f.sw & ~(C0 | C1 | C2 | C3)) | (r & (C0 | C1 | C2 | C3));
  if (blocked(f, r)) return;
  setRegOut(f, p0);
}
