/**
 * Field-by-field comparison of a native and an emulated x87 result record, with the masks the
 * architecture allows (each one names its reason), and a readable report of a mismatch.
 *
 * Masks (see docs/x87.md, "Differential test"):
 *  - FCS and FDS: the host reports CPUID.07H:EBX[13] (FCS/FDS deprecated, stored as 0); the
 *    emulated P6-class CPU records them.
 *  - FDP and FOP: the host reports CPUID.07H:EBX[6] (FDP updated only on unmasked exceptions)
 *    and likewise leaves FOP alone unless an unmasked exception is pending; both are compared
 *    only when the instruction left an unmasked exception pending (FDP: if it had a memory
 *    operand). FIP is always compared.
 *  - FXSAVE bytes 160..511 (XMM registers, available area) and MXCSR_MASK: the emulated CPU
 *    has no SSE unit.
 *  - Transcendentals: register results may differ by 1 ulp (SDM vol. 1 §8.3.10: < 1 ulp), and
 *    C1 ("rounded up", which describes the hardware's own approximation) is not compared.
 */
import type { X87Case } from './cases.ts';
import { IN_CODE, OUT_EAX, OUT_EFLAGS, OUT_FSAVE, OUT_FXSAVE, OUT_MEM } from './native.ts';

export interface Mismatch {
  readonly field: string;
  readonly native: string;
  readonly emulated: string;
}

const hex = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

function reg80(b: Uint8Array, o: number): string {
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return `${hex(d.getUint16(o + 8, true), 4)}:${hex(d.getUint32(o + 4, true), 8)}${hex(d.getUint32(o, true), 8)}`;
}

/** |a - b| in ulps for two 80-bit encodings of the same sign, as a number (Infinity if far). */
function ulpDistance(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  const da = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const db = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sa = da.getUint16(ao + 8, true), sb = db.getUint16(bo + 8, true);
  if ((sa ^ sb) & 0x8000) return Infinity;
  const va = (BigInt(sa & 0x7fff) << 64n) | (BigInt(da.getUint32(ao + 4, true)) << 32n) | BigInt(da.getUint32(ao, true));
  const vb = (BigInt(sb & 0x7fff) << 64n) | (BigInt(db.getUint32(bo + 4, true)) << 32n) | BigInt(db.getUint32(bo, true));
  // Adjacent encodings across a binade step differ by 2^63 + ... ; fold the J bit away.
  const norm = (v: bigint): bigint => ((v >> 64n) << 63n) | (v & ((1n << 63n) - 1n));
  const diff = norm(va) - norm(vb);
  const d = diff < 0n ? -diff : diff;
  return d > 4n ? Infinity : Number(d);
}

const ARITH_FLAGS = 0x3f;

