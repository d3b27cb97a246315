/**
 * The instruction catalog and case builder of the x87 differential test: every valid x87
 * encoding (register forms enumerated exhaustively, memory forms with an absolute disp32
 * operand in the runner's operand area), FXSAVE/FXRSTOR, and the 16-bit environment layouts
 * (0x66 prefix). Each case is one instruction on a random, consistent initial state.
 *
 * Invariant: a generated initial state never has an unmasked exception pending (the runner
 * would take #MF on the instruction under test), and FXRSTOR images always carry MXCSR
 * 0x1F80 (a reserved bit would #GP the host, a changed MXCSR would leak into later cases).
 */
import { IN_CODE, IN_EAX, IN_EFLAGS, IN_MEM, IN_SIZE, MEM_SIZE } from './native.ts';
import type { Rng } from './rng.ts';
import { type F80, domainF80, genBcd, genF32, genF64, genF80, genInt, nearF80 } from './values.ts';

export type MemKind =
  | 'f32' | 'f64' | 'f80' | 'i16' | 'i32' | 'i64' | 'bcd' | 'w16'
  | 'env32' | 'env16' | 'save32' | 'save16' | 'fx';

export interface OpSpec {
  readonly name: string;
  /** Prefix + opcode bytes; for memory forms the ModRM reg field is `reg` and mod/rm = [disp32]. */
  readonly bytes: readonly number[];
  readonly reg?: number;
  readonly mem?: MemKind;
  /** The instruction writes its memory operand (the operand area starts random). */
  readonly store?: boolean;
  /** ST(i) that should hold values (the rest is random). */
  readonly need: readonly number[];
  /** Pushes: ST(7) should be empty (mostly). */
  readonly pushes?: number;
  /** Domain for ST(0) / ST(1) values. */
  readonly dom0?: string;
  readonly dom1?: string;
  /** Transcendental: results are compared within 1 ulp. */
  readonly trans?: boolean;
  /** Control instruction (FIP/FOP untouched). */
  readonly control?: boolean;
}

const mem = (name: string, esc: number, reg: number, kind: MemKind, extra: Partial<OpSpec> = {}): OpSpec =>
  ({ name, bytes: [esc], reg, mem: kind, need: [0], ...extra });

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];

