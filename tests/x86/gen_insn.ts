/**
 * Turns one row of the form table into bytes in a CaseBuilder: picks registers, the memory
 * operand, immediates and counts (edge-biased), emits the preludes or initial values each
 * kind needs, and updates the builder's static knowledge (ESP, selectors, undefined flags).
 *
 * Invariants:
 *  - Every emitted instruction is legal and, in seq mode, does not fault by construction
 *    except where the row itself is a fault (single mode) or a divide that may trap (#DE is
 *    a fine last instruction: the comparison covers the fault state).
 *  - Throws GenFail when a row cannot be placed under the current constraints; the caller
 *    picks another row. No partial instruction is left behind on GenFail in seq mode
 *    because the caller restores the builder snapshot.
 */

import { ALL_ADDR_CLASSES, modrmReg, type AddrClass, type MemOperand } from './addressing.ts';
import { GenFail, le, type CaseBuilder } from './case_builder.ts';
import { shiftFx, type Form, type Fx } from './forms.ts';
import { AF, CF, DATA_BASE, DATA_SIZE, DF, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, OF, SSS, STATUS } from './layout.ts';
import { randomFcw } from './x87_state.ts';

export type Operand = 'reg' | AddrClass;

const SHIFT_COUNTS = [0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255];

function pickCls(b: CaseBuilder, f: Form, want?: Operand): Operand {
  if (f.rm === 'r') return 'reg';
  if (want !== undefined) {
    if (f.rm === 'm' && want === 'reg') return b.rng.pick(ALL_ADDR_CLASSES);
    return want;
  }
  if (f.rm === 'm') return b.rng.pick(ALL_ADDR_CLASSES);
  return b.rng.chance(0.45) ? 'reg' : b.rng.pick(ALL_ADDR_CLASSES);
}

/** A general register for an operand of `size`; in seq mode never ESP/SP when written. */
function pickReg(b: CaseBuilder, size: number, written: boolean, exclude: number[] = []): number {
  for (let i = 0; i < 32; i++) {
    const r = b.rng.below(8);
    if (exclude.includes(r)) continue;
    if (size !== 8 && r === ESP && written && b.mode === 'seq') continue;
    return r;
  }
  throw new GenFail('no register');
}

/** Full-register index behind an operand register (AH..BH live in EAX..EBX). */
const full = (r: number, size: number): number => (size === 8 ? r & 3 : r);

interface Emitted {
  readonly prefixes: number[];
  readonly body: number[];
}

function assemble(b: CaseBuilder, f: Form, modrm: number | undefined, mem: MemOperand | undefined, imm: number[], lock: boolean, opSuffix?: number): Emitted {
  const prefixes: number[] = [];
  if (lock) prefixes.push(0xf0);
  if (mem) prefixes.push(...mem.prefixes);
  if (f.size === 16) prefixes.push(0x66);
  if (prefixes.length > 1 && b.rng.chance(0.3)) {
    for (let i = prefixes.length - 1; i > 0; i--) {
      const j = b.rng.below(i + 1);
      [prefixes[i], prefixes[j]] = [prefixes[j] as number, prefixes[i] as number];
    }
  }
  const op = [...f.op];
  if (opSuffix !== undefined) op[op.length - 1] = (op[op.length - 1] as number) + opSuffix;
  const body = [...op];
  if (modrm !== undefined) body.push(modrm, ...(mem ? mem.tail : []));
  body.push(...imm);
  return { prefixes, body };
}

function immFor(b: CaseBuilder, f: Form): number[] {
  const r = b.rng;
  switch (f.imm) {
    case undefined: return [];
    case 'b': return [r.edge(8)];
    case 'sb': return [r.edge(8)];
    case 'w': return le(r.edge(16), 2);
    case 'd': return le(r.edge(32), 4);
    case 'z': return f.size === 16 ? le(r.edge(16), 2) : le(r.edge(32), 4);
    case 'wb': return [...le(r.edge(16), 2), r.below(4)];
  }
}

/** Bias register operands to edge values in single mode. */
function edgeReg(b: CaseBuilder, r: number, size: number): void {
  if (b.mode !== 'single' || b.isWanted(full(r, size)) || (size !== 8 && r === ESP) || !b.rng.chance(0.5)) return;
  if (size === 8) b.want(r & 3, b.rng.edge(8), 8, r >= 4);
  else b.want(r, b.rng.edge(size as 16 | 32), size as 16 | 32);
}

function edgeMem(b: CaseBuilder, m: MemOperand, bytes: number): void {
  if (b.mode !== 'single' || !b.rng.chance(0.5)) return;
  const v = bytes === 1 ? b.rng.edge(8) : bytes === 2 ? b.rng.edge(16) : b.rng.edge(32);
  const out = le(v, Math.min(bytes, 4));
  for (let i = 4; i < bytes; i++) out.push(b.rng.below(256));
  b.wantMem(m.linear, out, m);
}

/**
 * Emit row `f`. `operand` forces the r/m operand class (coverage sweeps); `lock` asks for a
 * lock prefix where the row allows one.
 */
