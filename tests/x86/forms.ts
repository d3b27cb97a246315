/**
 * The instruction-form table: every user-mode i686 instruction form the differential tests
 * generate, one row per (opcode, operand size), with what it reads and writes and which of
 * its flag results the Intel SDM leaves undefined. The generators (gen_case.ts) turn a row
 * into encodings, operands and preludes; nothing else knows opcodes.
 *
 * Invariants:
 *  - A row's `fx` is exact for the non-counted forms: `w` flags end defined, `u` flags end
 *    undefined (masked in comparison), `r` flags are inputs (a generator makes sure they
 *    are defined first). Shift and rotate rows compute theirs from the count (shiftFx).
 *  - `size` 16 means the form is emitted with an 0x66 prefix; 8 and 32 without.
 *  - Only encodings with the same meaning on i686 and on the x86-64 host CPU are listed:
 *    no VEX/EVEX-colliding C4/C5/62 register forms, no F3 0F BC/BD (tzcnt/lzcnt on the host).
 *  - Rows with kind 'fault' are expected to raise an exception from ring 3 in flat mode.
 *
 * Sources: Intel SDM vol. 2 (instruction pages, "Flags Affected"), appendix A opcode maps.
 */

import { AF, CF, OF, PF, SF, STATUS, ZF } from './layout.ts';

export type Size = 8 | 16 | 32;

/** Flag effect: reads, defined writes, undefined results. */
export interface Fx {
  readonly r: number;
  readonly w: number;
  readonly u: number;
}

export type Kind =
  | 'alu' | 'shift' | 'shd' | 'div' | 'mul1' | 'string' | 'bt' | 'bsf' | 'xlat'
  | 'push' | 'pop' | 'pusha' | 'popa' | 'pushf' | 'popf' | 'enter' | 'leave'
  | 'pushsr' | 'popsr' | 'movsr' | 'movfromsr' | 'lptr' | 'bound' | 'cmpxchg8b'
  | 'jcc' | 'jmp' | 'call' | 'loop' | 'jecxz' | 'jmpind' | 'callind' | 'ret' | 'retf' | 'iret'
  | 'callfar' | 'jmpfar' | 'moffs' | 'lea' | 'fault' | 'x87' | 'selchk';

export interface Form {
  readonly name: string;
  readonly kind: Kind;
  readonly size: Size;
  readonly op: readonly number[];
  /** ModRM.reg: a /digit, 'r' for a general register operand, 's' for a segment register. */
  readonly reg?: number | 'r' | 's';
  /** ModRM.rm: register or memory, memory only, register only. */
  readonly rm?: 'rm' | 'm' | 'r';
  /** Register operand in the low three bits of the last opcode byte. */
  readonly plusr?: boolean;
  /** Immediate: b imm8, sb sign-extended imm8, w imm16, d imm32, z imm16/32 by size, wb enter. */
  readonly imm?: 'b' | 'sb' | 'w' | 'd' | 'z' | 'wb';
  /** Bytes the memory operand accesses when not size/8. */
  readonly mem?: number;
  /** Explicit operands written: protects ESP in sequences. */
  readonly wr: 'rm' | 'reg' | 'both' | 'none';
  readonly fx: Fx;
  /** Lock prefix is legal with a memory destination. */
  readonly lock?: boolean;
  /** Condition code (jcc, setcc, cmovcc, fcmov). */
  readonly cc?: number;
  /** String op, shift op and other sub-kinds. */
  readonly sub?: string;
  /** Implicit registers written (never ESP-safe to pick as base in the same instruction). */
  readonly implicit?: readonly number[];
  /** x87: C0..C3 of the status word left undefined (mask) and defined (mask). */
  readonly fsw?: { readonly u: number; readonly w: number; readonly reads?: boolean };
  /** Only as the last instruction of a case, or only in single-instruction cases. */
  readonly singleOnly?: boolean;
  /** Expected exception vector for 'fault' rows. */
  readonly vector?: number;
}

const NONE: Fx = { r: 0, w: 0, u: 0 };
const ARITH: Fx = { r: 0, w: STATUS, u: 0 };
const CARRY: Fx = { r: CF, w: STATUS, u: 0 };
const LOGIC: Fx = { r: 0, w: STATUS & ~AF, u: AF };
const INCDEC: Fx = { r: 0, w: STATUS & ~CF, u: 0 };
const MULFX: Fx = { r: 0, w: CF | OF, u: SF | ZF | AF | PF };
const DIVFX: Fx = { r: 0, w: 0, u: STATUS };
const BTFX: Fx = { r: 0, w: CF, u: OF | SF | AF | PF };
const BSFFX: Fx = { r: 0, w: ZF, u: CF | OF | SF | AF | PF };

/** Flags read by condition code cc (Intel SDM vol. 1, appendix B). */
export function ccReads(cc: number): number {
  switch (cc >> 1) {
    case 0: return OF;
    case 1: return CF;
    case 2: return ZF;
    case 3: return CF | ZF;
    case 4: return SF;
    case 5: return PF;
    case 6: return SF | OF;
    default: return ZF | SF | OF;
  }
}

/** Evaluate condition code cc on EFLAGS value f. */
export function ccTrue(cc: number, f: number): boolean {
  const c = (f & CF) !== 0, z = (f & ZF) !== 0, s = (f & SF) !== 0, o = (f & OF) !== 0, p = (f & PF) !== 0;
  let t: boolean;
  switch (cc >> 1) {
    case 0: t = o; break;
    case 1: t = c; break;
    case 2: t = z; break;
    case 3: t = c || z; break;
    case 4: t = s; break;
    case 5: t = p; break;
    case 6: t = s !== o; break;
    default: t = z || s !== o;
  }
  return (cc & 1) !== 0 ? !t : t;
}

