/**
 * Compare two final states of the same case field by field, masking what the architecture
 * leaves undefined, and render a failing case for a human: code bytes with a disassembly,
 * the initial state, both final states, the differing fields and a replay command.
 *
 * Invariants:
 *  - EFLAGS are compared on EFLAGS_COMPARED minus the case's undefined flags.
 *  - A fault compares vector, error code (for the vectors that push one) and CR2 (#PF);
 *    registers and memory are compared at the fault too (faults must not commit state).
 *  - x87 (FSAVE image): FCW, FSW (minus undefined C-bits), the full tag word, FIP and all
 *    eight registers; FCS, FOP, FDP and FDS are not compared because the host CPU
 *    deprecates them (CPUID.7.0:EBX bits 6 and 13: FDP only on unmasked exceptions,
 *    FCS/FDS stored as zero).
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_BASE, DATA_BASE, DATA_SIZE, EFLAGS_COMPARED, flagString, GPR_NAMES, hex16, hex32, VEC_NAMES } from './layout.ts';
import { initialData, type FinalState, type TestCase } from './protocol.ts';

export interface Diff {
  readonly field: string;
  readonly a: string;
  readonly b: string;
}

const ERR_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17]);

export function compareStates(c: TestCase, a: FinalState, b: FinalState): Diff[] {
  const d: Diff[] = [];
  const eq = (field: string, x: number, y: number, fmt: (v: number) => string = hex32): void => {
    if ((x >>> 0) !== (y >>> 0)) d.push({ field, a: fmt(x), b: fmt(y) });
  };
  if (a.status !== b.status) d.push({ field: 'status', a: describeStatus(a), b: describeStatus(b) });
  if (a.status === 'fault' && b.status === 'fault') {
    eq('vector', a.vector, b.vector, (v) => `${v} ${VEC_NAMES[v] ?? ''}`);
    if (ERR_VECTORS.has(a.vector) && a.vector === b.vector) eq('error code', a.err, b.err);
    if (a.vector === 14 && b.vector === 14) eq('cr2', a.cr2, b.cr2);
  }
  for (let r = 0; r < 8; r++) eq(GPR_NAMES[r] as string, a.gpr[r] as number, b.gpr[r] as number);
  eq('eip', a.eip, b.eip);
  const fm = EFLAGS_COMPARED & ~c.undef.eflags;
  eq('eflags', a.eflags & fm, b.eflags & fm, flagString);
  for (const s of ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const) eq(s, a[s], b[s], hex16);
  const runs = memDiff(a.mem, b.mem);
  for (const [off, len] of runs) {
    d.push({ field: `mem ${hex32(DATA_BASE + off)}+${len}`, a: hexBytes(a.mem.subarray(off, off + len)), b: hexBytes(b.mem.subarray(off, off + len)) });
  }
  if (c.x87 && a.x87 && b.x87) d.push(...compareFsave(a.x87, b.x87, c.undef.fsw));
  else if (c.x87 && (!a.x87 || !b.x87)) d.push({ field: 'x87', a: a.x87 ? 'present' : 'missing', b: b.x87 ? 'present' : 'missing' });
  return d;
}

function compareFsave(a: Uint8Array, b: Uint8Array, fswUndef: number): Diff[] {
  const d: Diff[] = [];
  const da = new DataView(a.buffer, a.byteOffset, a.byteLength), db = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (field: string, off: number, mask = 0xffff): void => {
    const x = da.getUint16(off, true) & mask, y = db.getUint16(off, true) & mask;
    if (x !== y) d.push({ field, a: hex16(x), b: hex16(y) });
  };
  w('fcw', 0, 0x1f7f);
  w('fsw', 4, 0xffff & ~fswUndef);
  w('ftw', 8);
  const fipA = da.getUint32(12, true), fipB = db.getUint32(12, true);
  if (fipA !== fipB) d.push({ field: 'fip', a: hex32(fipA), b: hex32(fipB) });
  for (let i = 0; i < 8; i++) {
    const x = hexBytes(a.subarray(28 + i * 10, 38 + i * 10)), y = hexBytes(b.subarray(28 + i * 10, 38 + i * 10));
    if (x !== y) d.push({ field: `st${i}`, a: x, b: y });
  }
  return d;
}

function memDiff(a: Uint8Array, b: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < DATA_SIZE; i++) {
    if (a[i] === b[i]) continue;
    const start = i;
    let last = i;
    for (i++; i < DATA_SIZE && i - last < 8; i++) if (a[i] !== b[i]) last = i;
    out.push([start, last - start + 1]);
    i = last;
  }
  return out;
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function describeStatus(s: FinalState): string {
  if (s.status === 'fault') return `fault ${VEC_NAMES[s.vector] ?? s.vector} err=${hex32(s.err)}`;
  return s.status;
}

/** objdump's disassembly of the code bytes (best effort: the report is still useful without). */
export function disassemble(code: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'x86dis-'));
  try {
    const f = join(dir, 'code.bin');
    writeFileSync(f, code);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386', `--adjust-vma=${CODE_BASE}`, f], { encoding: 'utf8' });
    if (r.status !== 0) return `(objdump failed: ${r.stderr.trim()})`;
    return r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:/.test(l)).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeState(s: FinalState): string {
  const lines = [
    `  ${describeStatus(s)}${s.status === 'fault' && s.vector === 14 ? ` cr2=${hex32(s.cr2)}` : ''} eip=${hex32(s.eip)} eflags=${flagString(s.eflags)}`,
    `  ${GPR_NAMES.map((n, i) => `${n}=${hex32(s.gpr[i] as number)}`).join(' ')}`,
    `  cs=${hex16(s.cs)} ss=${hex16(s.ss)} ds=${hex16(s.ds)} es=${hex16(s.es)} fs=${hex16(s.fs)} gs=${hex16(s.gs)}`,
  ];
  return lines.join('\n');
}

export function describeCase(c: TestCase): string {
  const init = initialData(c);
  const lines = [
    `case: ${c.label}`,
    `code: ${hexBytes(c.code)}`,
    disassemble(c.code),
    `initial: eflags=${flagString(c.eflags)} undefined flags=${flagString(c.undef.eflags)}${c.undef.fsw ? ` fsw undefined=${hex16(c.undef.fsw)}` : ''}`,
    `  ${GPR_NAMES.map((n, i) => `${n}=${hex32(c.gpr[i] as number)}`).join(' ')}`,
    `  ds=${hex16(c.ds)} es=${hex16(c.es)} fs=${hex16(c.fs)} gs=${hex16(c.gs)} data fill seed=${hex32(c.fillSeed)}`,
  ];
  for (const p of c.patches) lines.push(`  mem ${hex32(DATA_BASE + p.off)} = ${hexBytes(init.subarray(p.off, p.off + p.bytes.length))}`);
  if (c.x87) lines.push(`  x87 FSAVE: ${hexBytes(c.x87)}`);
  return lines.join('\n');
}

export function report(c: TestCase, nameA: string, a: FinalState, nameB: string, b: FinalState, diffs: readonly Diff[], replay: string): string {
  return [
    describeCase(c),
    `${nameA}:`, describeState(a),
    `${nameB}:`, describeState(b),
    'differences:',
    ...diffs.map((x) => `  ${x.field}: ${nameA} ${x.a} | ${nameB} ${x.b}`),
    `replay: ${replay}`,
  ].join('\n');
}