function catalog(): OpSpec[] {
  const ops: OpSpec[] = [];
  // Memory arithmetic: D8 m32real, DC m64real, DA m32int, DE m16int.
  for (let reg = 0; reg < 8; reg++) {
    ops.push(mem(`${ARITH[reg]} m32`, 0xd8, reg, 'f32'));
    ops.push(mem(`${ARITH[reg]} m64`, 0xdc, reg, 'f64'));
    ops.push(mem(`fi${ARITH[reg].slice(1)} m32`, 0xda, reg, 'i32'));
    ops.push(mem(`fi${ARITH[reg].slice(1)} m16`, 0xde, reg, 'i16'));
  }
  ops.push(
    mem('fld m32', 0xd9, 0, 'f32', { need: [], pushes: 1 }),
    mem('fst m32', 0xd9, 2, 'f32', { store: true }),
    mem('fstp m32', 0xd9, 3, 'f32', { store: true }),
    mem('fldenv', 0xd9, 4, 'env32', { need: [], control: true }),
    mem('fldcw', 0xd9, 5, 'w16', { need: [], control: true }),
    mem('fnstenv', 0xd9, 6, 'env32', { need: [], store: true, control: true }),
    mem('fnstcw', 0xd9, 7, 'w16', { need: [], store: true, control: true }),
    mem('fild m32', 0xdb, 0, 'i32', { need: [], pushes: 1 }),
    mem('fisttp m32', 0xdb, 1, 'i32', { store: true }),
    mem('fist m32', 0xdb, 2, 'i32', { store: true }),
    mem('fistp m32', 0xdb, 3, 'i32', { store: true }),
    mem('fld m80', 0xdb, 5, 'f80', { need: [], pushes: 1 }),
    mem('fstp m80', 0xdb, 7, 'f80', { store: true }),
    mem('fld m64', 0xdd, 0, 'f64', { need: [], pushes: 1 }),
    mem('fisttp m64', 0xdd, 1, 'i64', { store: true }),
    mem('fst m64', 0xdd, 2, 'f64', { store: true }),
    mem('fstp m64', 0xdd, 3, 'f64', { store: true }),
    mem('frstor', 0xdd, 4, 'save32', { need: [], control: true }),
    mem('fnsave', 0xdd, 6, 'save32', { need: [], store: true, control: true }),
    mem('fnstsw m16', 0xdd, 7, 'w16', { need: [], store: true, control: true }),
    mem('fild m16', 0xdf, 0, 'i16', { need: [], pushes: 1 }),
    mem('fisttp m16', 0xdf, 1, 'i16', { store: true }),
    mem('fist m16', 0xdf, 2, 'i16', { store: true }),
    mem('fistp m16', 0xdf, 3, 'i16', { store: true }),
    mem('fbld', 0xdf, 4, 'bcd', { need: [], pushes: 1 }),
    mem('fild m64', 0xdf, 5, 'i64', { need: [], pushes: 1 }),
    mem('fbstp', 0xdf, 6, 'bcd', { store: true }),
    mem('fistp m64', 0xdf, 7, 'i64', { store: true }),
    { name: 'fldenv (16-bit)', bytes: [0x66, 0xd9], reg: 4, mem: 'env16', need: [], control: true },
    { name: 'fnstenv (16-bit)', bytes: [0x66, 0xd9], reg: 6, mem: 'env16', need: [], store: true, control: true },
    { name: 'frstor (16-bit)', bytes: [0x66, 0xdd], reg: 4, mem: 'save16', need: [], control: true },
    { name: 'fnsave (16-bit)', bytes: [0x66, 0xdd], reg: 6, mem: 'save16', need: [], store: true, control: true },
    { name: 'fxsave', bytes: [0x0f, 0xae], reg: 0, mem: 'fx', need: [], store: true, control: true },
    { name: 'fxrstor', bytes: [0x0f, 0xae], reg: 1, mem: 'fx', need: [], control: true },
  );
  // Register forms.
  for (let i = 0; i < 8; i++) {
    for (let reg = 0; reg < 8; reg++) {
      const m = 0xc0 | (reg << 3) | i;
      ops.push({ name: `${ARITH[reg]} st0,st${i}`, bytes: [0xd8, m], need: [0, i] });
      ops.push({ name: `dc:${ARITH[reg]} st${i}`, bytes: [0xdc, m], need: [0, i] });
      if (reg !== 3) ops.push({ name: `de:${ARITH[reg]}p st${i}`, bytes: [0xde, m], need: [0, i] });
    }
    const cc = ['b', 'e', 'be', 'u'];
    for (let c = 0; c < 4; c++) {
      ops.push({ name: `fcmov${cc[c]} st${i}`, bytes: [0xda, 0xc0 | (c << 3) | i], need: [0, i] });
      ops.push({ name: `fcmovn${cc[c]} st${i}`, bytes: [0xdb, 0xc0 | (c << 3) | i], need: [0, i] });
    }
    ops.push(
      { name: `fld st${i}`, bytes: [0xd9, 0xc0 | i], need: [i], pushes: 1 },
      { name: `fxch st${i}`, bytes: [0xd9, 0xc8 | i], need: [0, i] },
      { name: `fstp1 st${i}`, bytes: [0xd9, 0xd8 | i], need: [0] },
      { name: `fucomi st${i}`, bytes: [0xdb, 0xe8 | i], need: [0, i] },
      { name: `fcomi st${i}`, bytes: [0xdb, 0xf0 | i], need: [0, i] },
      { name: `ffree st${i}`, bytes: [0xdd, 0xc0 | i], need: [] },
      { name: `fxch4 st${i}`, bytes: [0xdd, 0xc8 | i], need: [0, i] },
      { name: `fst st${i}`, bytes: [0xdd, 0xd0 | i], need: [0] },
      { name: `fstp st${i}`, bytes: [0xdd, 0xd8 | i], need: [0] },
      { name: `fucom st${i}`, bytes: [0xdd, 0xe0 | i], need: [0, i] },
      { name: `fucomp st${i}`, bytes: [0xdd, 0xe8 | i], need: [0, i] },
      { name: `ffreep st${i}`, bytes: [0xdf, 0xc0 | i], need: [] },
      { name: `fxch7 st${i}`, bytes: [0xdf, 0xc8 | i], need: [0, i] },
      { name: `fstp8 st${i}`, bytes: [0xdf, 0xd0 | i], need: [0] },
      { name: `fstp9 st${i}`, bytes: [0xdf, 0xd8 | i], need: [0] },
      { name: `fucomip st${i}`, bytes: [0xdf, 0xe8 | i], need: [0, i] },
      { name: `fcomip st${i}`, bytes: [0xdf, 0xf0 | i], need: [0, i] },
    );
  }
  ops.push(
    { name: 'fcompp', bytes: [0xde, 0xd9], need: [0, 1] },
    { name: 'fucompp', bytes: [0xda, 0xe9], need: [0, 1] },
    { name: 'fnop', bytes: [0xd9, 0xd0], need: [] },
    { name: 'fchs', bytes: [0xd9, 0xe0], need: [0] },
    { name: 'fabs', bytes: [0xd9, 0xe1], need: [0] },
    { name: 'ftst', bytes: [0xd9, 0xe4], need: [0] },
    { name: 'fxam', bytes: [0xd9, 0xe5], need: [] },
    { name: 'fld1', bytes: [0xd9, 0xe8], need: [], pushes: 1 },
    { name: 'fldl2t', bytes: [0xd9, 0xe9], need: [], pushes: 1 },
    { name: 'fldl2e', bytes: [0xd9, 0xea], need: [], pushes: 1 },
    { name: 'fldpi', bytes: [0xd9, 0xeb], need: [], pushes: 1 },
    { name: 'fldlg2', bytes: [0xd9, 0xec], need: [], pushes: 1 },
    { name: 'fldln2', bytes: [0xd9, 0xed], need: [], pushes: 1 },
    { name: 'fldz', bytes: [0xd9, 0xee], need: [], pushes: 1 },
    { name: 'f2xm1', bytes: [0xd9, 0xf0], need: [0], dom0: 'f2xm1', trans: true },
    { name: 'fyl2x', bytes: [0xd9, 0xf1], need: [0, 1], dom0: 'log', trans: true },
    { name: 'fptan', bytes: [0xd9, 0xf2], need: [0], pushes: 1, dom0: 'trig', trans: true },
    { name: 'fpatan', bytes: [0xd9, 0xf3], need: [0, 1], trans: true },
    { name: 'fxtract', bytes: [0xd9, 0xf4], need: [0], pushes: 1 },
    { name: 'fprem1', bytes: [0xd9, 0xf5], need: [0, 1] },
    { name: 'fdecstp', bytes: [0xd9, 0xf6], need: [] },
    { name: 'fincstp', bytes: [0xd9, 0xf7], need: [] },
    { name: 'fprem', bytes: [0xd9, 0xf8], need: [0, 1] },
    { name: 'fyl2xp1', bytes: [0xd9, 0xf9], need: [0, 1], dom0: 'log1p', trans: true },
    { name: 'fsqrt', bytes: [0xd9, 0xfa], need: [0] },
    { name: 'fsincos', bytes: [0xd9, 0xfb], need: [0], pushes: 1, dom0: 'trig', trans: true },
    { name: 'frndint', bytes: [0xd9, 0xfc], need: [0] },
    { name: 'fscale', bytes: [0xd9, 0xfd], need: [0, 1], dom1: 'scale' },
    { name: 'fsin', bytes: [0xd9, 0xfe], need: [0], dom0: 'trig', trans: true },
    { name: 'fcos', bytes: [0xd9, 0xff], need: [0], dom0: 'trig', trans: true },
    { name: 'fneni', bytes: [0xdb, 0xe0], need: [], control: true },
    { name: 'fndisi', bytes: [0xdb, 0xe1], need: [], control: true },
    { name: 'fnclex', bytes: [0xdb, 0xe2], need: [], control: true },
    { name: 'fninit', bytes: [0xdb, 0xe3], need: [], control: true },
    { name: 'fnsetpm', bytes: [0xdb, 0xe4], need: [], control: true },
    { name: 'fnstsw ax', bytes: [0xdf, 0xe0], need: [], control: true },
  );
  return ops;
}