/**
 * Flag effect of a shift or rotate by `count` (already the instruction's raw count).
 * SDM: the count is masked to 5 bits; a masked count of 0 changes nothing; OF is defined
 * only for a masked count of 1; AF is undefined after shifts; SHL/SHR leave CF undefined
 * when the masked count reaches the operand size; SHLD/SHRD beyond 16 bits on a 16-bit
 * operand are undefined altogether (generators never emit those).
 */
export function shiftFx(sub: string, size: Size, count: number): Fx {
  const c = count & 31;
  if (c === 0) return NONE;
  const of = c === 1 ? OF : 0;
  const uOf = c === 1 ? 0 : OF;
  switch (sub) {
    case 'rol': case 'ror': case 'rcl': case 'rcr':
      return { r: sub === 'rcl' || sub === 'rcr' ? CF : 0, w: CF | of, u: uOf };
    case 'shl': case 'shr': {
      const cfU = c >= size ? CF : 0;
      return { r: 0, w: ((CF | SF | ZF | PF | of) & ~cfU), u: AF | uOf | cfU };
    }
    case 'sar':
      return { r: 0, w: CF | SF | ZF | PF | of, u: AF | uOf };
    case 'shld': case 'shrd':
      return { r: 0, w: CF | SF | ZF | PF | of, u: AF | uOf };
    default:
      throw new Error(`shiftFx: unknown shift ${sub}`);
  }
}

const forms: Form[] = [];
const SZV: Size[] = [16, 32];
const add = (f: Form): void => { forms.push(f); };
const v = (name: string, size: Size): string =>
  name.replace(/(rm|r|imm|moffs|m16:|pusha|popa|pushf|popf)v\b/g, `$1${size}`).replace(/\(v\)/g, `(o${size})`);

// ---- ALU: 00..3D, 80..83 -------------------------------------------------------------
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
const aluFx = (i: number): Fx => (i === 1 || i === 4 || i === 6 ? LOGIC : i === 2 || i === 3 ? CARRY : ARITH);
ALU.forEach((m, i) => {
  const b = i * 8, fx = aluFx(i), ro = m === 'cmp';
  const lock = !ro;
  add({ name: `${m} rm8,r8`, kind: 'alu', size: 8, op: [b], reg: 'r', rm: 'rm', wr: ro ? 'none' : 'rm', fx, lock });
  for (const s of SZV) add({ name: v(`${m} rmv,rv`, s), kind: 'alu', size: s, op: [b + 1], reg: 'r', rm: 'rm', wr: ro ? 'none' : 'rm', fx, lock });
  add({ name: `${m} r8,rm8`, kind: 'alu', size: 8, op: [b + 2], reg: 'r', rm: 'rm', wr: ro ? 'none' : 'reg', fx });
  for (const s of SZV) add({ name: v(`${m} rv,rmv`, s), kind: 'alu', size: s, op: [b + 3], reg: 'r', rm: 'rm', wr: ro ? 'none' : 'reg', fx });
  add({ name: `${m} al,imm8`, kind: 'alu', size: 8, op: [b + 4], imm: 'b', wr: 'none', fx, implicit: ro ? [] : [0] });
  for (const s of SZV) add({ name: v(`${m} eAX,immv`, s), kind: 'alu', size: s, op: [b + 5], imm: 'z', wr: 'none', fx, implicit: ro ? [] : [0] });
  add({ name: `${m} rm8,imm8`, kind: 'alu', size: 8, op: [0x80], reg: i, rm: 'rm', imm: 'b', wr: ro ? 'none' : 'rm', fx, lock });
  add({ name: `${m} rm8,imm8 (82)`, kind: 'alu', size: 8, op: [0x82], reg: i, rm: 'rm', imm: 'b', wr: ro ? 'none' : 'rm', fx, lock });
  for (const s of SZV) {
    add({ name: v(`${m} rmv,immv`, s), kind: 'alu', size: s, op: [0x81], reg: i, rm: 'rm', imm: 'z', wr: ro ? 'none' : 'rm', fx, lock });
    add({ name: v(`${m} rmv,simm8`, s), kind: 'alu', size: s, op: [0x83], reg: i, rm: 'rm', imm: 'sb', wr: ro ? 'none' : 'rm', fx, lock });
  }
});