export function emitForm(b: CaseBuilder, f: Form, operand?: Operand, lockWanted?: boolean): void {
  b.beginInsn();
  const fxIn = f.fx;
  switch (f.kind) {
    case 'alu': case 'mul1': case 'bsf': return emitAlu(b, f, operand, lockWanted, fxIn);
    case 'shift': case 'shd': return emitShift(b, f, operand);
    case 'div': return emitDiv(b, f, operand);
    case 'bt': return emitBt(b, f, operand, lockWanted);
    case 'lea': return emitLea(b, f, operand);
    case 'moffs': return emitMoffs(b, f);
    case 'xlat': return emitXlat(b, f);
    case 'string': return emitString(b, f);
    case 'cmpxchg8b': return emitCmpxchg8b(b, f, operand, lockWanted);
    case 'x87': return emitX87(b, f, operand);
    case 'fault': return emitFault(b, f);
    case 'selchk': return emitSelchk(b, f, operand);
    default: return emitStackOrFlow(b, f, operand);
  }
}

function finishFlags(b: CaseBuilder, fx: Fx): void {
  b.flagsEffect(fx.w, fx.u);
}

function emitAlu(b: CaseBuilder, f: Form, operand: Operand | undefined, lockWanted: boolean | undefined, fx: Fx): void {
  b.defineFlags(fx.r);
  const regW = f.wr === 'reg' || f.wr === 'both';
  const rmW = f.wr === 'rm' || f.wr === 'both';
  const implicit = f.implicit ?? [];
  if (b.mode === 'seq' && f.size !== 8 && implicit.includes(ESP)) throw new GenFail('implicit ESP');
  let reg: number | undefined;
  if (f.reg === 'r') reg = pickReg(b, f.size, regW);
  if (f.plusr) {
    reg = pickReg(b, f.size, f.wr !== 'none' || f.name.startsWith('xchg'));
    if (f.name.startsWith('xchg') && b.mode === 'seq' && reg === ESP) throw new GenFail('xchg esp');
  }
  const cls = f.rm ? pickCls(b, f, operand) : undefined;
  let modrm: number | undefined;
  let mem: MemOperand | undefined;
  const span = f.mem ?? f.size / 8;
  if (cls === 'reg') {
    const rm = pickReg(b, f.mem === 1 ? 8 : f.mem === 2 ? 16 : f.size, rmW);
    if (f.sub === 'arpl' && b.mode === 'seq' && rm === ESP) throw new GenFail('arpl sp');
    modrm = modrmReg(typeof f.reg === 'number' ? f.reg : (reg ?? 0), rm);
    edgeReg(b, rm, f.mem === 1 ? 8 : f.mem === 2 ? 16 : f.size);
    if (f.kind === 'bsf' && b.mode === 'single' && b.rng.chance(0.2)) b.want(rm, 0, f.size as 16 | 32);
  } else if (cls !== undefined) {
    // Registers wanted later (none for plain ALU) stay out of the address.
    mem = b.mem(cls, span, rmW, {});
    modrm = mem.modrm | ((typeof f.reg === 'number' ? f.reg : (reg ?? 0)) << 3);
    edgeMem(b, mem, span);
    if (f.kind === 'bsf' && b.mode === 'single' && b.rng.chance(0.2)) b.wantMem(mem.linear, new Array<number>(span).fill(0), mem);
  }
  if (reg !== undefined) edgeReg(b, reg, f.size);
  if (f.sub === 'aam') {
    // AAM 0 raises #DE; keep it rare and only as a last instruction.
    const base = b.rng.chance(b.mode === 'single' ? 0.05 : 0) ? 0 : b.rng.pick([10, 16, 1, 2, 255, b.rng.range(1, 255)]);
    const e = assemble(b, f, modrm, mem, [base], false, undefined);
    b.emit([...e.prefixes, ...e.body]);
    finishFlags(b, fx);
    return;
  }
  const lock = !!(lockWanted && f.lock && mem);
  const e = assemble(b, f, modrm, mem, immFor(b, f), lock, f.plusr ? reg : undefined);
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, fx);
}

function pickCount(b: CaseBuilder, f: Form): number {
  const c = b.rng.chance(0.7) ? b.rng.pick(SHIFT_COUNTS) : b.rng.below(256);
  if (f.kind === 'shd' && f.size === 16 && (c & 31) > 16) return c & 15;
  return c;
}

