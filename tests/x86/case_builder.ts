/**
 * Builds one test case instruction by instruction, in one of two modes:
 *  - single: the case is one instruction (plus a skipped filler for branches); every value
 *    an operand needs is put into the INITIAL state (registers, memory patches, EFLAGS).
 *  - seq: the case is a run of instructions; values an operand needs are set by prelude
 *    instructions emitted just before it (mov r,imm; push imm; mov [m],imm; cld/std), so
 *    the state between instructions stays whatever the previous ones computed.
 *
 * The builder tracks what it can know statically: ESP (only push/pop-like forms move it),
 * the segment selectors (loaded only from known values), which EFLAGS and x87 C-bits are
 * currently undefined (so flag readers get a defining `cmp` first and the final compare
 * masks the rest).
 *
 * Invariants:
 *  - Within one instruction a register is wanted at most once (or with the same value);
 *    registers a later prelude sets are kept out of address computation (`avoid`).
 *  - In seq mode ESP stays inside the stack window and SS stays flat.
 *  - Branch targets and pushed return addresses are fixups resolved once the layout is
 *    final (`finish`), so every code address is exact.
 */

import { planMem, type AddrClass, type MemOperand } from './addressing.ts';
import { CODE_BASE, DATA_BASE, DATA_SIZE, DF, ESP, FS_BASE, GS_BASE, SDS, SES, SSS, type Selectors } from './layout.ts';
import type { Patch, TestCase } from './protocol.ts';
import type { Rng } from './rng.ts';

export type Mode = 'single' | 'seq';

/** Where ESP may be in seq mode (offsets in the data region). */
export const STACK_LO = 0x1200, STACK_HI = DATA_SIZE - 0x40;

export class GenFail extends Error {
  constructor(why: string) { super(why); }
}

interface Fixup {
  /** Byte offset in code of a little-endian field. */
  readonly at: number;
  readonly size: 1 | 4;
  /** Label index whose address the field receives. */
  readonly label: number;
  /** 'abs' for an absolute address, 'rel' for label - (code offset `from`). */
  readonly kind: 'abs' | 'rel';
  readonly from: number;
}

export class CaseBuilder {
  readonly code: number[] = [];
  readonly gpr: number[];
  eflags: number;
  readonly sregs: number[]; // es cs ss ds fs gs selectors, current
  private readonly _initSregs: number[];
  readonly patches: Patch[] = [];
  esp: number;
  undef = 0;
  fswUndef = 0;
  x87: Uint8Array | undefined;
  private readonly _fixups: Fixup[] = [];
  private readonly _labels: number[] = [];
  /** Registers wanted by the instruction being built: reg -> [value, width]. */
  private _wants = new Map<number, number>();
  /** Memory bytes patched by the instruction being built (single mode), by region offset. */
  private _patched = new Set<number>();
  /** Whether the case has ended (a fault form or a final branch). */
  ended = false;
  readonly notes: string[] = [];

  constructor(readonly rng: Rng, readonly mode: Mode, readonly sel: Selectors) {
    this.gpr = [];
    for (let r = 0; r < 8; r++) this.gpr.push(rng.reg32());
    this.esp = DATA_BASE + rng.range(0x1600, 0x1c00) - (rng.chance(0.2) ? rng.below(4) : 0);
    this.gpr[ESP] = this.esp;
    // EFLAGS: random status flags and DF; bit 1 fixed; IF on (what the kernel gives us).
    this.eflags = (rng.u32() & 0x8d5) | 0x202 | (rng.chance(0.2) ? DF : 0);
    const ds = sel.ds;
    this.sregs = [ds, sel.cs, ds, ds, sel.fs, sel.gs];
    if (mode === 'single' && rng.chance(0.25)) this.sregs[SES] = rng.pick([sel.fs, sel.gs, ds]);
    if (mode === 'single' && rng.chance(0.15)) this.sregs[SDS] = rng.pick([sel.fs, sel.gs]);
    if (rng.chance(0.1)) this.sregs[4] = rng.pick([0, ds]);
    if (rng.chance(0.1)) this.sregs[5] = rng.pick([0, ds]);
    this._initSregs = [...this.sregs];
  }