// ---- TEST, XCHG, MOV, LEA -------------------------------------------------------------
add({ name: 'test rm8,r8', kind: 'alu', size: 8, op: [0x84], reg: 'r', rm: 'rm', wr: 'none', fx: LOGIC });
for (const s of SZV) add({ name: v('test rmv,rv', s), kind: 'alu', size: s, op: [0x85], reg: 'r', rm: 'rm', wr: 'none', fx: LOGIC });
add({ name: 'test al,imm8', kind: 'alu', size: 8, op: [0xa8], imm: 'b', wr: 'none', fx: LOGIC });
for (const s of SZV) add({ name: v('test eAX,immv', s), kind: 'alu', size: s, op: [0xa9], imm: 'z', wr: 'none', fx: LOGIC });
add({ name: 'test rm8,imm8', kind: 'alu', size: 8, op: [0xf6], reg: 0, rm: 'rm', imm: 'b', wr: 'none', fx: LOGIC });
for (const s of SZV) add({ name: v('test rmv,immv', s), kind: 'alu', size: s, op: [0xf7], reg: 0, rm: 'rm', imm: 'z', wr: 'none', fx: LOGIC });
add({ name: 'xchg rm8,r8', kind: 'alu', size: 8, op: [0x86], reg: 'r', rm: 'rm', wr: 'both', fx: NONE, lock: true });
for (const s of SZV) add({ name: v('xchg rmv,rv', s), kind: 'alu', size: s, op: [0x87], reg: 'r', rm: 'rm', wr: 'both', fx: NONE, lock: true });
for (const s of SZV) add({ name: v('xchg eAX,rv', s), kind: 'alu', size: s, op: [0x90], plusr: true, wr: 'reg', fx: NONE, implicit: [0] });
add({ name: 'nop', kind: 'alu', size: 32, op: [0x90], wr: 'none', fx: NONE });
for (const s of SZV) add({ name: v('nop rmv (0f 1f)', s), kind: 'alu', size: s, op: [0x0f, 0x1f], reg: 0, rm: 'rm', wr: 'none', fx: NONE });
add({ name: 'mov rm8,r8', kind: 'alu', size: 8, op: [0x88], reg: 'r', rm: 'rm', wr: 'rm', fx: NONE });
for (const s of SZV) add({ name: v('mov rmv,rv', s), kind: 'alu', size: s, op: [0x89], reg: 'r', rm: 'rm', wr: 'rm', fx: NONE });
add({ name: 'mov r8,rm8', kind: 'alu', size: 8, op: [0x8a], reg: 'r', rm: 'rm', wr: 'reg', fx: NONE });
for (const s of SZV) add({ name: v('mov rv,rmv', s), kind: 'alu', size: s, op: [0x8b], reg: 'r', rm: 'rm', wr: 'reg', fx: NONE });
add({ name: 'mov r8,imm8', kind: 'alu', size: 8, op: [0xb0], plusr: true, imm: 'b', wr: 'reg', fx: NONE });
for (const s of SZV) add({ name: v('mov rv,immv', s), kind: 'alu', size: s, op: [0xb8], plusr: true, imm: 'z', wr: 'reg', fx: NONE });
add({ name: 'mov rm8,imm8', kind: 'alu', size: 8, op: [0xc6], reg: 0, rm: 'rm', imm: 'b', wr: 'rm', fx: NONE });
for (const s of SZV) add({ name: v('mov rmv,immv', s), kind: 'alu', size: s, op: [0xc7], reg: 0, rm: 'rm', imm: 'z', wr: 'rm', fx: NONE });
add({ name: 'mov al,moffs8', kind: 'moffs', size: 8, op: [0xa0], wr: 'none', fx: NONE, implicit: [0] });
for (const s of SZV) add({ name: v('mov eAX,moffsv', s), kind: 'moffs', size: s, op: [0xa1], wr: 'none', fx: NONE, implicit: [0] });
add({ name: 'mov moffs8,al', kind: 'moffs', size: 8, op: [0xa2], wr: 'none', fx: NONE, sub: 'store' });
for (const s of SZV) add({ name: v('mov moffsv,eAX', s), kind: 'moffs', size: s, op: [0xa3], wr: 'none', fx: NONE, sub: 'store' });
for (const s of SZV) add({ name: v('lea rv,m', s), kind: 'lea', size: s, op: [0x8d], reg: 'r', rm: 'm', wr: 'reg', fx: NONE });
for (const s of SZV) {
  add({ name: v('movzx rv,rm8', s), kind: 'alu', size: s, op: [0x0f, 0xb6], reg: 'r', rm: 'rm', mem: 1, wr: 'reg', fx: NONE });
  add({ name: v('movsx rv,rm8', s), kind: 'alu', size: s, op: [0x0f, 0xbe], reg: 'r', rm: 'rm', mem: 1, wr: 'reg', fx: NONE });
}
add({ name: 'movzx r32,rm16', kind: 'alu', size: 32, op: [0x0f, 0xb7], reg: 'r', rm: 'rm', mem: 2, wr: 'reg', fx: NONE });
add({ name: 'movsx r32,rm16', kind: 'alu', size: 32, op: [0x0f, 0xbf], reg: 'r', rm: 'rm', mem: 2, wr: 'reg', fx: NONE });

// ---- INC/DEC/NOT/NEG/MUL/DIV ----------------------------------------------------------
for (const s of SZV) {
  add({ name: v('inc rv', s), kind: 'alu', size: s, op: [0x40], plusr: true, wr: 'reg', fx: INCDEC });
  add({ name: v('dec rv', s), kind: 'alu', size: s, op: [0x48], plusr: true, wr: 'reg', fx: INCDEC });
}
for (const [d, m] of [[0, 'inc'], [1, 'dec']] as const) {
  add({ name: `${m} rm8`, kind: 'alu', size: 8, op: [0xfe], reg: d, rm: 'rm', wr: 'rm', fx: INCDEC, lock: true });
  for (const s of SZV) add({ name: v(`${m} rmv`, s), kind: 'alu', size: s, op: [0xff], reg: d, rm: 'rm', wr: 'rm', fx: INCDEC, lock: true });
}
for (const [d, m, fx] of [[2, 'not', NONE], [3, 'neg', ARITH]] as const) {
  add({ name: `${m} rm8`, kind: 'alu', size: 8, op: [0xf6], reg: d, rm: 'rm', wr: 'rm', fx, lock: true });
  for (const s of SZV) add({ name: v(`${m} rmv`, s), kind: 'alu', size: s, op: [0xf7], reg: d, rm: 'rm', wr: 'rm', fx, lock: true });
}
for (const [d, m] of [[4, 'mul'], [5, 'imul']] as const) {
  add({ name: `${m} rm8`, kind: 'mul1', size: 8, op: [0xf6], reg: d, rm: 'rm', wr: 'none', fx: MULFX, implicit: [0] });
  for (const s of SZV) add({ name: v(`${m} rmv`, s), kind: 'mul1', size: s, op: [0xf7], reg: d, rm: 'rm', wr: 'none', fx: MULFX, implicit: [0, 2] });
}
for (const [d, m] of [[6, 'div'], [7, 'idiv']] as const) {
  add({ name: `${m} rm8`, kind: 'div', size: 8, op: [0xf6], reg: d, rm: 'rm', wr: 'none', fx: DIVFX, sub: m, implicit: [0] });
  for (const s of SZV) add({ name: v(`${m} rmv`, s), kind: 'div', size: s, op: [0xf7], reg: d, rm: 'rm', wr: 'none', fx: DIVFX, sub: m, implicit: [0, 2] });
}
for (const s of SZV) {
  add({ name: v('imul rv,rmv', s), kind: 'alu', size: s, op: [0x0f, 0xaf], reg: 'r', rm: 'rm', wr: 'reg', fx: MULFX });
  add({ name: v('imul rv,rmv,immv', s), kind: 'alu', size: s, op: [0x69], reg: 'r', rm: 'rm', imm: 'z', wr: 'reg', fx: MULFX });
  add({ name: v('imul rv,rmv,simm8', s), kind: 'alu', size: s, op: [0x6b], reg: 'r', rm: 'rm', imm: 'sb', wr: 'reg', fx: MULFX });
}