export const OPS: readonly OpSpec[] = catalog();

export interface X87Case {
  readonly op: OpSpec;
  /** Byte offset of the memory operand inside the operand area (-1: none). */
  readonly memOff: number;
  /** IN_SIZE bytes for the runner. */
  readonly input: Uint8Array;
}

function putF80(b: DataView, o: number, v: F80): void {
  b.setUint32(o, v.lo, true);
  b.setUint32(o + 4, v.hi, true);
  b.setUint16(o + 8, v.se, true);
}

function memSize(k: MemKind): number {
  switch (k) {
    case 'f32': case 'i32': return 4;
    case 'f64': case 'i64': return 8;
    case 'f80': case 'bcd': return 10;
    case 'w16': case 'i16': return 2;
    case 'env16': return 14;
    case 'env32': return 28;
    case 'save16': return 94;
    case 'save32': return 108;
    default: return 512;
  }
}

/** A random control word: mostly all exceptions masked, some random, some all unmasked; every PC and RC. */
function genCw(r: Rng): number {
  const k = r.below(10);
  const masks = k < 7 ? 0x3f : k < 9 ? r.u32() & 0x3f : 0;
  const pc = r.chance(0.05) ? 1 : r.pick([0, 2, 3, 3]);
  const rc = r.below(4);
  return masks | 0x40 | (pc << 8) | (rc << 10) | (r.chance(0.1) ? 0x1000 : 0);
}