export function compareRecords(c: X87Case, nat: Uint8Array, emu: Uint8Array): Mismatch[] {
  const out: Mismatch[] = [];
  const dn = new DataView(nat.buffer, nat.byteOffset, nat.byteLength);
  const de = new DataView(emu.buffer, emu.byteOffset, emu.byteLength);
  const u16 = (d: DataView, o: number): number => d.getUint16(o, true);
  const u32 = (d: DataView, o: number): number => d.getUint32(o, true);
  const diff = (field: string, a: number, b: number, w: number): void => {
    if (a !== b) out.push({ field, native: hex(a, w), emulated: hex(b, w) });
  };
  const fx = OUT_FXSAVE, fs = OUT_FSAVE;
  const trans = c.op.trans === true;
  // Registers (FXSAVE, ST order) first: they decide whether C1 is compared.
  let ulpOff = false;
  for (let i = 0; i < 8; i++) {
    const o = fx + 32 + 16 * i;
    const a = reg80(nat, o), b = reg80(emu, o);
    if (a === b) continue;
    if (trans && ulpDistance(nat, o, emu, o) <= 1) { ulpOff = true; continue; }
    out.push({ field: `ST${i}`, native: a, emulated: b });
  }
  diff('FCW', u16(dn, fx), u16(de, fx), 4);
  // Transcendentals: C1 reports the rounding of the hardware's own approximation.
  if (trans) ulpOff = true;
  const swMask = ulpOff ? ~0x0200 : ~0;
  diff('FSW', u16(dn, fx + 2) & swMask, u16(de, fx + 2) & swMask, 4);
  diff('FTW (abridged)', nat[fx + 4], emu[fx + 4], 2);
  diff('FIP', u32(dn, fx + 8), u32(de, fx + 8), 8);
  const pending = (u16(dn, fx + 2) & ~u16(dn, fx) & ARITH_FLAGS) !== 0;
  const opRecorded = pending && c.op.control !== true;
  if (opRecorded) diff('FOP', u16(dn, fx + 6), u16(de, fx + 6), 3);
  if (pending && c.memOff >= 0 && c.op.control !== true) diff('FDP', u32(dn, fx + 16), u32(de, fx + 16), 8);
  diff('MXCSR', u32(dn, fx + 24), u32(de, fx + 24), 8);
  for (let i = 0; i < 8; i++) {
    for (let k = 10; k < 16; k++) diff(`FXSAVE ST${i} reserved byte ${k}`, nat[fx + 32 + 16 * i + k], emu[fx + 32 + 16 * i + k], 2);
  }
  // FNSAVE image: the full tag word and the reserved halves of the 32-bit layout.
  diff('FNSAVE CW dword', u32(dn, fs) , u32(de, fs), 8);
  diff('FNSAVE SW dword', u32(dn, fs + 4) & (ulpOff ? ~0x0200 : ~0), u32(de, fs + 4) & (ulpOff ? ~0x0200 : ~0), 8);
  diff('FNSAVE TW dword', u32(dn, fs + 8), u32(de, fs + 8), 8);
  if (opRecorded || c.op.control === true) diff('FNSAVE FOP', u32(dn, fs + 16) >>> 16, u32(de, fs + 16) >>> 16, 4);
  diff('FNSAVE FDS high half', u32(dn, fs + 24) >>> 16, u32(de, fs + 24) >>> 16, 4);
  // EFLAGS arithmetic bits and EAX.
  diff('EFLAGS', u32(dn, OUT_EFLAGS) & 0x8d5, u32(de, OUT_EFLAGS) & 0x8d5, 4);
  diff('EAX', u32(dn, OUT_EAX), u32(de, OUT_EAX), 8);
  // Operand area, with the image fields the host leaves out.
  const skip = new Set<number>();
  if (c.op.mem !== undefined && c.memOff >= 0) {
    const m = c.memOff;
    const range = (a: number, n: number): void => { for (let k = 0; k < n; k++) skip.add(m + a + k); };
    switch (c.op.mem) {
      case 'env32': case 'save32':
        if (c.op.store) { range(16, 2); range(20, 4); range(24, 2); }
        break;
      case 'env16': case 'save16':
        if (c.op.store) { range(8, 2); range(10, 2); range(12, 2); }
        break;
      case 'fx':
        if (c.op.store) { range(12, 2); range(16, 4); range(20, 2); range(28, 4); range(160, 352); }
        break;
    }
  }
  for (let k = 0; k < 512; k++) {
    if (skip.has(k)) continue;
    if (nat[OUT_MEM + k] !== emu[OUT_MEM + k]) {
      out.push({ field: `mem[+${k}]`, native: hex(nat[OUT_MEM + k], 2), emulated: hex(emu[OUT_MEM + k], 2) });
    }
  }
  return out;
}

/** A readable description of a case's initial state and instruction. */
export function describeCase(c: X87Case): string {
  const b = c.input;
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sw = d.getUint16(4, true);
  const top = (sw >> 11) & 7;
  const tw = d.getUint16(8, true);
  const lines = [
    `${c.op.name}  [${Array.from(b.subarray(IN_CODE, IN_CODE + 12), (x) => hex(x, 2)).join(' ')}]`,
    `  CW=${hex(d.getUint16(0, true), 4)} SW=${hex(sw, 4)} TOP=${top} TW=${hex(tw, 4)} FIP=${hex(d.getUint32(12, true), 8)} FOP=${hex(d.getUint32(16, true) >>> 16, 3)} FDP=${hex(d.getUint32(20, true), 8)}`,
  ];
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    const empty = ((tw >> (2 * p)) & 3) === 3;
    lines.push(`  ST${i} (R${p}) ${empty ? 'empty ' : '      '}${reg80(b, 28 + 10 * i)}`);
  }
  if (c.memOff >= 0) {
    const o = 160 + c.memOff;
    lines.push(`  mem[+${c.memOff}] = ${Array.from(b.subarray(o, o + 16), (x) => hex(x, 2)).join(' ')}`);
  }
  lines.push(`  EFLAGS=${hex(d.getUint32(112, true), 8)}`);
  return lines.join('\n');
}