// ---- shifts and rotates ----------------------------------------------------------------
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', '', 'sar'] as const;
SHIFTS.forEach((m, d) => {
  if (m === '') return; // /6 is an undocumented alias of shl
  for (const [op8, src] of [[0xc0, 'imm8'], [0xd0, '1'], [0xd2, 'cl']] as const) {
    const imm = src === 'imm8' ? 'b' as const : undefined;
    add({ name: `${m} rm8,${src}`, kind: 'shift', size: 8, op: [op8], reg: d, rm: 'rm', imm, wr: 'rm', fx: NONE, sub: `${m}:${src}` });
    for (const s of SZV) add({ name: v(`${m} rmv,${src}`, s), kind: 'shift', size: s, op: [op8 + 1], reg: d, rm: 'rm', imm, wr: 'rm', fx: NONE, sub: `${m}:${src}` });
  }
});
for (const s of SZV) {
  add({ name: v('shld rmv,rv,imm8', s), kind: 'shd', size: s, op: [0x0f, 0xa4], reg: 'r', rm: 'rm', imm: 'b', wr: 'rm', fx: NONE, sub: 'shld:imm8' });
  add({ name: v('shld rmv,rv,cl', s), kind: 'shd', size: s, op: [0x0f, 0xa5], reg: 'r', rm: 'rm', wr: 'rm', fx: NONE, sub: 'shld:cl' });
  add({ name: v('shrd rmv,rv,imm8', s), kind: 'shd', size: s, op: [0x0f, 0xac], reg: 'r', rm: 'rm', imm: 'b', wr: 'rm', fx: NONE, sub: 'shrd:imm8' });
  add({ name: v('shrd rmv,rv,cl', s), kind: 'shd', size: s, op: [0x0f, 0xad], reg: 'r', rm: 'rm', wr: 'rm', fx: NONE, sub: 'shrd:cl' });
}

// ---- bit tests and scans, BSWAP, CMPXCHG, XADD ----------------------------------------
const BTS = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]] as const;
for (const [m, op, d] of BTS) for (const s of SZV) {
  const ro = m === 'bt';
  add({ name: v(`${m} rmv,rv`, s), kind: 'bt', size: s, op: [0x0f, op], reg: 'r', rm: 'rm', wr: ro ? 'none' : 'rm', fx: BTFX, lock: !ro });
  add({ name: v(`${m} rmv,imm8`, s), kind: 'alu', size: s, op: [0x0f, 0xba], reg: d, rm: 'rm', imm: 'b', wr: ro ? 'none' : 'rm', fx: BTFX, lock: !ro });
}
for (const s of SZV) {
  add({ name: v('bsf rv,rmv', s), kind: 'bsf', size: s, op: [0x0f, 0xbc], reg: 'r', rm: 'rm', wr: 'reg', fx: BSFFX });
  add({ name: v('bsr rv,rmv', s), kind: 'bsf', size: s, op: [0x0f, 0xbd], reg: 'r', rm: 'rm', wr: 'reg', fx: BSFFX });
}
add({ name: 'bswap r32', kind: 'alu', size: 32, op: [0x0f, 0xc8], plusr: true, wr: 'reg', fx: NONE });
add({ name: 'cmpxchg rm8,r8', kind: 'alu', size: 8, op: [0x0f, 0xb0], reg: 'r', rm: 'rm', wr: 'rm', fx: ARITH, lock: true, implicit: [0] });
for (const s of SZV) add({ name: v('cmpxchg rmv,rv', s), kind: 'alu', size: s, op: [0x0f, 0xb1], reg: 'r', rm: 'rm', wr: 'rm', fx: ARITH, lock: true, implicit: [0] });
add({ name: 'xadd rm8,r8', kind: 'alu', size: 8, op: [0x0f, 0xc0], reg: 'r', rm: 'rm', wr: 'both', fx: ARITH, lock: true });
for (const s of SZV) add({ name: v('xadd rmv,rv', s), kind: 'alu', size: s, op: [0x0f, 0xc1], reg: 'r', rm: 'rm', wr: 'both', fx: ARITH, lock: true });
add({ name: 'cmpxchg8b m64', kind: 'cmpxchg8b', size: 32, op: [0x0f, 0xc7], reg: 1, rm: 'm', mem: 8, wr: 'none', fx: { r: 0, w: ZF, u: 0 }, lock: true, implicit: [0, 2] });