  /** Segment base of a selector in the case's GDT view; null for the null selector. */
  baseOf(selector: number): number | null {
    const s = selector & ~3;
    if (s === 0) return null;
    if (s === (this.sel.fs & ~3)) return FS_BASE;
    if (s === (this.sel.gs & ~3)) return GS_BASE;
    return 0;
  }

  segBases(): (number | null)[] {
    return this.sregs.map((s) => this.baseOf(s));
  }

  /** Segment registers that allow writes (a code selector in a data register does not). */
  segWritable(): boolean[] {
    return this.sregs.map((s) => (s & ~3) !== (this.sel.cs & ~3));
  }

  // ---- per-instruction register wants -----------------------------------------------------

  beginInsn(): void {
    this._wants = new Map();
    this._patched = new Set();
  }

  /** Pinned registers for the memory planner: ESP always, and what is already wanted. */
  pinned(): Map<number, number> {
    const m = new Map<number, number>();
    m.set(ESP, this.esp);
    for (const [r, v] of this._wants) m.set(r, v);
    return m;
  }

  isWanted(r: number): boolean {
    return this._wants.has(r);
  }

  /** Make register r hold `value` (low `width` bits) when the next instruction runs. */
  want(r: number, value: number, width: 8 | 16 | 32 = 32, high8 = false): void {
    if (r === ESP) throw new GenFail('ESP is pinned: only stack forms move it');
    const prev = this._wants.get(r);
    const mask = width === 32 ? 0xffffffff : width === 16 ? 0xffff : 0xff;
    const shift = high8 ? 8 : 0;
    if (prev !== undefined) {
      if (((prev >>> shift) & mask) !== (value & mask)) throw new GenFail(`register ${r} wanted twice`);
      return;
    }
    if (this.mode === 'single') {
      const cur = this.gpr[r] as number;
      const nv = ((cur & ~(mask << shift)) | ((value & mask) << shift)) >>> 0;
      this.gpr[r] = nv;
      this._wants.set(r, nv);
    } else {
      if (width === 32) this.emit([0xb8 + r, ...le(value, 4)]);
      else if (width === 16) this.emit([0x66, 0xb8 + r, ...le(value, 2)]);
      else this.emit([0xb0 + r + (high8 ? 4 : 0), value & 0xff]);
      // In seq mode the full value is only known for 32-bit wants.
      this._wants.set(r, width === 32 ? value >>> 0 : (value & mask) << shift);
    }
  }

  /** Make memory at `linear` hold `bytes` when the next instruction runs. */
  wantMem(linear: number, bytes: number[], mem?: MemOperand): void {
    const off = linear - DATA_BASE;
    if (off < 0 || off + bytes.length > DATA_SIZE) throw new GenFail('wantMem outside the data region');
    if (this.mode === 'single') {
      for (let i = 0; i < bytes.length; i++) {
        if (this._patched.has(off + i)) throw new GenFail('memory byte wanted twice');
        this._patched.add(off + i);
      }
      this.patches.push({ off, bytes: Uint8Array.from(bytes) });
      return;
    }
    // seq: store through the same operand (its registers are already set), 4/2/1 bytes at a time.
    if (!mem) throw new GenFail('seq wantMem needs the operand');
    if (!this.segWritable()[mem.seg]) throw new GenFail('cannot store through a code segment');
    const delta = linear - mem.linear;
    let i = 0;
    while (i < bytes.length) {
      const n = bytes.length - i >= 4 ? 4 : bytes.length - i >= 2 ? 2 : 1;
      const t = this.retargetDisp(mem, delta + i);
      if (!t) throw new GenFail('cannot address the stored bytes');
      const val = bytes.slice(i, i + n);
      if (n === 4) this.emit([...mem.prefixes, 0xc7, t.modrm, ...t.tail, ...val]);
      else if (n === 2) this.emit([...mem.prefixes, 0x66, 0xc7, t.modrm, ...t.tail, ...val]);
      else this.emit([...mem.prefixes, 0xc6, t.modrm, ...t.tail, ...val]);
      i += n;
    }
  }