function emitShift(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const [op, src] = (f.sub as string).split(':') as [string, string];
  const count = src === '1' ? 1 : pickCount(b, f);
  const fx = shiftFx(op, f.size, count);
  b.defineFlags(fx.r);
  const avoid = src === 'cl' ? [ECX] : [];
  const cls = pickCls(b, f, operand);
  let reg: number | undefined;
  if (f.reg === 'r') reg = pickReg(b, f.size, false, src === 'cl' ? [] : []);
  let modrm: number, mem: MemOperand | undefined;
  if (cls === 'reg') {
    const rm = pickReg(b, f.size, true);
    modrm = modrmReg(typeof f.reg === 'number' ? f.reg : (reg as number), rm);
    if (src !== 'cl' || full(rm, f.size) !== ECX) edgeReg(b, rm, f.size);
  } else {
    mem = b.mem(cls, f.size / 8, true, { avoid });
    modrm = mem.modrm | ((typeof f.reg === 'number' ? f.reg : (reg as number)) << 3);
    edgeMem(b, mem, f.size / 8);
  }
  if (reg !== undefined && (src !== 'cl' || full(reg, f.size) !== ECX)) edgeReg(b, reg, f.size);
  if (src === 'cl') {
    if (b.mode === 'single' && b.isWanted(ECX)) {
      // CL already carries an operand value: use it as the count.
      throw new GenFail('cl taken');
    }
    b.want(ECX, count, 8);
  }
  const imm = src === 'imm8' ? [count & 0xff] : [];
  const e = assemble(b, f, modrm, mem, imm, false);
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, fx);
}

function emitDiv(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const signed = f.sub === 'idiv';
  const cls = pickCls(b, f, operand);
  const bytes = f.size / 8;
  let modrm: number, mem: MemOperand | undefined, rmReg = -1;
  if (cls === 'reg') {
    rmReg = pickReg(b, f.size, false);
    if (b.mode === 'seq' && (full(rmReg, f.size) === EAX || full(rmReg, f.size) === EDX)) throw new GenFail('divisor in the dividend');
    modrm = modrmReg(f.reg as number, rmReg);
  } else {
    mem = b.mem(cls, bytes, false, { avoid: [EAX, EDX] });
    modrm = mem.modrm | ((f.reg as number) << 3);
  }
  if (b.mode === 'single') {
    // Choose divisor, quotient and remainder so the division usually succeeds.
    const bits = f.size;
    const natural = b.rng.chance(0.1);
    if (!natural && !(rmReg >= 0 && (full(rmReg, f.size) === EAX || full(rmReg, f.size) === EDX))) {
      let d = BigInt(b.rng.edge(bits as 8 | 16 | 32));
      if (d === 0n) d = 1n;
      const half = 1n << BigInt(bits - 1);
      if (signed && d >= half) d -= 1n << BigInt(bits);
      const qMax = signed ? half - 1n : (1n << BigInt(bits)) - 1n;
      let q = BigInt(b.rng.edge(bits as 8 | 16 | 32)) % (qMax + 1n);
      if (signed && b.rng.chance(0.5)) q = -q;
      const ad = d < 0n ? -d : d;
      let r = BigInt(b.rng.u32()) % ad;
      const n0 = q * d;
      if (signed && n0 < 0n) r = -r;
      const n = n0 + r;
      const wide = BigInt.asUintN(bits * 2, n);
      const dv = Number(BigInt.asUintN(bits, d));
      if (rmReg >= 0) {
        if (bits === 8) b.want(rmReg & 3, dv, 8, rmReg >= 4);
        else b.want(rmReg, dv, bits as 16 | 32);
      } else if (mem) b.wantMem(mem.linear, le(dv, bytes), mem);
      if (bits === 8) b.want(EAX, Number(wide), 16);
      else {
        b.want(EAX, Number(BigInt.asUintN(bits, wide)), bits as 16 | 32);
        b.want(EDX, Number(wide >> BigInt(bits)), bits as 16 | 32);
      }
    }
  } else {
    // Prelude: zero- or sign-extend the dividend so the quotient usually fits.
    if (signed) b.emit(f.size === 8 ? [0x66, 0x98] : f.size === 16 ? [0x66, 0x99] : [0x99]);
    else {
      b.emit(f.size === 8 ? [0x30, 0xe4] : f.size === 16 ? [0x66, 0x31, 0xd2] : [0x31, 0xd2]);
      b.flagsEffect(STATUS & ~(1 << 4), 1 << 4);
    }
  }
  const e = assemble(b, f, modrm, mem, [], false);
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, f.fx);
}

function emitBt(b: CaseBuilder, f: Form, operand: Operand | undefined, lockWanted: boolean | undefined): void {
  const cls = pickCls(b, f, operand);
  const reg = pickReg(b, f.size, false);
  if (cls === 'reg') {
    const rm = pickReg(b, f.size, f.wr !== 'none');
    edgeReg(b, rm, f.size);
    edgeReg(b, reg, f.size);
    const e = assemble(b, f, modrmReg(reg, rm), undefined, [], false);
    b.emit([...e.prefixes, ...e.body]);
    finishFlags(b, f.fx);
    return;
  }
  // Memory bit string: the access lands at ea + (offset >> log2(size)) * size/8 (signed).
  const off = b.rng.chance(0.5) ? b.rng.range(-f.size * 3, f.size * 4) : b.rng.below(f.size);
  const bytes = f.size / 8;
  const delta = Math.floor(off / f.size) * bytes;
  const lo = Math.max(0, -delta), hi = Math.min(DATA_SIZE, DATA_SIZE - delta);
  if (hi - lo < bytes + 8) throw new GenFail('bt window');
  const mem = b.mem(cls, bytes, f.wr !== 'none', { avoid: [full(reg, f.size)], lo, hi });
  b.want(reg, off, f.size as 16 | 32);
  const e = assemble(b, f, mem.modrm | (reg << 3), mem, [], !!(lockWanted && f.lock));
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, f.fx);
}