// ---- SETcc, CMOVcc, flag ops, conversions, BCD -----------------------------------------
for (let cc = 0; cc < 16; cc++) {
  add({ name: `set${cc.toString(16)} rm8`, kind: 'alu', size: 8, op: [0x0f, 0x90 + cc], reg: 0, rm: 'rm', wr: 'rm', fx: { r: ccReads(cc), w: 0, u: 0 }, cc });
  for (const s of SZV) add({ name: v(`cmov${cc.toString(16)} rv,rmv`, s), kind: 'alu', size: s, op: [0x0f, 0x40 + cc], reg: 'r', rm: 'rm', wr: 'reg', fx: { r: ccReads(cc), w: 0, u: 0 }, cc });
}
add({ name: 'clc', kind: 'alu', size: 32, op: [0xf8], wr: 'none', fx: { r: 0, w: CF, u: 0 } });
add({ name: 'stc', kind: 'alu', size: 32, op: [0xf9], wr: 'none', fx: { r: 0, w: CF, u: 0 } });
add({ name: 'cmc', kind: 'alu', size: 32, op: [0xf5], wr: 'none', fx: { r: CF, w: CF, u: 0 } });
add({ name: 'cld', kind: 'alu', size: 32, op: [0xfc], wr: 'none', fx: NONE });
add({ name: 'std', kind: 'alu', size: 32, op: [0xfd], wr: 'none', fx: NONE });
add({ name: 'lahf', kind: 'alu', size: 32, op: [0x9f], wr: 'none', fx: { r: STATUS & ~OF, w: 0, u: 0 }, implicit: [0] });
add({ name: 'sahf', kind: 'alu', size: 32, op: [0x9e], wr: 'none', fx: { r: 0, w: STATUS & ~OF, u: 0 } });
add({ name: 'cbw', kind: 'alu', size: 16, op: [0x98], wr: 'none', fx: NONE, implicit: [0] });
add({ name: 'cwde', kind: 'alu', size: 32, op: [0x98], wr: 'none', fx: NONE, implicit: [0] });
add({ name: 'cwd', kind: 'alu', size: 16, op: [0x99], wr: 'none', fx: NONE, implicit: [2] });
add({ name: 'cdq', kind: 'alu', size: 32, op: [0x99], wr: 'none', fx: NONE, implicit: [2] });
add({ name: 'daa', kind: 'alu', size: 8, op: [0x27], wr: 'none', fx: { r: CF | AF, w: CF | AF | SF | ZF | PF, u: OF }, implicit: [0] });
add({ name: 'das', kind: 'alu', size: 8, op: [0x2f], wr: 'none', fx: { r: CF | AF, w: CF | AF | SF | ZF | PF, u: OF }, implicit: [0] });
add({ name: 'aaa', kind: 'alu', size: 8, op: [0x37], wr: 'none', fx: { r: AF, w: AF | CF, u: OF | SF | ZF | PF }, implicit: [0] });
add({ name: 'aas', kind: 'alu', size: 8, op: [0x3f], wr: 'none', fx: { r: AF, w: AF | CF, u: OF | SF | ZF | PF }, implicit: [0] });
add({ name: 'aam imm8', kind: 'alu', size: 8, op: [0xd4], imm: 'b', wr: 'none', fx: { r: 0, w: SF | ZF | PF, u: OF | AF | CF }, implicit: [0], sub: 'aam' });
add({ name: 'aad imm8', kind: 'alu', size: 8, op: [0xd5], imm: 'b', wr: 'none', fx: { r: 0, w: SF | ZF | PF, u: OF | AF | CF }, implicit: [0] });
add({ name: 'xlat', kind: 'xlat', size: 8, op: [0xd7], wr: 'none', fx: NONE, implicit: [0] });
add({ name: 'arpl rm16,r16', kind: 'alu', size: 16, op: [0x63], reg: 'r', rm: 'rm', wr: 'rm', fx: { r: 0, w: ZF, u: 0 }, sub: 'arpl' });

add({ name: 'into', kind: 'alu', size: 32, op: [0xce], wr: 'none', fx: { r: OF, w: 0, u: 0 } });
// Descriptor checks on the selectors the harness mirrors (and a few that must fail).
for (const s of SZV) {
  add({ name: v('lar rv,rm16', s), kind: 'selchk', size: s, op: [0x0f, 0x02], reg: 'r', rm: 'rm', mem: 2, wr: 'reg', fx: { r: 0, w: ZF, u: 0 } });
  add({ name: v('lsl rv,rm16', s), kind: 'selchk', size: s, op: [0x0f, 0x03], reg: 'r', rm: 'rm', mem: 2, wr: 'reg', fx: { r: 0, w: ZF, u: 0 } });
}
add({ name: 'verr rm16', kind: 'selchk', size: 16, op: [0x0f, 0x00], reg: 4, rm: 'rm', mem: 2, wr: 'none', fx: { r: 0, w: ZF, u: 0 } });
add({ name: 'verw rm16', kind: 'selchk', size: 16, op: [0x0f, 0x00], reg: 5, rm: 'rm', mem: 2, wr: 'none', fx: { r: 0, w: ZF, u: 0 } });

// ---- strings ---------------------------------------------------------------------------
const STR = [['movs', 0xa4, ARITH], ['cmps', 0xa6, ARITH], ['stos', 0xaa, NONE], ['lods', 0xac, NONE], ['scas', 0xae, ARITH]] as const;
for (const [m, op, f] of STR) {
  const fx = m === 'cmps' || m === 'scas' ? f : NONE;
  const reps = m === 'cmps' || m === 'scas' ? ['', 'repe', 'repne'] : ['', 'rep'];
  for (const rep of reps) {
    const pre = rep === '' ? '' : `${rep} `;
    add({ name: `${pre}${m}b`, kind: 'string', size: 8, op: [op], wr: 'none', fx, sub: `${m}:${rep}` });
    for (const s of SZV) add({ name: `${pre}${m}${s === 16 ? 'w' : 'd'}`, kind: 'string', size: s, op: [op + 1], wr: 'none', fx, sub: `${m}:${rep}` });
  }
}

