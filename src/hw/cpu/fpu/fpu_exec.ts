/**
 * Instruction dispatch for the ESC opcodes D8..DF: decodes (op, ModRM) into the x87
 * instruction, runs it against the Fpu state and records the last-instruction pointers.
 *
 * Invariants:
 *  - An invalid encoding returns FPU_UD before touching anything.
 *  - Memory operands are read before any state changes; memory results are written before
 *    any state is committed (see the contract in fpu.ts), so a fault thrown by `mem` leaves
 *    the FPU unchanged.
 *  - Control instructions (FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FLDENV, FNSTENV, FRSTOR,
 *    FNSAVE, FNENI/FNDISI/FNSETPM) do not update FIP/FCS/FOP/FDP/FDS; all others do, at the
 *    end (FDP/FDS only when they have a memory operand).
 *  - ES/B are recomputed after every instruction.
 *
 * Operand roles: the two-operand arithmetic groups (D8, DC, DE and the memory forms) use the
 * ModRM reg field as the operation, with a = ST(0) and b = ST(i) or the memory operand:
 * 0 a+b, 1 a·b, 2 compare, 3 compare+pop, 4 a-b, 5 b-a, 6 a/b, 7 b/a. That single reading
 * covers both D8 (result to ST(0)) and DC/DE (result to ST(i)), whose mnemonics swap
 * FSUB/FSUBR and FDIV/FDIVR exactly so that this holds.
 */
import {
  C0, C1, C2, C3, IE, INDEF_HI, INDEF_LO, INDEF_SE, K_SNAN, OUT, RC_CHOP, classify, setOut,
} from './f80.ts';
import { f80Add, f80Div, f80Mul } from './f80_arith.ts';
import { CMP_UN, f80Compare } from './f80_compare.ts';
import {
  STORE_NONE, bcdToF80, f32ToF80, f64ToF80, f80ToBcd, f80ToF32, f80ToF64, f80ToInt, i32ToF80, i64ToF80,
} from './f80_convert.ts';
import { FPU_OK, FPU_UD, type Fpu, type FpuEnv, type FpuMemory } from './fpu.ts';
import { execD9Group } from './fpu_d9.ts';
import { fldenv, frstor, fstenv, fsave } from './fpu_save.ts';
import {
  STACK_UNDERFLOW, blocked, ieMasked, isEmpty, phys, pop, push, pushMasked, setReg, setRegIndefinite,
  setRegOut, status, statusKeepC1,
} from './fpu_stack.ts';

const bcdBuf = new Uint8Array(10);

export function fpuExecute(f: Fpu, op: number, modrm: number, linear: number, mem: FpuMemory, env: FpuEnv): number {
  const r = modrm < 0xc0 ? execMem(f, op, modrm, linear, mem, env) : execReg(f, op, modrm, env);
  if (r === NOTE) {
    f.fop = (op << 8) | modrm;
    f.fcs = env.cs & 0xffff;
    f.fip = env.eip | 0;
    if (modrm < 0xc0) {
      f.fds = env.ds & 0xffff;
      f.fdp = env.ea | 0;
    }
  } else if (r !== CONTROL) {
    return r;
  }
  f.updateSummary();
  return FPU_OK;
}

/** Internal results: NOTE = done, record pointers; CONTROL = done, pointers untouched. */
const NOTE = -1;
const CONTROL = -2;

// ---- two-operand arithmetic ----------------------------------------------------------------

function binop(f: Fpu, kind: number, aSe: number, aHi: number, aLo: number, bSe: number, bHi: number, bLo: number, inFlags: number): number {
  const cw = f.cw;
  switch (kind) {
    case 0: return f80Add(aSe, aHi, aLo, bSe, bHi, bLo, false, cw, inFlags);
    case 1: return f80Mul(aSe, aHi, aLo, bSe, bHi, bLo, cw, inFlags);
    case 4: return f80Add(aSe, aHi, aLo, bSe, bHi, bLo, true, cw, inFlags);
    case 5: return f80Add(bSe, bHi, bLo, aSe, aHi, aLo, true, cw, inFlags);
    case 6: return f80Div(aSe, aHi, aLo, bSe, bHi, bLo, cw, inFlags);
    default: return f80Div(bSe, bHi, bLo, aSe, aHi, aLo, cw, inFlags);
  }
}