  /** The same operand moved by `delta` bytes: needs a displacement field to absorb it. */
  retargetDisp(mem: MemOperand, delta: number): { modrm: number; tail: number[] } | undefined {
    if (delta === 0) return { modrm: mem.modrm, tail: [...mem.tail] };
    const mod = mem.modrm >> 6, rm = mem.modrm & 7;
    const a16 = mem.prefixes.includes(0x67);
    const hasSib = !a16 && rm === 4 && mod !== 3;
    const dispAt = hasSib ? 1 : 0;
    const dispSize = a16
      ? (mod === 0 && rm === 6 ? 2 : mod === 1 ? 1 : mod === 2 ? 2 : 0)
      : (mod === 1 ? 1 : mod === 2 ? 4 : (mod === 0 && (rm === 5 || (hasSib && ((mem.tail[0] as number) & 7) === 5))) ? 4 : 0);
    if (dispSize < 2) return undefined; // keep it simple: only wide displacements absorb
    const tail = [...mem.tail];
    let d = 0;
    for (let i = 0; i < dispSize; i++) d |= (tail[dispAt + i] as number) << (8 * i);
    d = (d + delta) | 0;
    const bytes = le(d, dispSize);
    for (let i = 0; i < dispSize; i++) tail[dispAt + i] = bytes[i] as number;
    return { modrm: mem.modrm, tail };
  }

  /** Set DF for the next instruction. */
  wantDf(on: boolean): void {
    if (this.mode === 'single') this.eflags = on ? this.eflags | DF : this.eflags & ~DF;
    else this.emit([on ? 0xfd : 0xfc]);
  }

  /** Make flags in `mask` defined before a reader (seq: a cmp; single: always defined). */
  defineFlags(mask: number): void {
    if ((this.undef & mask) === 0) return;
    const a = this.rng.below(8), b = this.rng.below(8);
    this.emit([this.rng.chance(0.5) ? 0x39 : 0x3b, 0xc0 | (a << 3) | b]);
    this.undef = 0;
  }

  /** Apply an instruction's flag effect to the undefined-flag tracking. */
  flagsEffect(w: number, u: number): void {
    this.undef = (this.undef & ~w) | u;
  }

  // ---- memory operands --------------------------------------------------------------------

  /** Plan a memory operand and make its registers hold the needed values. */
  mem(cls: AddrClass, span: number, write: boolean, opts: { avoid?: Iterable<number>; lo?: number; hi?: number; espBias?: number; before?: number; overrides?: boolean } = {}): MemOperand {
    const avoid = new Set<number>(opts.avoid ?? []);
    const m = planMem(this.rng, cls, {
      span, pinned: this.pinned(), avoid, write, overrides: opts.overrides ?? true,
      lo: opts.lo, hi: opts.hi, espBias: opts.espBias, before: opts.before,
    }, { base: this.segBases(), writable: this.segWritable() });
    if (!m) throw new GenFail(`no ${cls} operand`);
    for (const [r, v] of m.regs) {
      if (r === ESP) throw new GenFail('operand wants ESP');
      this.want(r, v);
    }
    return m;
  }

  // ---- code and layout --------------------------------------------------------------------

  emit(bytes: readonly number[]): void {
    for (const b of bytes) this.code.push(b & 0xff);
  }

  get pos(): number {
    return this.code.length;
  }

  newLabel(): number {
    this._labels.push(-1);
    return this._labels.length - 1;
  }