// ---- stack -----------------------------------------------------------------------------
for (const s of SZV) {
  add({ name: v('push rv', s), kind: 'push', size: s, op: [0x50], plusr: true, wr: 'none', fx: NONE });
  add({ name: v('push rmv', s), kind: 'push', size: s, op: [0xff], reg: 6, rm: 'rm', wr: 'none', fx: NONE });
  add({ name: v('push immv', s), kind: 'push', size: s, op: [0x68], imm: 'z', wr: 'none', fx: NONE });
  add({ name: v('push simm8 (v)', s), kind: 'push', size: s, op: [0x6a], imm: 'sb', wr: 'none', fx: NONE });
  add({ name: v('pop rv', s), kind: 'pop', size: s, op: [0x58], plusr: true, wr: 'reg', fx: NONE });
  add({ name: v('pop rmv', s), kind: 'pop', size: s, op: [0x8f], reg: 0, rm: 'rm', wr: 'rm', fx: NONE });
  add({ name: v('pushav', s), kind: 'pusha', size: s, op: [0x60], wr: 'none', fx: NONE });
  add({ name: v('popav', s), kind: 'popa', size: s, op: [0x61], wr: 'none', fx: NONE });
  add({ name: v('pushfv', s), kind: 'pushf', size: s, op: [0x9c], wr: 'none', fx: { r: STATUS, w: 0, u: 0 } });
  add({ name: v('popfv', s), kind: 'popf', size: s, op: [0x9d], wr: 'none', fx: { r: 0, w: STATUS, u: 0 } });
  add({ name: v('enter imm16,imm8 (v)', s), kind: 'enter', size: s, op: [0xc8], imm: 'wb', wr: 'none', fx: NONE });
  add({ name: v('leave (v)', s), kind: 'leave', size: s, op: [0xc9], wr: 'none', fx: NONE });
}
const SREG_PUSH: ReadonlyArray<readonly [string, number[], number[] | null]> = [
  ['es', [0x06], [0x07]], ['cs', [0x0e], null], ['ss', [0x16], [0x17]], ['ds', [0x1e], [0x1f]],
  ['fs', [0x0f, 0xa0], [0x0f, 0xa1]], ['gs', [0x0f, 0xa8], [0x0f, 0xa9]],
];
SREG_PUSH.forEach(([n, push, pop], sr) => {
  for (const s of SZV) {
    add({ name: v(`push ${n} (v)`, s), kind: 'pushsr', size: s, op: push, wr: 'none', fx: NONE, sub: String(sr) });
    if (pop) add({ name: v(`pop ${n} (v)`, s), kind: 'popsr', size: s, op: pop, wr: 'none', fx: NONE, sub: String(sr) });
  }
});
add({ name: 'mov rm16,sreg', kind: 'movfromsr', size: 16, op: [0x8c], reg: 's', rm: 'rm', wr: 'rm', fx: NONE });
add({ name: 'mov r32,sreg', kind: 'movfromsr', size: 32, op: [0x8c], reg: 's', rm: 'r', wr: 'rm', fx: NONE });
add({ name: 'mov sreg,rm16', kind: 'movsr', size: 16, op: [0x8e], reg: 's', rm: 'rm', wr: 'none', fx: NONE });
add({ name: 'mov sreg,r32', kind: 'movsr', size: 32, op: [0x8e], reg: 's', rm: 'r', wr: 'none', fx: NONE });
for (const [n, op] of [['les', [0xc4]], ['lds', [0xc5]], ['lss', [0x0f, 0xb2]], ['lfs', [0x0f, 0xb4]], ['lgs', [0x0f, 0xb5]]] as const) {
  for (const s of SZV) add({ name: v(`${n} rv,m16:v`, s), kind: 'lptr', size: s, op, reg: 'r', rm: 'm', mem: s / 8 + 2, wr: 'reg', fx: NONE, sub: n, singleOnly: true });
}
for (const s of SZV) add({ name: v('bound rv,m', s), kind: 'bound', size: s, op: [0x62], reg: 'r', rm: 'm', mem: s / 4, wr: 'none', fx: NONE, singleOnly: true });

// ---- control transfer ------------------------------------------------------------------
for (let cc = 0; cc < 16; cc++) {
  add({ name: `j${cc.toString(16)} rel8`, kind: 'jcc', size: 32, op: [0x70 + cc], wr: 'none', fx: { r: ccReads(cc), w: 0, u: 0 }, cc, sub: 'rel8' });
  add({ name: `j${cc.toString(16)} rel32`, kind: 'jcc', size: 32, op: [0x0f, 0x80 + cc], wr: 'none', fx: { r: ccReads(cc), w: 0, u: 0 }, cc, sub: 'rel32' });
}
add({ name: 'jmp rel8', kind: 'jmp', size: 32, op: [0xeb], wr: 'none', fx: NONE, sub: 'rel8' });
add({ name: 'jmp rel32', kind: 'jmp', size: 32, op: [0xe9], wr: 'none', fx: NONE, sub: 'rel32' });
add({ name: 'call rel32', kind: 'call', size: 32, op: [0xe8], wr: 'none', fx: NONE });
add({ name: 'loop rel8', kind: 'loop', size: 32, op: [0xe2], wr: 'none', fx: NONE, implicit: [1] });
add({ name: 'loope rel8', kind: 'loop', size: 32, op: [0xe1], wr: 'none', fx: { r: ZF, w: 0, u: 0 }, implicit: [1] });
add({ name: 'loopne rel8', kind: 'loop', size: 32, op: [0xe0], wr: 'none', fx: { r: ZF, w: 0, u: 0 }, implicit: [1] });
add({ name: 'jecxz rel8', kind: 'jecxz', size: 32, op: [0xe3], wr: 'none', fx: NONE });
add({ name: 'jmp rm32', kind: 'jmpind', size: 32, op: [0xff], reg: 4, rm: 'rm', wr: 'none', fx: NONE });
add({ name: 'call rm32', kind: 'callind', size: 32, op: [0xff], reg: 2, rm: 'rm', wr: 'none', fx: NONE });
add({ name: 'ret', kind: 'ret', size: 32, op: [0xc3], wr: 'none', fx: NONE });
add({ name: 'ret imm16', kind: 'ret', size: 32, op: [0xc2], imm: 'w', wr: 'none', fx: NONE });
add({ name: 'retf', kind: 'retf', size: 32, op: [0xcb], wr: 'none', fx: NONE });
add({ name: 'retf imm16', kind: 'retf', size: 32, op: [0xca], imm: 'w', wr: 'none', fx: NONE });
add({ name: 'iret', kind: 'iret', size: 32, op: [0xcf], wr: 'none', fx: { r: 0, w: STATUS, u: 0 } });
add({ name: 'call far ptr16:32', kind: 'callfar', size: 32, op: [0x9a], wr: 'none', fx: NONE });
add({ name: 'jmp far ptr16:32', kind: 'jmpfar', size: 32, op: [0xea], wr: 'none', fx: NONE });