function emitLea(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const cls = pickCls(b, f, operand === 'reg' ? undefined : operand);
  const reg = pickReg(b, f.size, true);
  const mem = b.mem(cls as AddrClass, 1, false);
  const e = assemble(b, f, mem.modrm | (reg << 3), mem, [], false);
  b.emit([...e.prefixes, ...e.body]);
}

function emitMoffs(b: CaseBuilder, f: Form): void {
  const bytes = f.size / 8;
  const a16 = b.rng.chance(0.25);
  const bases = b.segBases();
  const segs = [0, 1, 2, 3, 4, 5].filter((s) => {
    const base = bases[s];
    if (base === null || base === undefined) return false;
    if (f.sub === 'store' && !b.segWritable()[s]) return false;
    return !a16 || base !== 0;
  });
  if (segs.length === 0) throw new GenFail('moffs segment');
  const seg = b.rng.chance(0.5) && segs.includes(3) && !a16 ? 3 : b.rng.pick(segs);
  const base = bases[seg] as number;
  const target = DATA_BASE + b.rng.below(DATA_SIZE - bytes + 1);
  const off = (target - base) >>> 0;
  if (a16 && off > 0xffff) throw new GenFail('moffs16');
  const prefixes = [...(seg !== 3 ? [[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][seg] as number] : []), ...(a16 ? [0x67] : []), ...(f.size === 16 ? [0x66] : [])];
  if (b.mode === 'single' && f.sub !== 'store' && b.rng.chance(0.3)) b.wantMem(target, le(b.rng.edge(32), bytes));
  b.emit([...prefixes, ...f.op, ...le(off, a16 ? 2 : 4)]);
}

function emitXlat(b: CaseBuilder, f: Form): void {
  const bases = b.segBases();
  const override = b.rng.chance(0.3) ? b.rng.pick([0, 1, 2, 3, 4, 5]) : 3;
  const base = bases[override];
  if (base === null || base === undefined) throw new GenFail('xlat segment');
  const table = DATA_BASE + b.rng.below(DATA_SIZE - 256);
  b.want(EBX, (table - base) >>> 0);
  b.emit([...(override !== 3 ? [[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][override] as number] : []), ...f.op]);
}

function emitString(b: CaseBuilder, f: Form): void {
  const [op, rep] = (f.sub as string).split(':') as [string, string];
  const bytes = f.size / 8;
  const rng = b.rng;
  const count = rep === '' ? 1 : rng.pick([0, 1, 2, 3, 4, 7, 8, 16, rng.range(0, 40)]);
  const dfOn = rng.chance(0.35);
  const a16 = b.mode === 'single' && rng.chance(0.2);
  const usesSi = op !== 'stos' && op !== 'scas';
  const usesDi = op !== 'lods';
  const bases = b.segBases();
  // Source segment: DS or an override; destination ES (no override).
  const srcSeg = usesSi && rng.chance(0.3) ? rng.pick([0, 1, 2, 3, 4, 5]) : 3;
  const span = Math.max(1, count) * bytes;
  const place = (segBase: number | null | undefined): number => {
    if (segBase === null || segBase === undefined) throw new GenFail('string segment');
    const lo = DATA_BASE + (dfOn ? span - bytes : 0);
    const hi = DATA_BASE + DATA_SIZE - (dfOn ? bytes : span);
    if (hi < lo) throw new GenFail('string span');
    const lin = rng.chance(0.3) ? (dfOn ? hi : lo) : lo + rng.below(hi - lo + 1);
    const ea = (lin - segBase) >>> 0;
    if (a16 && ea > 0xffff) throw new GenFail('string a16');
    // The whole walk must stay below the 4 GiB segment limit (no offset wrap).
    const first = dfOn ? ea - span + bytes : ea;
    if (!a16 && (first < 0 || first + span > 0x1_0000_0000)) throw new GenFail('string wrap');
    return ea;
  };
  if (usesDi && (op === 'movs' || op === 'stos') && !b.segWritable()[0]) throw new GenFail('es not writable');
  const si = usesSi ? place(bases[srcSeg]) : -1;
  const di = usesDi ? place(bases[0]) : -1;
  if (si >= 0) b.want(ESI, a16 ? (rng.u32() & 0xffff0000) | si : si);
  if (di >= 0) b.want(EDI, a16 ? (rng.u32() & 0xffff0000) | di : di);
  if (rep !== '') b.want(ECX, a16 ? ((rng.u32() & 0xffff0000) | count) >>> 0 : count);
  if (b.mode === 'single' && (op === 'cmps') && rng.chance(0.5) && si >= 0 && di >= 0) {
    // Make a prefix of the two strings equal so repe runs on.
    const n = rng.below(Math.max(1, count) * bytes + 1);
    const srcLin = ((bases[srcSeg] as number) + si) >>> 0, dstLin = ((bases[0] as number) + di) >>> 0;
    const start = (l: number): number => (dfOn ? l - n + bytes : l);
    if (n > 0 && Math.abs(start(srcLin) - start(dstLin)) >= n) {
      const bytesEq: number[] = [];
      for (let i = 0; i < n; i++) bytesEq.push(rng.below(256));
      b.wantMem(start(dstLin), bytesEq);
      b.wantMem(start(srcLin), bytesEq);
    }
  }
  b.wantDf(dfOn);
  const prefixes: number[] = [];
  if (rep === 'rep' || rep === 'repe') prefixes.push(0xf3);
  if (rep === 'repne') prefixes.push(0xf2);
  if (srcSeg !== 3) prefixes.push([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65][srcSeg] as number);
  if (a16) prefixes.push(0x67);
  if (f.size === 16) prefixes.push(0x66);
  b.emit([...prefixes, ...f.op]);
  const fx = f.fx.w !== 0 && count === 0 ? { r: 0, w: 0, u: 0 } : f.fx;
  finishFlags(b, fx);
}