/** Write a 32-bit protected-mode FSAVE image (or just the environment) for a random state. */
function genImage(r: Rng, d: DataView, o: number, op: OpSpec | undefined, layout: 'save32' | 'env32' | 'save16' | 'env16', consistent: boolean): void {
  const cw = genCw(r);
  const top = r.below(8);
  // Only masked exception flags may be set in a state the instruction starts from.
  let flags = r.chance(0.5) ? r.u32() & 0x7f : 0;
  if (consistent) flags &= cw & 0x3f;
  const cc = r.u32() & 0x4700;
  let sw = flags | cc | (top << 11);
  if (!consistent && r.chance(0.5)) sw |= r.u32() & 0x8080;
  const regs: F80[] = [];
  let empty = 0;
  for (let i = 0; i < 8; i++) {
    regs.push(genF80(r));
    if (r.chance(0.25)) empty |= 1 << ((top + i) & 7);
  }
  if (op !== undefined) {
    for (const i of op.need) if (r.chance(0.93)) empty &= ~(1 << ((top + i) & 7));
    if (op.pushes !== undefined && r.chance(0.9)) empty |= 1 << ((top + 7) & 7);
    if (op.need.length === 2 && op.need[1] !== 0 && r.chance(0.3)) regs[op.need[1]] = nearF80(r, regs[0]);
    if (op.dom0 !== undefined && (op.dom0 === 'f2xm1' || op.dom0 === 'log1p' || r.chance(0.85))) regs[0] = domainF80(r, op.dom0);
    if (op.dom1 === 'scale' && r.chance(0.7)) {
      const n = r.pick([0, 1, -1, 5, -5, 64, -64, 16383, -16383, 20000, -20000, r.range(-40000, 40000)]);
      const frac = r.chance(0.3) ? 0.5 : 0;
      const v = n + (n < 0 ? -frac : frac);
      regs[1] = doubleToF80(v);
    }
  }
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= ((empty & (1 << p)) !== 0 ? 3 : r.below(3)) << (2 * p);
  const fip = r.u32(), fdp = r.u32(), fop = r.u32() & 0x7ff, fcs = r.u32() & 0xffff, fds = r.u32() & 0xffff;
  let regOff: number;
  if (layout === 'save32' || layout === 'env32') {
    d.setUint32(o, 0xffff0000 | cw, true);
    d.setUint32(o + 4, 0xffff0000 | sw, true);
    d.setUint32(o + 8, 0xffff0000 | tw, true);
    d.setUint32(o + 12, fip, true);
    d.setUint32(o + 16, fcs | (fop << 16), true);
    d.setUint32(o + 20, fdp, true);
    d.setUint32(o + 24, 0xffff0000 | fds, true);
    regOff = o + 28;
  } else {
    d.setUint16(o, cw, true);
    d.setUint16(o + 2, sw, true);
    d.setUint16(o + 4, tw, true);
    d.setUint16(o + 6, fip & 0xffff, true);
    d.setUint16(o + 8, fcs, true);
    d.setUint16(o + 10, fdp & 0xffff, true);
    d.setUint16(o + 12, fds, true);
    regOff = o + 14;
  }
  if (layout === 'save32' || layout === 'save16') for (let i = 0; i < 8; i++) putF80(d, regOff + 10 * i, regs[i]);
}