// ---- forms that fault in ring 3 --------------------------------------------------------
const GP = 13, UD = 6;
const fault = (name: string, op: number[], vector: number, extra: Partial<Form> = {}): void =>
  add({ name, kind: 'fault', size: 32, op, wr: 'none', fx: NONE, vector, singleOnly: true, ...extra });
fault('ud2', [0x0f, 0x0b], UD);
fault('ud0 (0f ff)', [0x0f, 0xff, 0xc0], UD);
fault('hlt', [0xf4], GP);
fault('cli', [0xfa], GP);
fault('sti', [0xfb], GP);
fault('in al,imm8', [0xe4, 0x60], GP);
fault('in eax,dx', [0xed], GP);
fault('out imm8,al', [0xe6, 0x80], GP);
fault('out dx,al', [0xee], GP);
fault('insb', [0x6c], GP);
fault('outsd', [0x6f], GP);
fault('clts', [0x0f, 0x06], GP);
fault('invd', [0x0f, 0x08], GP);
fault('wbinvd', [0x0f, 0x09], GP);
fault('wrmsr', [0x0f, 0x30], GP);
fault('rdmsr', [0x0f, 0x32], GP);
fault('mov eax,cr0', [0x0f, 0x20, 0xc0], GP);
fault('mov cr3,eax', [0x0f, 0x22, 0xd8], GP);
fault('mov eax,dr7', [0x0f, 0x21, 0xf8], GP);
fault('lldt ax', [0x0f, 0x00, 0xd0], GP);
fault('ltr ax', [0x0f, 0x00, 0xd8], GP);
fault('lmsw ax', [0x0f, 0x01, 0xf0], GP);
fault('invlpg [eax]', [0x0f, 0x01, 0x38], GP, { kind: 'fault' });
fault('int 0x41', [0xcd, 0x41], GP);
fault('int 0x0d', [0xcd, 0x0d], GP);
fault('int 1', [0xcd, 0x01], GP);
fault('int 5', [0xcd, 0x05], GP);
fault('int3', [0xcc], 3);
fault('int 3 (cd 03)', [0xcd, 0x03], 3);
fault('int 4 (cd 04)', [0xcd, 0x04], 4);
fault('inc rm8 /7 (fe /7)', [0xfe, 0xf8], UD);
fault('ff /7', [0xff, 0xf8], UD);
fault('lea eax,eax', [0x8d, 0xc0], UD);
fault('mov cs,ax', [0x8e, 0xc8], UD);
fault('mov sreg6,ax', [0x8e, 0xf0], UD);
fault('lock nop', [0xf0, 0x90], UD);
fault('lock add eax,ecx', [0xf0, 0x01, 0xc8], UD);
fault('lock mov [eax],ecx', [0xf0, 0x89, 0x08], UD);
fault('lock inc eax (ff)', [0xf0, 0xff, 0xc0], UD);
fault('lock cmp [eax],ecx', [0xf0, 0x39, 0x08], UD);
fault('lock bt [eax],ecx', [0xf0, 0x0f, 0xa3, 0x08], UD);
fault('mov eax,fs:[0xffffffff] (limit wrap)', [0x64, 0xa1, 0xff, 0xff, 0xff, 0xff], GP);
fault('mov eax,[0x300000] (unmapped)', [0xa1, 0x00, 0x00, 0x30, 0x00], 14);
fault('mov [0x1ffffe],eax (unmapped, crosses into data)', [0xa3, 0xfe, 0xff, 0x1f, 0x00], 14);
fault('cmpxchg8b reg', [0x0f, 0xc7, 0xc8], UD);

// ---- x87 --------------------------------------------------------------------------------
const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
const CC = C0 | C1 | C2 | C3;
const X_ARITH = { u: C0 | C2 | C3, w: C1 };
const X_CMP = { u: 0, w: CC };
const X_C1 = { u: C0 | C2 | C3, w: C1 };
const X_KEEP = { u: 0, w: 0 };
const x87 = (name: string, op: number[], fsw: Form['fsw'], extra: Partial<Form> = {}): void =>
  add({ name, kind: 'x87', size: 32, op, wr: 'none', fx: NONE, fsw, ...extra });
const xm = (name: string, op: number, d: number, mem: number, fsw: Form['fsw'], extra: Partial<Form> = {}): void =>
  x87(name, [op], fsw, { reg: d, rm: 'm', mem, ...extra });