function emitCmpxchg8b(b: CaseBuilder, f: Form, operand: Operand | undefined, lockWanted: boolean | undefined): void {
  const cls = pickCls(b, f, operand);
  const mem = b.mem(cls as AddrClass, 8, true, { avoid: [EAX, EDX, EBX, ECX] });
  if (b.mode === 'single' && b.rng.chance(0.5)) {
    const lo = b.rng.reg32(), hi = b.rng.reg32();
    b.want(EAX, lo); b.want(EDX, hi);
    b.wantMem(mem.linear, [...le(lo, 4), ...le(hi, 4)], mem);
  }
  const e = assemble(b, f, mem.modrm | (1 << 3), mem, [], !!(lockWanted && b.rng.chance(0.5)));
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, f.fx);
}

/** LAR/LSL/VERR/VERW on a selector the harness mirrors, or one that must fail the check. */
function emitSelchk(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const s = b.sel;
  const choices = [s.cs, s.ds, s.fs, s.gs, s.cs & ~3, s.ds & ~3, 0, 3, 0x0f, 0x1003, 0x08, 0x10];
  const selector = b.rng.pick(choices) | (b.rng.chance(0.3) ? b.rng.u32() & 0xffff0000 : 0);
  const reg = f.reg === 'r' ? pickReg(b, f.size, true) : undefined;
  const cls = pickCls(b, f, operand);
  let modrm: number, mem: MemOperand | undefined;
  if (cls === 'reg') {
    const r = pickReg(b, 16, false, b.mode === 'seq' ? [ESP] : []);
    if (r === ESP) throw new GenFail('selector in esp');
    b.want(r, selector >>> 0);
    modrm = modrmReg(typeof f.reg === 'number' ? f.reg : (reg as number), r);
  } else {
    mem = b.mem(cls, 2, false);
    b.wantMem(mem.linear, le(selector, 2), mem);
    modrm = mem.modrm | ((typeof f.reg === 'number' ? f.reg : (reg as number)) << 3);
  }
  const e = assemble(b, f.reg === 'r' ? f : { ...f, size: 32 }, modrm, mem, [], false);
  b.emit([...e.prefixes, ...e.body]);
  finishFlags(b, f.fx);
}

function emitFault(b: CaseBuilder, f: Form): void {
  b.emit([...f.op]);
  b.ended = true;
}

function emitX87(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  if (!b.x87) throw new GenFail('x87 row in a non-x87 case');
  const fsw = f.fsw ?? { u: 0, w: 0 };
  if (fsw.reads && b.fswUndef !== 0) {
    b.emit([0xd9, 0xe5]); // fxam defines C0..C3
    b.fswUndef = 0;
  }
  b.defineFlags(f.fx.r);
  if (f.sub === 'sti') {
    const i = b.rng.below(8);
    b.emit([...f.op.slice(0, -1), (f.op[f.op.length - 1] as number) + i]);
  } else if (f.rm === 'm') {
    const cls = pickCls(b, f, operand === 'reg' ? undefined : operand) as AddrClass;
    const bytes = f.mem as number;
    const store = f.sub === 'store';
    const mem = b.mem(cls, bytes, store);
    if (f.sub === 'fldcw') b.wantMem(mem.linear, le(randomFcw(b.rng), 2), mem);
    else if (!store && b.mode === 'single' && b.rng.chance(0.3)) edgeMem(b, mem, bytes);
    const e = assemble(b, { ...f, size: 32 }, mem.modrm | ((f.reg as number) << 3), mem, [], false);
    b.emit([...e.prefixes, ...e.body]);
  } else {
    b.emit([...f.op]);
  }
  b.fswUndef = (b.fswUndef & ~fsw.w) | fsw.u;
  finishFlags(b, f.fx);
}

// ---- stack, segments, control flow -------------------------------------------------------