/**
 * ST(0) op b → dst, or compare for kinds 2/3. `bEmpty`: b is an empty register (stack
 * underflow). `popAfter`: the P forms (and FCOMP).
 */
function arith(f: Fpu, kind: number, dst: number, bSe: number, bHi: number, bLo: number, bEmpty: boolean, inFlags: number, popAfter: boolean): void {
  const pa = f.top;
  if (kind === 2 || kind === 3) {
    compare(f, pa, bSe, bHi, bLo, bEmpty, false, inFlags, (kind === 3 ? 1 : 0) + (popAfter ? 1 : 0));
    return;
  }
  if (bEmpty || isEmpty(f, pa)) {
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) {
      setRegIndefinite(f, dst);
      if (popAfter) pop(f);
    }
    return;
  }
  const flags = binop(f, kind, f.se[pa], f.hi[pa], f.lo[pa], bSe, bHi, bLo, inFlags);
  status(f, flags);
  if (blocked(f, flags)) return;
  setRegOut(f, dst);
  if (popAfter) pop(f);
}

function compare(f: Fpu, pa: number, bSe: number, bHi: number, bLo: number, bEmpty: boolean, quiet: boolean, inFlags: number, pops: number): void {
  const r = bEmpty || isEmpty(f, pa)
    ? STACK_UNDERFLOW | CMP_UN
    : f80Compare(f.se[pa], f.hi[pa], f.lo[pa], bSe, bHi, bLo, quiet, inFlags);
  // The condition codes are written even when an unmasked IE/DE suppresses the pops.
  status(f, r & ~C1);
  f.sw = (f.sw & ~(C0 | C2 | C3)) | (r & (C0 | C2 | C3));
  if (blocked(f, r)) return;
  for (let i = 0; i < pops; i++) pop(f);
}

/** FCOMI/FUCOMI(P): ST(0) vs ST(i) into ZF/PF/CF. */
function compareEflags(f: Fpu, i: number, quiet: boolean, popAfter: boolean, env: FpuEnv): void {
  const pa = f.top, pb = phys(f, i);
  const r = isEmpty(f, pa) || isEmpty(f, pb)
    ? STACK_UNDERFLOW | CMP_UN
    : f80Compare(f.se[pa], f.hi[pa], f.lo[pa], f.se[pb], f.hi[pb], f.lo[pb], quiet, 0);
  // EFLAGS are written even when an unmasked IE/DE suppresses the pop.
  statusKeepC1(f, r & ~C1);
  env.writeCompareFlags(((r & C3) !== 0 ? 0x40 : 0) | ((r & C2) !== 0 ? 0x04 : 0) | ((r & C0) !== 0 ? 0x01 : 0));
  if (blocked(f, r)) return;
  if (popAfter) pop(f);
}

// ---- loads and stores ----------------------------------------------------------------------

/** Push OUT (a converted memory real) with its conversion flags; SNaNs are quietened (IE). */
function pushConverted(f: Fpu, flags: number): void {
  let hi = OUT[1];
  if (classify(OUT[0], hi, OUT[2]) === K_SNAN) {
    flags |= IE;
    hi |= 0x40000000;
  }
  pushMasked(f, OUT[0], hi, OUT[2], flags, IE);
}