// loads and stores
xm('fld m32fp', 0xd9, 0, 4, X_C1); xm('fld m64fp', 0xdd, 0, 8, X_C1); xm('fld m80fp', 0xdb, 5, 10, X_C1);
xm('fild m16int', 0xdf, 0, 2, X_C1); xm('fild m32int', 0xdb, 0, 4, X_C1); xm('fild m64int', 0xdf, 5, 8, X_C1);
xm('fst m32fp', 0xd9, 2, 4, X_C1, { sub: 'store' }); xm('fst m64fp', 0xdd, 2, 8, X_C1, { sub: 'store' });
xm('fstp m32fp', 0xd9, 3, 4, X_C1, { sub: 'store' }); xm('fstp m64fp', 0xdd, 3, 8, X_C1, { sub: 'store' });
xm('fstp m80fp', 0xdb, 7, 10, X_C1, { sub: 'store' });
xm('fist m16int', 0xdf, 2, 2, X_C1, { sub: 'store' }); xm('fist m32int', 0xdb, 2, 4, X_C1, { sub: 'store' });
xm('fistp m16int', 0xdf, 3, 2, X_C1, { sub: 'store' }); xm('fistp m32int', 0xdb, 3, 4, X_C1, { sub: 'store' });
xm('fistp m64int', 0xdf, 7, 8, X_C1, { sub: 'store' });
xm('fbld m80bcd', 0xdf, 4, 10, X_C1); xm('fbstp m80bcd', 0xdf, 6, 10, X_C1, { sub: 'store' });
xm('fnstcw m16', 0xd9, 7, 2, X_KEEP, { sub: 'store' }); xm('fldcw m16', 0xd9, 5, 2, { u: CC, w: 0 }, { sub: 'fldcw' });
xm('fnstsw m16', 0xdd, 7, 2, { u: 0, w: 0, reads: true }, { sub: 'store' });
x87('fnstsw ax', [0xdf, 0xe0], { u: 0, w: 0, reads: true }, { implicit: [0] });
// arithmetic with memory operands: D8 m32fp, DC m64fp, DA m32int, DE m16int
const AR = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
AR.forEach((m, d) => {
  const fsw = m.startsWith('fcom') ? X_CMP : X_ARITH;
  xm(`${m} m32fp`, 0xd8, d, 4, fsw); xm(`${m} m64fp`, 0xdc, d, 8, fsw);
  xm(`fi${m.slice(1)} m32int`, 0xda, d, 4, fsw); xm(`fi${m.slice(1)} m16int`, 0xde, d, 2, fsw);
  x87(`${m} st0,st(i)`, [0xd8, 0xc0 + d * 8], fsw, { sub: 'sti' });
  if (!m.startsWith('fcom')) {
    x87(`${m} st(i),st0`, [0xdc, 0xc0 + d * 8], fsw, { sub: 'sti' });
    x87(`${m}p st(i),st0`, [0xde, 0xc0 + d * 8], fsw, { sub: 'sti' });
  }
});
x87('fcompp', [0xde, 0xd9], X_CMP);
x87('fucom st(i)', [0xdd, 0xe0], X_CMP, { sub: 'sti' });
x87('fucomp st(i)', [0xdd, 0xe8], X_CMP, { sub: 'sti' });
x87('fucompp', [0xda, 0xe9], X_CMP);
// SDM: C1 set to 0; the host leaves it unchanged (tests/x86/FINDINGS.md, notes): not compared.
const X_COMI = { u: C1, w: 0 };
for (const [n, op] of [['fcomi', [0xdb, 0xf0]], ['fucomi', [0xdb, 0xe8]], ['fcomip', [0xdf, 0xf0]], ['fucomip', [0xdf, 0xe8]]] as const)
  x87(`${n} st0,st(i)`, [...op], X_COMI, { sub: 'sti', fx: ARITH });
const FCMOV = [[0xda, 0xc0, 2], [0xda, 0xc8, 4], [0xda, 0xd0, 6], [0xda, 0xd8, 10], [0xdb, 0xc0, 3], [0xdb, 0xc8, 5], [0xdb, 0xd0, 7], [0xdb, 0xd8, 11]] as const;
for (const [a, b, cc] of FCMOV) x87(`fcmov${cc.toString(16)} st0,st(i)`, [a, b], X_C1, { sub: 'sti', cc, fx: { r: ccReads(cc), w: 0, u: 0 } });
x87('fld st(i)', [0xd9, 0xc0], X_C1, { sub: 'sti' });
x87('fst st(i)', [0xdd, 0xd0], X_C1, { sub: 'sti' });
x87('fstp st(i)', [0xdd, 0xd8], X_C1, { sub: 'sti' });
x87('fxch st(i)', [0xd9, 0xc8], X_C1, { sub: 'sti' });
x87('ffree st(i)', [0xdd, 0xc0], { u: CC, w: 0 }, { sub: 'sti' });
for (const [n, b, fsw] of [
  ['fchs', 0xe0, X_C1], ['fabs', 0xe1, X_C1], ['ftst', 0xe4, X_CMP], ['fxam', 0xe5, X_CMP],
  ['fld1', 0xe8, X_C1], ['fldl2t', 0xe9, X_C1], ['fldl2e', 0xea, X_C1], ['fldpi', 0xeb, X_C1],
  ['fldlg2', 0xec, X_C1], ['fldln2', 0xed, X_C1], ['fldz', 0xee, X_C1],
  ['fsqrt', 0xfa, X_ARITH], ['frndint', 0xfc, X_ARITH], ['fscale', 0xfd, X_ARITH], ['fxtract', 0xf4, X_ARITH],
  ['fprem', 0xf8, X_CMP], ['fprem1', 0xf5, X_CMP], ['fdecstp', 0xf6, X_C1], ['fincstp', 0xf7, X_C1], ['fnop', 0xd0, X_KEEP],
] as const) x87(n, [0xd9, b], fsw);
x87('fnclex', [0xdb, 0xe2], { u: CC, w: 0 });
x87('fwait', [0x9b], X_KEEP);

export const FORMS: readonly Form[] = forms;

/** Forms usable inside a multi-instruction sequence. */
export const SEQ_FORMS: readonly Form[] = forms.filter((f) => !f.singleOnly && f.kind !== 'fault');