function emitStackOrFlow(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const rng = b.rng;
  const sz = f.size / 8;
  const sel = b.sel;
  const okSel = (sr: number): number[] => (sr === SSS ? [sel.ds] : [sel.ds, sel.fs, sel.gs, 0, sel.cs]).filter((s) => !(sr !== SSS && s === sel.cs && sr === 1));
  const noise16 = (): number => rng.u32() & 0xffff0000;
  switch (f.kind) {
    case 'push': {
      if (!b.stackOk(b.esp - sz)) throw new GenFail('stack');
      if (f.plusr) {
        const r = rng.below(8);
        edgeReg(b, r, f.size);
        b.emit([...(f.size === 16 ? [0x66] : []), (f.op[0] as number) + r]);
      } else if (f.rm) {
        const cls = pickCls(b, f, operand);
        if (cls === 'reg') {
          const r = rng.below(8);
          b.emit([...(f.size === 16 ? [0x66] : []), ...f.op, modrmReg(6, r)]);
        } else {
          const mem = b.mem(cls, sz, false);
          const e = assemble(b, f, mem.modrm | (6 << 3), mem, [], false);
          b.emit([...e.prefixes, ...e.body]);
        }
      } else {
        const e = assemble(b, f, undefined, undefined, immFor(b, f), false);
        b.emit([...e.prefixes, ...e.body]);
      }
      b.esp -= sz;
      return;
    }
    case 'pop': {
      if (!b.stackOk(b.esp + sz)) throw new GenFail('stack');
      if (f.plusr) {
        const r = pickReg(b, f.size, true);
        b.emit([...(f.size === 16 ? [0x66] : []), (f.op[0] as number) + r]);
        if (r === ESP) b.esp = -1; // single mode only: ends stack knowledge
        else b.esp += sz;
      } else {
        const cls = pickCls(b, f, operand);
        if (cls === 'reg') {
          const r = pickReg(b, f.size, true);
          b.emit([...(f.size === 16 ? [0x66] : []), ...f.op, modrmReg(0, r)]);
          b.esp = r === ESP ? -1 : b.esp + sz;
        } else {
          const mem = b.mem(cls, sz, true, { espBias: sz });
          const e = assemble(b, f, mem.modrm, mem, [], false);
          b.emit([...e.prefixes, ...e.body]);
          b.esp += sz;
        }
      }
      return;
    }
    case 'pusha': case 'popa': {
      const d = f.kind === 'pusha' ? -8 * sz : 8 * sz;
      if (!b.stackOk(b.esp + d)) throw new GenFail('stack');
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      b.esp += d;
      return;
    }
    case 'pushf': {
      if (!b.stackOk(b.esp - sz)) throw new GenFail('stack');
      b.defineFlags(STATUS);
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      b.esp -= sz;
      return;
    }
    case 'popf': {
      // Status flags, DF, and bits ring 3 cannot change (IF, IOPL) to check they stay put.
      const val = (rng.u32() & (STATUS | DF | 0x3200)) | 2;
      if (b.mode === 'single') b.wantMem(b.esp, le(val, sz));
      else b.emit([...(f.size === 16 ? [0x66, 0x68, ...le(val, 2)] : [0x68, ...le(val, 4)])]);
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      if (b.mode === 'single') b.esp += sz;
      b.undef = 0;
      return;
    }
    case 'enter': {
      const size16 = rng.pick([0, 4, 8, 12, 16, rng.below(64)]);
      const level = rng.pick([0, 0, 1, 2, 3, ...(b.mode === 'single' ? [31, 32] : [])]);
      const lv = level & 31;
      const pushes = lv === 0 ? 1 : lv + 1;
      const newEsp = b.esp - pushes * sz - size16;
      if (!b.stackOk(newEsp)) throw new GenFail('stack');
      if (lv > 1) {
        // The frame pointers copied from [ebp - sz*i] must be inside the data region.
        const ebp = DATA_BASE + rng.range(0x200 + lv * sz, 0x1000);
        b.want(EBP, ebp);
      }
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op, ...le(size16, 2), level]);
      b.esp = newEsp;
      return;
    }
    case 'leave': {
      const ebp = DATA_BASE + rng.range(0x1400, 0x1e00);
      if (!b.stackOk(ebp + sz)) throw new GenFail('stack');
      b.want(EBP, ebp);
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      b.esp = ebp + sz;
      return;
    }
    case 'pushsr': {
      if (!b.stackOk(b.esp - sz)) throw new GenFail('stack');
      // 32-bit pushes of a selector may write 2 or 4 bytes (SDM): zero the slot first.
      if (f.size === 32) {
        if (b.mode === 'single') b.wantMem(b.esp - 4, [0, 0, 0, 0]);
        else b.emit([0xc7, 0x44, 0x24, 0xfc, 0, 0, 0, 0]);
      }
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      b.esp -= sz;
      return;
    }
    case 'popsr': {
      const sr = Number(f.sub);
      if (!b.stackOk(b.esp + sz)) throw new GenFail('stack');
      const bad = b.mode === 'single' && rng.chance(0.15);
      const s = bad ? badSelector(b, sr) : rng.pick(okSel(sr).filter((x) => x !== sel.cs));
      const val = f.size === 16 ? s : (noise16() | s) >>> 0;
      if (b.mode === 'single') b.wantMem(b.esp, le(val, sz));
      else b.emit(f.size === 16 ? [0x66, 0x68, ...le(val, 2)] : [0x68, ...le(val, 4)]);
      b.emit([...(f.size === 16 ? [0x66] : []), ...f.op]);
      if (bad) { b.ended = true; return; }
      if (b.mode === 'single') b.esp += sz;
      b.sregs[sr] = s;
      return;
    }
    case 'movsr': {
      const sr = rng.pick([0, 2, 3, 4, 5]);
      const bad = b.mode === 'single' && rng.chance(0.15);
      const s = bad ? badSelector(b, sr) : rng.pick(okSel(sr).filter((x) => x !== sel.cs || sr !== SSS));
      const cls = pickCls(b, f, operand);
      if (cls === 'reg') {
        const r = pickReg(b, 16, false, b.mode === 'seq' ? [ESP] : []);
        if (r === ESP) throw new GenFail('esp selector');
        b.want(r, (noise16() | s) >>> 0);
        b.emit([...(f.size === 16 ? [0x66] : []), ...f.op, modrmReg(sr, r)]);
      } else {
        const mem = b.mem(cls, 2, false);
        b.wantMem(mem.linear, le(s, 2), mem);
        const e = assemble(b, f, mem.modrm | (sr << 3), mem, [], false);
        b.emit([...e.prefixes, ...e.body]);
      }
      if (bad) { b.ended = true; return; }
      b.sregs[sr] = s;
      return;
    }
    case 'movfromsr': {
      const sr = rng.below(6);
      const cls = pickCls(b, f, operand);
      if (cls === 'reg') {
        const r = pickReg(b, 16, true);
        b.emit([...(f.size === 16 ? [0x66] : []), ...f.op, modrmReg(sr, r)]);
      } else {
        const mem = b.mem(cls, 2, true);
        const e = assemble(b, f, mem.modrm | (sr << 3), mem, [], false);
        b.emit([...e.prefixes, ...e.body]);
      }
      return;
    }
    case 'lptr': {
      const sr = { les: 0, lss: 2, lds: 3, lfs: 4, lgs: 5 }[f.sub as 'les'] as number;
      const reg = pickReg(b, f.size, true);
      const mem = b.mem(pickCls(b, f, operand) as AddrClass, sz + 2, false);
      const bad = rng.chance(0.15);
      const s = bad ? badSelector(b, sr) : rng.pick(okSel(sr).filter((x) => x !== sel.cs || sr !== SSS));
      b.wantMem(mem.linear, [...le(rng.edge(f.size as 16 | 32), sz), ...le(s, 2)], mem);
      const e = assemble(b, f, mem.modrm | (reg << 3), mem, [], false);
      b.emit([...e.prefixes, ...e.body]);
      b.ended = true;
      return;
    }
    case 'bound': {
      const reg = pickReg(b, f.size, false);
      const mem = b.mem(pickCls(b, f, operand) as AddrClass, sz * 2, false, { avoid: [reg] });
      const idx = rng.edge(f.size as 16 | 32);
      b.want(reg, idx, f.size as 16 | 32);
      const sx = (v: number): number => (f.size === 16 ? (v << 16) >> 16 : v | 0);
      const inRange = rng.chance(0.6);
      let lo = sx(idx) - (inRange ? rng.below(4) : -1 - rng.below(4));
      let hi = sx(idx) + (inRange ? rng.below(4) : -1);
      if (rng.chance(0.3)) [lo, hi] = [sx(idx), sx(idx)];
      b.wantMem(mem.linear, [...le(lo, sz), ...le(hi, sz)], mem);
      const e = assemble(b, f, mem.modrm | (reg << 3), mem, [], false);
      b.emit([...e.prefixes, ...e.body]);
      b.ended = true;
      return;
    }
    default:
      return emitFlow(b, f, operand);
  }
}

