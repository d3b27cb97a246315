/**
 * Lazy arithmetic flags (CPU-PERF rule 6).
 *
 * State on the Cpu:
 *   flags  EFLAGS; an arithmetic bit is authoritative only when its bit in `lazy` is 0
 *   lazy   mask of arithmetic flags (CF PF AF ZF SF OF) to derive from the fields below
 *   fKind  K_ADD or K_SUB: how CF, OF and AF derive from the operands
 *   fOp1, fOp2, fRes   operands and result of the last producer, each SIGN-EXTENDED from
 *          the operation size to 32 bits
 *
 * Why sign-extended: ZF is `fRes === 0` and SF is `fRes < 0` at every size, and sign
 * extension preserves unsigned order, so CF(add) = res <u op1 and CF(sub) = op1 <u op2 hold
 * at every size too. Example: `add al, 0x90` with AL = 0x80 stores fOp1 = -128, fOp2 = -112,
 * fRes = 0x10 (sign-extended 8-bit 0x10); CF = 0x10 <u 0xffffff80 = 1, OF = ((op1^res) &
 * (op2^res)) < 0 = 1, ZF = 0, SF = 0, AF = (op1^op2^res) & 0x10 = 0.
 *
 * Producers set all of this at once; instructions that leave some flags alone (INC/DEC keep
 * CF) or compute some eagerly (ADC/SBB, shifts, MUL) first materialize or store those bits
 * in `flags` and leave them out of `lazy`.
 */
import type { Cpu } from './cpu.ts';

export const K_ADD = 0;
export const K_SUB = 1;

const CF = 0x1;
const PF = 0x4;
const AF = 0x10;
const ZF = 0x40;
const SF = 0x80;
const OF = 0x800;
/** All six arithmetic flags. */
export const LAZY_ALL = 0x8d5;
/** The flags every producer derives from the result alone. */
export const LAZY_SZP = ZF | SF | PF;

/** Even parity of each byte value: 1 when PF would be set. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = 1;
  for (let b = i; b; b >>= 1) p ^= b & 1;
  PARITY[i] = p;
}

export function getCF(cpu: Cpu): number {
  if ((cpu.lazy & CF) === 0) return cpu.flags & CF;
  return cpu.fKind === K_ADD ? ((cpu.fRes >>> 0) < (cpu.fOp1 >>> 0) ? 1 : 0) : ((cpu.fOp1 >>> 0) < (cpu.fOp2 >>> 0) ? 1 : 0);
}

export function getZF(cpu: Cpu): boolean {
  return (cpu.lazy & ZF) === 0 ? (cpu.flags & ZF) !== 0 : cpu.fRes === 0;
}

export function getSF(cpu: Cpu): boolean {
  return (cpu.lazy & SF) === 0 ? (cpu.flags & SF) !== 0 : cpu.fRes < 0;
}

export function getOF(cpu: Cpu): boolean {
  if ((cpu.lazy & OF) === 0) return (cpu.flags & OF) !== 0;
  const a = cpu.fOp1, b = cpu.fOp2, r = cpu.fRes;
  return cpu.fKind === K_ADD ? ((a ^ r) & (b ^ r)) < 0 : ((a ^ b) & (a ^ r)) < 0;
}

export function getPF(cpu: Cpu): boolean {
  return (cpu.lazy & PF) === 0 ? (cpu.flags & PF) !== 0 : PARITY[cpu.fRes & 0xff] === 1;
}

export function getAF(cpu: Cpu): boolean {
  return (cpu.lazy & AF) === 0 ? (cpu.flags & AF) !== 0 : ((cpu.fOp1 ^ cpu.fOp2 ^ cpu.fRes) & AF) !== 0;
}

/** The complete EFLAGS value (lazy bits computed). */
export function getEflags(cpu: Cpu): number {
  const lz = cpu.lazy;
  if (lz === 0) return cpu.flags;
  let f = cpu.flags & ~lz;
  if (lz & CF && getCF(cpu)) f |= CF;
  if (lz & PF && PARITY[cpu.fRes & 0xff] === 1) f |= PF;
  if (lz & AF && ((cpu.fOp1 ^ cpu.fOp2 ^ cpu.fRes) & AF) !== 0) f |= AF;
  if (lz & ZF && cpu.fRes === 0) f |= ZF;
  if (lz & SF && cpu.fRes < 0) f |= SF;
  if (lz & OF && getOF(cpu)) f |= OF;
  return f;
}

/** Write the computed arithmetic flags back into `flags` and clear `lazy`. */
export function materialize(cpu: Cpu): void {
  if (cpu.lazy !== 0) {
    cpu.flags = getEflags(cpu);
    cpu.lazy = 0;
  }
}

/** Replace the six arithmetic flags with those of `value` (leaves the system bits alone). */
export function setArithFlags(cpu: Cpu, value: number): void {
  cpu.flags = (cpu.flags & ~LAZY_ALL) | (value & LAZY_ALL);
  cpu.lazy = 0;
}

/**
 * Evaluate condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc):
 * 0 O, 1 NO, 2 B, 3 AE, 4 Z, 5 NZ, 6 BE, 7 A, 8 S, 9 NS, A P, B NP, C L, D GE, E LE, F G.
 */
export function testCC(cpu: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(cpu); break;
    case 1: r = getCF(cpu) !== 0; break;
    case 2: r = getZF(cpu); break;
    case 3: r = getCF(cpu) !== 0 || getZF(cpu); break;
    case 4: r = getSF(cpu); break;
    case 5: r = getPF(cpu); break;
    case 6: r = getSF(cpu) !== getOF(cpu); break;
    default: r = getZF(cpu) || getSF(cpu) !== getOF(cpu); break;
  }
  return (cc & 1) === 0 ? r : !r;
}

/** Record an add/adc-free producer: `res = a + b` at the size a, b, res are sign-extended from. */
export function setAdd(cpu: Cpu, a: number, b: number, res: number): void {
  cpu.fOp1 = a;
  cpu.fOp2 = b;
  cpu.fRes = res;
  cpu.fKind = K_ADD;
  cpu.lazy = LAZY_ALL;
}

/** Record `res = a - b` (SUB, CMP, NEG as 0 - b). */
export function setSub(cpu: Cpu, a: number, b: number, res: number): void {
  cpu.fOp1 = a;
  cpu.fOp2 = b;
  cpu.fRes = res;
  cpu.fKind = K_SUB;
  cpu.lazy = LAZY_ALL;
}

/** Logic ops: CF = OF = AF = 0 (AF is undefined; the AMD host clears it), SZP from `res`. */
export function setLogic(cpu: Cpu, res: number): void {
  cpu.flags &= ~(CF | OF | AF);
  cpu.fRes = res;
  cpu.lazy = LAZY_SZP;
}

/**
 * A producer whose CF, OF and AF are computed eagerly (`cfofaf`, in their EFLAGS positions)
 * and whose SF, ZF and PF come from `res`.
 */
export function setEagerCOA(cpu: Cpu, cfofaf: number, res: number): void {
  cpu.flags = (cpu.flags & ~(CF | OF | AF)) | cfofaf;
  cpu.fRes = res;
  cpu.lazy = LAZY_SZP;
}