function doubleToF80(v: number): F80 {
  if (v === 0) return { se: 0, hi: 0, lo: 0 };
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v, true);
  const hi = b.getUint32(4, true), lo = b.getUint32(0, true);
  const e = ((hi >>> 20) & 0x7ff) - 1023 + 0x3fff;
  return { se: ((hi >>> 31) << 15) | e, hi: (0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0, lo: (lo << 11) >>> 0 };
}

/** A related memory value: the operand area gets a value of the operand's format. */
function fillOperand(r: Rng, d: DataView, o: number, kind: MemKind): void {
  switch (kind) {
    case 'f32': d.setUint32(o, genF32(r), true); break;
    case 'f64': { const [hi, lo] = genF64(r); d.setUint32(o, lo, true); d.setUint32(o + 4, hi, true); break; }
    case 'f80': putF80(d, o, genF80(r)); break;
    case 'i16': d.setUint16(o, genInt(r, 16)[1], true); break;
    case 'i32': d.setUint32(o, genInt(r, 32)[1], true); break;
    case 'i64': { const [hi, lo] = genInt(r, 64); d.setUint32(o, lo, true); d.setUint32(o + 4, hi, true); break; }
    case 'bcd': { const b = genBcd(r); for (let i = 0; i < 10; i++) d.setUint8(o + i, b[i]); break; }
    case 'w16': d.setUint16(o, r.chance(0.7) ? genCw(r) : r.u32() & 0xffff, true); break;
    case 'env32': case 'save32': case 'env16': case 'save16': genImage(r, d, o, undefined, kind, false); break;
    case 'fx': {
      // An FXRSTOR image: a random FSAVE-like state in FXSAVE layout, MXCSR fixed.
      const cw = genCw(r);
      d.setUint16(o, cw, true);
      d.setUint16(o + 2, (r.u32() & 0xffff), true);
      d.setUint8(o + 4, r.u32() & 0xff);
      d.setUint16(o + 6, r.u32() & 0x7ff, true);
      d.setUint32(o + 24, 0x1f80, true);
      for (let i = 0; i < 8; i++) putF80(d, o + 32 + 16 * i, genF80(r));
      break;
    }
  }
}

const CODE_NOP = 0x90;

/** Build one case for `op` (its memory operand at a random offset of the operand area). */
export function buildCase(r: Rng, op: OpSpec, memBase: number): X87Case {
  const input = new Uint8Array(IN_SIZE);
  const d = new DataView(input.buffer);
  genImage(r, d, 0, op, 'save32', true);
  d.setUint32(IN_EFLAGS, 0x202 | (r.u32() & 0x8d5), true);
  d.setUint32(IN_EAX, r.u32(), true);
  for (let i = 0; i < MEM_SIZE; i++) input[IN_MEM + i] = r.u32() & 0xff;
  let memOff = -1;
  const code: number[] = [];
  if (op.mem !== undefined) {
    const size = memSize(op.mem);
    memOff = op.mem === 'fx' ? 0 : r.below(MEM_SIZE - size + 1);
    if (op.mem !== 'fx' && r.chance(0.5)) memOff &= ~15;
    if (!op.store || op.mem === 'w16') fillOperand(r, d, IN_MEM + memOff, op.mem);
    if (op.mem === 'fx' && op.store) memOff = 0;
    const a = memBase + memOff;
    code.push(...op.bytes, ((op.reg ?? 0) << 3) | 5, a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, (a >>> 24) & 0xff);
  } else {
    code.push(...op.bytes);
  }
  for (let i = 0; i < 16; i++) input[IN_CODE + i] = i < code.length ? code[i] : CODE_NOP;
  return { op, memOff, input };
}