/** Selectors whose load faults, and which fault is expected is the CPU's business. */
function badSelector(b: CaseBuilder, sr: number): number {
  const ds = b.sel.ds;
  const choices = [0x0f /* LDT, none installed */, 0x1003 /* beyond the GDT limit */, ds & ~3 /* RPL 0 */, b.sel.cs];
  // Never a loadable SS with a non-zero base: the oracle's exit path addresses through SS.
  if (sr === SSS) choices.push(0);
  return b.rng.pick(choices);
}

/** A filler instruction a branch may skip: a register ALU op on non-stack registers. */
function emitFiller(b: CaseBuilder): void {
  const a = b.rng.pick([EAX, ECX, EDX, EBX, ESI, EDI]), c = b.rng.below(8);
  switch (b.rng.below(4)) {
    case 0: b.emit([0x01, 0xc0 | (c << 3) | a]); b.flagsEffect(STATUS, 0); break; // add a,c
    case 1: b.emit([0x81, 0xf0 | a, ...le(b.rng.u32(), 4)]); b.flagsEffect(STATUS & ~AF, AF); break; // xor a,imm32
    case 2: b.emit([0x40 + a]); b.flagsEffect(STATUS & ~CF, 0); break; // inc a
    default: b.emit([0x0f, 0xaf, 0xc0 | (a << 3) | c]); b.flagsEffect(CF | OF, STATUS & ~(CF | OF)); // imul a,c
  }
}