/** FST/FSTP m32/m64/m80 and FIST(P)/FISTTP/FBSTP: kind = 32, 64, 80, or int sizes via `intSize`. */
function storeReal(f: Fpu, size: number, popAfter: boolean, linear: number, mem: FpuMemory): void {
  const p = f.top;
  let flags: number;
  if (isEmpty(f, p)) {
    flags = STACK_UNDERFLOW;
    if (!ieMasked(f)) { status(f, flags); return; }
    setOut(INDEF_SE, INDEF_HI, INDEF_LO);
    if (size === 32) OUT[2] = 0xffc00000 | 0;
    else if (size === 64) { OUT[1] = 0xfff80000 | 0; OUT[2] = 0; }
  } else if (size === 32) {
    flags = f80ToF32(f.se[p], f.hi[p], f.lo[p], f.cw);
  } else if (size === 64) {
    flags = f80ToF64(f.se[p], f.hi[p], f.lo[p], f.cw);
  } else {
    flags = 0;
    setOut(f.se[p], f.hi[p], f.lo[p]);
  }
  if ((flags & STORE_NONE) !== 0 || blocked(f, flags)) { status(f, flags & ~STORE_NONE); return; }
  if (size === 32) mem.write32(linear, OUT[2]);
  else if (size === 64) { mem.write32(linear, OUT[2]); mem.write32(linear + 4, OUT[1]); }
  else { mem.write32(linear, OUT[2]); mem.write32(linear + 4, OUT[1]); mem.write16(linear + 8, OUT[0] & 0xffff); }
  status(f, flags);
  if (popAfter) pop(f);
}

function storeInt(f: Fpu, size: number, popAfter: boolean, chop: boolean, linear: number, mem: FpuMemory): void {
  const p = f.top;
  let flags: number;
  if (isEmpty(f, p)) {
    flags = STACK_UNDERFLOW;
    if (!ieMasked(f)) { status(f, flags); return; }
    OUT[1] = 0x80000000 | 0;
    OUT[2] = size === 64 ? 0 : size === 32 ? 0x80000000 | 0 : 0x8000;
  } else {
    const cw = chop ? f.cw | (RC_CHOP << 10) : f.cw;
    flags = f80ToInt(f.se[p], f.hi[p], f.lo[p], cw, size);
    if (blocked(f, flags)) { status(f, flags); return; }
  }
  if (size === 16) mem.write16(linear, OUT[2] & 0xffff);
  else if (size === 32) mem.write32(linear, OUT[2]);
  else { mem.write32(linear, OUT[2]); mem.write32(linear + 4, OUT[1]); }
  status(f, flags);
  if (popAfter) pop(f);
}

function storeBcd(f: Fpu, linear: number, mem: FpuMemory): void {
  const p = f.top;
  let flags: number;
  if (isEmpty(f, p)) {
    flags = STACK_UNDERFLOW;
    if (!ieMasked(f)) { status(f, flags); return; }
    bcdBuf.fill(0);
    bcdBuf[7] = 0xc0; bcdBuf[8] = 0xff; bcdBuf[9] = 0xff;
  } else {
    flags = f80ToBcd(f.se[p], f.hi[p], f.lo[p], f.cw, bcdBuf);
    if (blocked(f, flags)) { status(f, flags); return; }
  }
  for (let i = 0; i < 10; i++) mem.write8(linear + i, bcdBuf[i]);
  status(f, flags);
  pop(f);
}

// ---- memory forms --------------------------------------------------------------------------

