/**
 * Test cases and final states as data, and the byte format the native oracle reads and
 * writes (native/oracle.c speaks the same format; the version number guards changes).
 *
 * Input:  "X86C" version count, then per case:
 *           id flags gpr[8] eflags | ds es fs gs (u16) | fillSeed | npatch codeLen (u16)
 *           patches (off u16, len u16, bytes) | code | [FSAVE image if flags & CASE_X87]
 * Output: "X86R" version count cs ss fsSel gsSel (u16), then per case:
 *           id status signo trapno err cr2 | gpr[8] eip eflags | cs ss ds es fs gs (u16)
 *           nruns (u16), runs (off u16, len u16, bytes) | [FSAVE image]
 *
 * Invariants:
 *  - A case's initial data region is fillDataRegion(fillSeed) with its patches applied;
 *    the oracle computes the same fill (splitmix32, 4 bytes per step, little-endian).
 *  - A FinalState's `mem` is the whole data region after the case, whichever side made it.
 */

import { DATA_SIZE, type Selectors } from './layout.ts';

export const CASE_X87 = 1;
export const FSAVE_SIZE = 108;
const IN_MAGIC = 0x43363858;
const OUT_MAGIC = 0x52363858;
const WIRE_VERSION = 1;

export interface Patch {
  readonly off: number;
  readonly bytes: Uint8Array;
}

/** Which outputs are architecturally undefined for this case and must not be compared. */
export interface UndefMask {
  /** EFLAGS bits whose final value is undefined. */
  readonly eflags: number;
  /** x87 status word bits whose final value is undefined (C0..C3 after many ops). */
  readonly fsw: number;
}

export interface TestCase {
  /** Suite and form label, for reports ("single add rm32,r32 [sib+d8]"). */
  readonly label: string;
  readonly code: Uint8Array;
  /** eax ecx edx ebx esp ebp esi edi */
  readonly gpr: readonly number[];
  readonly eflags: number;
  readonly ds: number;
  readonly es: number;
  readonly fs: number;
  readonly gs: number;
  readonly fillSeed: number;
  readonly patches: readonly Patch[];
  /** 108-byte FSAVE (32-bit protected-mode) image to load before; also asks for it after. */
  readonly x87?: Uint8Array;
  readonly undef: UndefMask;
}

export type Status = 'done' | 'fault' | 'timeout';

export interface FinalState {
  readonly status: Status;
  /** Exception vector when status is 'fault' (native: the kernel's trapno). */
  readonly vector: number;
  readonly err: number;
  readonly cr2: number;
  /** The native signal number (0 for the emulator side). */
  readonly signo: number;
  readonly gpr: readonly number[];
  readonly eip: number;
  readonly eflags: number;
  readonly cs: number;
  readonly ss: number;
  readonly ds: number;
  readonly es: number;
  readonly fs: number;
  readonly gs: number;
  readonly mem: Uint8Array;
  readonly x87?: Uint8Array;
}

/** The initial contents of the data region of a case: its fill, then its patches. */
export function initialData(c: Pick<TestCase, 'fillSeed' | 'patches'>): Uint8Array {
  const m = new Uint8Array(DATA_SIZE);
  let s = c.fillSeed | 0;
  for (let i = 0; i < DATA_SIZE; i += 4) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    m[i] = z; m[i + 1] = z >>> 8; m[i + 2] = z >>> 16; m[i + 3] = z >>> 24;
  }
  for (const p of c.patches) m.set(p.bytes, p.off);
  return m;
}

class Writer {
  private _buf = new Uint8Array(1 << 16);
  private _len = 0;
  private _ensure(n: number): void {
    if (this._len + n <= this._buf.length) return;
    let size = this._buf.length * 2;
    while (size < this._len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this._buf.subarray(0, this._len));
    this._buf = b;
  }
  u8(v: number): void { this._ensure(1); this._buf[this._len++] = v; }
  u16(v: number): void { this._ensure(2); this._buf[this._len++] = v; this._buf[this._len++] = v >>> 8; }
  u32(v: number): void { this.u16(v & 0xffff); this.u16(v >>> 16); }
  bytes(b: Uint8Array): void { this._ensure(b.length); this._buf.set(b, this._len); this._len += b.length; }
  done(): Uint8Array { return this._buf.subarray(0, this._len); }
}