function emitFlow(b: CaseBuilder, f: Form, operand: Operand | undefined): void {
  const rng = b.rng;
  const target = b.newLabel();
  const undefBefore = b.undef;
  switch (f.kind) {
    case 'jcc': case 'jmp': {
      b.defineFlags(f.fx.r);
      const undefAt = b.undef;
      b.emit(f.op);
      const end = b.pos + (f.sub === 'rel8' ? 1 : 4);
      b.relRef(target, f.sub === 'rel8' ? 1 : 4, end);
      emitFiller(b);
      b.bind(target);
      b.undef = f.kind === 'jmp' ? undefAt : b.undef | undefAt;
      return;
    }
    case 'loop': case 'jecxz': {
      b.defineFlags(f.fx.r);
      const a16 = rng.chance(0.2);
      if (rng.chance(0.4)) b.want(ECX, rng.pick([0, 1, 2, 0x10000, 0xffffffff]));
      const undefAt = b.undef;
      b.emit([...(a16 ? [0x67] : []), ...f.op]);
      b.relRef(target, 1, b.pos + 1);
      emitFiller(b);
      b.bind(target);
      b.undef |= undefAt;
      return;
    }
    case 'call': {
      if (!b.stackOk(b.esp - 4)) throw new GenFail('stack');
      b.emit(f.op);
      b.relRef(target, 4, b.pos + 4);
      emitFiller(b);
      b.bind(target);
      b.undef = undefBefore;
      b.esp -= 4;
      return;
    }
    case 'jmpind': case 'callind': {
      const call = f.kind === 'callind';
      if (call && !b.stackOk(b.esp - 4)) throw new GenFail('stack');
      const cls = pickCls(b, f, operand);
      const digit = f.reg as number;
      if (cls === 'reg') {
        const r = pickReg(b, 32, false, [ESP]);
        if (b.mode === 'single') b.lateReg(r, target);
        else { b.emit([0xb8 + r]); b.absRef(target); }
        b.emit([...f.op, modrmReg(digit, r)]);
      } else {
        const mem = b.mem(cls, 4, b.mode === 'seq');
        if (b.mode === 'single') b.lateMem(mem.linear, target);
        else {
          const t = b.retargetDisp(mem, 0) as { modrm: number; tail: number[] };
          b.emit([...mem.prefixes, 0xc7, t.modrm, ...t.tail]);
          b.absRef(target);
        }
        b.emit([...mem.prefixes, ...f.op, mem.modrm | (digit << 3), ...mem.tail]);
      }
      emitFiller(b);
      b.bind(target);
      b.undef = undefBefore;
      if (call) b.esp -= 4;
      return;
    }
    case 'ret': case 'retf': case 'iret': {
      const far = f.kind !== 'ret';
      const imm = f.imm === 'w' ? rng.pick([0, 4, 8, 2, rng.below(32)]) : 0;
      const frame = f.kind === 'iret' ? 12 : far ? 8 : 4;
      if (!b.stackOk(b.esp + frame + imm) || !b.stackOk(b.esp - frame)) throw new GenFail('stack');
      const flagsVal = (rng.u32() & (STATUS | DF)) | 0x202;
      const csVal = (rng.u32() & 0xffff0000 | b.sel.cs) >>> 0;
      if (b.mode === 'single') {
        b.lateMem(b.esp, target);
        if (far) b.wantMem(b.esp + 4, le(csVal, 4));
        if (f.kind === 'iret') b.wantMem(b.esp + 8, le(flagsVal, 4));
      } else {
        if (f.kind === 'iret') b.emit([0x68, ...le(flagsVal, 4)]);
        if (far) b.emit([0x68, ...le(csVal, 4)]);
        b.emit([0x68]); b.absRef(target);
        b.esp -= frame; // the pushes above; the return pops them again
      }
      b.emit([...f.op, ...(f.imm === 'w' ? le(imm, 2) : [])]);
      emitFiller(b);
      b.bind(target);
      b.undef = f.kind === 'iret' ? 0 : undefBefore;
      b.esp += frame + imm;
      return;
    }
    case 'callfar': case 'jmpfar': {
      const call = f.kind === 'callfar';
      if (call && !b.stackOk(b.esp - 8)) throw new GenFail('stack');
      if (call) {
        if (b.mode === 'single') b.wantMem(b.esp - 4, [0, 0, 0, 0]);
        else b.emit([0xc7, 0x44, 0x24, 0xfc, 0, 0, 0, 0]);
      }
      b.emit([...f.op]);
      b.absRef(target);
      b.emit(le(b.sel.cs, 2));
      emitFiller(b);
      b.bind(target);
      b.undef = undefBefore;
      if (call) b.esp -= 8;
      return;
    }
    default:
      throw new Error(`emitFlow: unhandled kind ${f.kind} (${f.name})`);
  }
}