function execMem(f: Fpu, op: number, modrm: number, linear: number, mem: FpuMemory, env: FpuEnv): number {
  const reg = (modrm >> 3) & 7;
  switch (op) {
    case 0: { // D8: arithmetic with m32real
      const fl = f32ToF80(mem.read32(linear));
      arith(f, reg, f.top, OUT[0], OUT[1], OUT[2], false, fl, false);
      return NOTE;
    }
    case 4: { // DC: arithmetic with m64real
      const lo = mem.read32(linear), hi = mem.read32(linear + 4);
      const fl = f64ToF80(hi, lo);
      arith(f, reg, f.top, OUT[0], OUT[1], OUT[2], false, fl, false);
      return NOTE;
    }
    case 2: // DA: arithmetic with m32int
      i32ToF80(mem.read32(linear) | 0);
      arith(f, reg, f.top, OUT[0], OUT[1], OUT[2], false, 0, false);
      return NOTE;
    case 6: // DE: arithmetic with m16int
      i32ToF80((mem.read16(linear) << 16) >> 16);
      arith(f, reg, f.top, OUT[0], OUT[1], OUT[2], false, 0, false);
      return NOTE;
    case 1:
      switch (reg) {
        case 0: pushConverted(f, f32ToF80(mem.read32(linear))); return NOTE;       // FLD m32
        case 2: storeReal(f, 32, false, linear, mem); return NOTE;                  // FST m32
        case 3: storeReal(f, 32, true, linear, mem); return NOTE;                   // FSTP m32
        case 4: fldenv(f, linear, mem, env); return CONTROL;                        // FLDENV
        case 5: f.cw = (mem.read16(linear) & 0x1f3f) | 0x40; return CONTROL;        // FLDCW
        case 6: fstenv(f, linear, mem, env); f.cw |= 0x3f; return CONTROL;          // FNSTENV
        case 7: mem.write16(linear, f.cw); return CONTROL;                          // FNSTCW
        default: return FPU_UD;
      }
    case 3:
      switch (reg) {
        case 0: i32ToF80(mem.read32(linear) | 0); push(f, OUT[0], OUT[1], OUT[2], 0); return NOTE; // FILD m32
        case 1: if (!f.sse3) return FPU_UD; storeInt(f, 32, true, true, linear, mem); return NOTE; // FISTTP m32
        case 2: storeInt(f, 32, false, false, linear, mem); return NOTE;           // FIST m32
        case 3: storeInt(f, 32, true, false, linear, mem); return NOTE;            // FISTP m32
        case 5: {                                                                   // FLD m80
          const lo = mem.read32(linear), hi = mem.read32(linear + 4), se = mem.read16(linear + 8);
          push(f, se, hi, lo, 0);
          return NOTE;
        }
        case 7: storeReal(f, 80, true, linear, mem); return NOTE;                  // FSTP m80
        default: return FPU_UD;
      }
    case 5:
      switch (reg) {
        case 0: {                                                                   // FLD m64
          const lo = mem.read32(linear), hi = mem.read32(linear + 4);
          pushConverted(f, f64ToF80(hi, lo));
          return NOTE;
        }
        case 1: if (!f.sse3) return FPU_UD; storeInt(f, 64, true, true, linear, mem); return NOTE; // FISTTP m64
        case 2: storeReal(f, 64, false, linear, mem); return NOTE;                  // FST m64
        case 3: storeReal(f, 64, true, linear, mem); return NOTE;                   // FSTP m64
        case 4: frstor(f, linear, mem, env); return CONTROL;                        // FRSTOR
        case 6: fsave(f, linear, mem, env); f.fninit(); return CONTROL;             // FNSAVE
        case 7: mem.write16(linear, f.statusWord); return CONTROL;                  // FNSTSW m16
        default: return FPU_UD;
      }
    default: // 7
      switch (reg) {
        case 0: i32ToF80((mem.read16(linear) << 16) >> 16); push(f, OUT[0], OUT[1], OUT[2], 0); return NOTE; // FILD m16
        case 1: if (!f.sse3) return FPU_UD; storeInt(f, 16, true, true, linear, mem); return NOTE; // FISTTP m16
        case 2: storeInt(f, 16, false, false, linear, mem); return NOTE;           // FIST m16
        case 3: storeInt(f, 16, true, false, linear, mem); return NOTE;            // FISTP m16
        case 4: {                                                                   // FBLD
          for (let i = 0; i < 10; i++) bcdBuf[i] = mem.read8(linear + i);
          bcdToF80(bcdBuf);
          push(f, OUT[0], OUT[1], OUT[2], 0);
          return NOTE;
        }
        case 5: {                                                                   // FILD m64
          const lo = mem.read32(linear), hi = mem.read32(linear + 4);
          i64ToF80(hi, lo);
          push(f, OUT[0], OUT[1], OUT[2], 0);
          return NOTE;
        }
        case 6: storeBcd(f, linear, mem); return NOTE;                              // FBSTP
        default: storeInt(f, 64, true, false, linear, mem); return NOTE;           // FISTP m64
      }
  }
}