  bind(label: number): void {
    this._labels[label] = this.code.length;
  }

  /** Emit a 4-byte absolute address of `label` (for push imm32, mov r,imm32, far pointers). */
  absRef(label: number): void {
    this._fixups.push({ at: this.code.length, size: 4, label, kind: 'abs', from: 0 });
    this.emit([0, 0, 0, 0]);
  }

  /** Emit a rel8/rel32 field to `label`, relative to the end of the instruction at `end`. */
  relRef(label: number, size: 1 | 4, end: number): void {
    this._fixups.push({ at: this.code.length, size, label, kind: 'rel', from: end });
    this.emit(size === 1 ? [0] : [0, 0, 0, 0]);
  }

  /** In single mode an absolute code address goes into a register or memory after layout. */
  private readonly _lateRegs: Array<[number, number]> = [];
  private readonly _lateMem: Array<[number, number]> = [];
  lateReg(r: number, label: number): void {
    this._lateRegs.push([r, label]);
    this._wants.set(r, 0);
  }
  lateMem(linear: number, label: number): void {
    this._lateMem.push([linear - DATA_BASE, label]);
  }

  finish(label: string): TestCase {
    const addr = (l: number): number => {
      const off = this._labels[l];
      if (off === undefined || off < 0) throw new Error(`unbound label ${l} in ${label}`);
      return CODE_BASE + off;
    };
    for (const f of this._fixups) {
      let v = addr(f.label);
      if (f.kind === 'rel') {
        v = v - (CODE_BASE + f.from);
        if (f.size === 1 && (v < -128 || v > 127)) throw new GenFail('rel8 out of range');
      }
      const b = le(v, f.size);
      for (let i = 0; i < f.size; i++) this.code[f.at + i] = b[i] as number;
    }
    for (const [r, l] of this._lateRegs) this.gpr[r] = addr(l) >>> 0;
    for (const [off, l] of this._lateMem) this.patches.push({ off, bytes: Uint8Array.from(le(addr(l), 4)) });
    return {
      label,
      code: Uint8Array.from(this.code),
      gpr: [...this.gpr],
      eflags: this.eflags,
      ds: this._initSregs[SDS] as number,
      es: this._initSregs[SES] as number,
      fs: this._initSregs[4] as number,
      gs: this._initSregs[5] as number,
      fillSeed: this.rng.u32(),
      patches: this.patches,
      x87: this.x87,
      undef: { eflags: this.undef, fsw: this.fswUndef },
    };
  }

  /** Seq mode: undo a row that could not be placed. */
  snapshot(): Snapshot {
    return { code: this.code.length, esp: this.esp, undef: this.undef, fsw: this.fswUndef, sregs: [...this.sregs], fixups: this._fixups.length, labels: this._labels.length };
  }

  restore(s: Snapshot): void {
    this.code.length = s.code;
    this.esp = s.esp; this.undef = s.undef; this.fswUndef = s.fsw;
    s.sregs.forEach((v, i) => { this.sregs[i] = v; });
    this._fixups.length = s.fixups;
    this._labels.length = s.labels;
  }

  /** Check a new ESP value against the stack window (seq mode). */
  stackOk(newEsp: number): boolean {
    if (this.mode === 'single') return newEsp >= DATA_BASE + 0x80 && newEsp <= DATA_BASE + DATA_SIZE - 0x10;
    return newEsp >= DATA_BASE + STACK_LO && newEsp <= DATA_BASE + STACK_HI;
  }

  /** SS must stay flat (the oracle's exit path relies on it). */
  get ssFlat(): boolean {
    return this.baseOf(this.sregs[SSS] as number) === 0;
  }
}

export interface Snapshot {
  readonly code: number;
  readonly esp: number;
  readonly undef: number;
  readonly fsw: number;
  readonly sregs: readonly number[];
  readonly fixups: number;
  readonly labels: number;
}

export function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}