export function encodeCases(cases: readonly TestCase[]): Uint8Array {
  const w = new Writer();
  w.u32(IN_MAGIC); w.u32(WIRE_VERSION); w.u32(cases.length);
  cases.forEach((c, id) => {
    if (c.code.length > 0x1ff0) throw new Error(`case ${id} (${c.label}): code of ${c.code.length} bytes is too long`);
    if (c.gpr.length !== 8) throw new Error(`case ${id} (${c.label}): needs 8 GPRs`);
    w.u32(id); w.u32(c.x87 ? CASE_X87 : 0);
    for (const r of c.gpr) w.u32(r >>> 0);
    w.u32(c.eflags >>> 0);
    w.u16(c.ds); w.u16(c.es); w.u16(c.fs); w.u16(c.gs);
    w.u32(c.fillSeed >>> 0);
    w.u16(c.patches.length); w.u16(c.code.length);
    for (const p of c.patches) {
      if (p.off < 0 || p.off + p.bytes.length > DATA_SIZE) throw new Error(`case ${id} (${c.label}): patch at ${p.off} outside the data region`);
      w.u16(p.off); w.u16(p.bytes.length); w.bytes(p.bytes);
    }
    w.bytes(c.code);
    if (c.x87) {
      if (c.x87.length !== FSAVE_SIZE) throw new Error(`case ${id} (${c.label}): x87 image must be ${FSAVE_SIZE} bytes`);
      w.bytes(c.x87);
    }
  });
  return w.done();
}

export interface DecodedBatch {
  readonly selectors: Selectors & { readonly ss: number };
  readonly states: FinalState[];
}

export function decodeResults(out: Uint8Array, cases: readonly TestCase[]): DecodedBatch {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = 0;
  const need = (n: number): void => {
    if (p + n > out.length) throw new Error(`oracle output truncated at byte ${p} of ${out.length}`);
  };
  const u16 = (): number => { need(2); const v = dv.getUint16(p, true); p += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(p, true); p += 4; return v; };
  if (u32() !== OUT_MAGIC) throw new Error('oracle output: bad magic');
  const ver = u32();
  if (ver !== WIRE_VERSION) throw new Error(`oracle output: wire version ${ver}, expected ${WIRE_VERSION}`);
  const count = u32();
  if (count !== cases.length) throw new Error(`oracle output: ${count} results for ${cases.length} cases`);
  const cs = u16(), ss = u16(), fs = u16(), gs = u16();
  const states: FinalState[] = [];
  for (let i = 0; i < count; i++) {
    const c = cases[i] as TestCase; // SAFETY: i < count === cases.length
    const id = u32();
    if (id !== i) throw new Error(`oracle output: result ${i} carries id ${id}`);
    const st = u32();
    const status: Status = st === 0 ? 'done' : st === 1 ? 'fault' : st === 2 ? 'timeout' : (() => { throw new Error(`oracle output: status ${st}`); })();
    const signo = u32(), vector = u32(), err = u32(), cr2 = u32();
    const gpr: number[] = [];
    for (let r = 0; r < 8; r++) gpr.push(u32());
    const eip = u32(), eflags = u32();
    const fcs = u16(), fss = u16(), fds = u16(), fes = u16(), ffs = u16(), fgs = u16();
    const mem = initialData(c);
    const nruns = u16();
    for (let r = 0; r < nruns; r++) {
      const off = u16(), len = u16();
      need(len);
      if (off + len > DATA_SIZE) throw new Error(`oracle output: run ${off}+${len} outside the data region`);
      mem.set(out.subarray(p, p + len), off);
      p += len;
    }
    let x87: Uint8Array | undefined;
    if (c.x87) { need(FSAVE_SIZE); x87 = out.slice(p, p + FSAVE_SIZE); p += FSAVE_SIZE; }
    states.push({
      status, vector: status === 'fault' ? vector : 0, err: status === 'fault' ? err : 0,
      cr2: status === 'fault' && vector === 14 ? cr2 : 0, signo,
      gpr, eip, eflags, cs: fcs, ss: fss, ds: fds, es: fes, fs: ffs, gs: fgs, mem, x87,
    });
  }
  if (p !== out.length) throw new Error(`oracle output: ${out.length - p} trailing bytes`);
  return { selectors: { cs, ds: ss, ss, fs, gs }, states };
}