// ---- register forms ------------------------------------------------------------------------

function execReg(f: Fpu, op: number, modrm: number, env: FpuEnv): number {
  const reg = (modrm >> 3) & 7;
  const i = modrm & 7;
  const pi = phys(f, i);
  switch (op) {
    case 0: // D8: ST(0) ← ST(0) op ST(i)
      arith(f, reg, f.top, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), 0, false);
      return NOTE;
    case 4: // DC: ST(i) ← ST(0) op ST(i) (FCOM2/FCOMP3 aliases at /2 and /3)
      arith(f, reg, pi, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), 0, false);
      return NOTE;
    case 6: // DE: ST(i) ← ST(0) op ST(i), pop (FCOMP5 at /2, FCOMPP = DE D9)
      if (reg === 3) {
        if (i !== 1) return FPU_UD;
        compare(f, f.top, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), false, 0, 2);
        return NOTE;
      }
      arith(f, reg === 2 ? 3 : reg, pi, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), 0, reg !== 2);
      return NOTE;
    case 1: return execD9(f, reg, i, pi);
    case 2:
      if (reg < 4) { fcmov(f, reg, false, pi, env); return NOTE; }
      if (modrm === 0xe9) { // FUCOMPP
        compare(f, f.top, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), true, 0, 2);
        return NOTE;
      }
      return FPU_UD;
    case 3:
      if (reg < 4) { fcmov(f, reg, true, pi, env); return NOTE; }
      if (reg === 5) { compareEflags(f, i, true, false, env); return NOTE; }   // FUCOMI
      if (reg === 6) { compareEflags(f, i, false, false, env); return NOTE; }  // FCOMI
      switch (modrm) {
        case 0xe0: case 0xe1: case 0xe4: return CONTROL;  // FNENI, FNDISI, FNSETPM: no-ops
        case 0xe2: f.sw &= ~0x80ff; return CONTROL;        // FNCLEX (exceptions, SF, ES, B)
        case 0xe3: f.fninit(); return CONTROL;             // FNINIT
        default: return FPU_UD;
      }
    case 5:
      switch (reg) {
        case 0: f.valid &= ~(1 << pi); f.sw &= ~C1; return NOTE;             // FFREE
        case 1: fxch(f, pi); return NOTE;                                    // FXCH4 alias
        case 2: fstReg(f, pi, false); return NOTE;                           // FST ST(i)
        case 3: fstReg(f, pi, true); return NOTE;                            // FSTP ST(i)
        case 4: compare(f, f.top, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), true, 0, 0); return NOTE; // FUCOM
        case 5: compare(f, f.top, f.se[pi], f.hi[pi], f.lo[pi], isEmpty(f, pi), true, 0, 1); return NOTE; // FUCOMP
        default: return FPU_UD;
      }
    default: // 7
      switch (reg) {
        case 0: f.valid &= ~(1 << pi); pop(f); f.sw &= ~C1; return NOTE;     // FFREEP
        case 1: fxch(f, pi); return NOTE;                                    // FXCH7 alias
        case 2: case 3: fstReg(f, pi, true); return NOTE;                    // FSTP8, FSTP9 aliases
        case 4:
          if (modrm !== 0xe0) return FPU_UD;
          env.writeAx(f.statusWord);                                          // FNSTSW AX
          return CONTROL;
        case 5: compareEflags(f, i, true, true, env); return NOTE;           // FUCOMIP
        case 6: compareEflags(f, i, false, true, env); return NOTE;          // FCOMIP
        default: return FPU_UD;
      }
  }
}

function fstReg(f: Fpu, pi: number, popAfter: boolean): void {
  const p0 = f.top;
  if (isEmpty(f, p0)) {
    status(f, STACK_UNDERFLOW);
    if (!ieMasked(f)) return;
    setRegIndefinite(f, pi);
  } else {
    setReg(f, pi, f.se[p0], f.hi[p0], f.lo[p0]);
    status(f, 0);
  }
  if (popAfter) pop(f);
}

/**
 * FSTP1 (D9 D8+i), the reserved twin of FSTP ST(i): no stack-underflow check; with ST(0)
 * empty, ST(i) is left alone and the stack is just popped (as the host does).
 */
function fstp1(f: Fpu, pi: number): void {
  const p0 = f.top;
  if (!isEmpty(f, p0)) setReg(f, pi, f.se[p0], f.hi[p0], f.lo[p0]);
  status(f, 0);
  pop(f);
}

function fxch(f: Fpu, pi: number): void {
  const p0 = f.top;
  if (isEmpty(f, p0) || isEmpty(f, pi)) {
    status(f, STACK_UNDERFLOW);
    if (!ieMasked(f)) return;
    if (isEmpty(f, p0)) setRegIndefinite(f, p0);
    if (isEmpty(f, pi)) setRegIndefinite(f, pi);
  } else {
    status(f, 0);
  }
  const se = f.se[p0], hi = f.hi[p0], lo = f.lo[p0];
  f.se[p0] = f.se[pi]; f.hi[p0] = f.hi[pi]; f.lo[p0] = f.lo[pi];
  f.se[pi] = se; f.hi[pi] = hi; f.lo[pi] = lo;
}

/** FCMOVcc: reg 0 B (CF), 1 E (ZF), 2 BE (CF|ZF), 3 U (PF); `negate` for the DB forms. */
function fcmov(f: Fpu, reg: number, negate: boolean, pi: number, env: FpuEnv): void {
  const fl = env.readEflags();
  let cond = reg === 0 ? (fl & 1) !== 0 : reg === 1 ? (fl & 0x40) !== 0 : reg === 2 ? (fl & 0x41) !== 0 : (fl & 4) !== 0;
  if (negate) cond = !cond;
  const p0 = f.top;
  if (isEmpty(f, p0) || isEmpty(f, pi)) {
    // Masked stack underflow writes the indefinite whether or not the condition holds.
    status(f, STACK_UNDERFLOW);
    if (ieMasked(f)) setRegIndefinite(f, p0);
    return;
  }
  if (cond) setReg(f, p0, f.se[pi], f.hi[pi], f.lo[pi]);
}

// ---- D9 register forms (D9 E0..FF live in fpu_d9.ts) -----------------------------------

function execD9(f: Fpu, reg: number, i: number, pi: number): number {
  switch (reg) {
    case 0: { // FLD ST(i): an empty source is reported as underflow even if ST(7) is full.
      if (isEmpty(f, pi)) {
        status(f, STACK_UNDERFLOW);
        if (ieMasked(f)) {
          f.top = (f.top - 1) & 7;
          setRegIndefinite(f, f.top);
        }
      } else {
        push(f, f.se[pi], f.hi[pi], f.lo[pi], 0);
      }
      return NOTE;
    }
    case 1: fxch(f, pi); return NOTE;
    case 2: if (i !== 0) return FPU_UD; return NOTE; // FNOP
    case 3: fstp1(f, pi); return NOTE;               // FSTP1 (reserved encoding)
    default:
      if (reg === 4 && i === 4) { // FTST
        compare(f, f.top, 0, 0, 0, false, false, 0, 0);
        return NOTE;
      }
      return execD9Group(f, reg, i) ? NOTE : FPU_UD;
  }
}
