/**
 * The differential suites, each a deterministic function of (seed, scale) -> test cases:
 *  - forms: every row of the form table with every operand class it takes (register,
 *    nine 32-bit ModRM/SIB shapes, four 16-bit shapes), lock-prefixed where legal, in
 *    single-instruction cases with edge-biased operands;
 *  - seq: random runs of 4..24 instructions mixing all non-faulting rows, a third of
 *    them with x87 rows, so lazy-flag and state-carrying bugs between instructions show;
 *  - exhaustive: small spaces enumerated completely (BCD adjusts over every AL and CF/AF,
 *    AAM/AAD over every AL/AH for a few bases, every shift/rotate count on edge values).
 *
 * Invariants: a suite's case i depends only on (seed, scale, i's position), so
 * `X86_ONLY=suite:i` replays one case exactly; GenFail retries draw from the same Rng.
 */

import { ALL_ADDR_CLASSES } from './addressing.ts';
import { CaseBuilder, GenFail } from './case_builder.ts';
import { FORMS, SEQ_FORMS, shiftFx, type Form } from './forms.ts';
import { emitForm, type Operand } from './gen_insn.ts';
import { AF, CF, DATA_BASE, STATUS, type Selectors } from './layout.ts';
import type { TestCase } from './protocol.ts';
import { Rng } from './rng.ts';
import { randomFsave } from './x87_state.ts';

export type SuiteName = 'forms' | 'seq' | 'exhaustive';
export const SUITES: readonly SuiteName[] = ['forms', 'seq', 'exhaustive'];

/** The operand classes a row is generated with. */
export function operandsOf(f: Form): Operand[] {
  if (!f.rm) return [];
  const mems = ALL_ADDR_CLASSES as readonly Operand[];
  if (f.rm === 'r') return ['reg'];
  if (f.rm === 'm') return [...mems];
  return ['reg', ...mems];
}

function single(seed: number, sel: Selectors, f: Form, operand: Operand | undefined, lock: boolean, tag: string): TestCase {
  const rng = new Rng(seed);
  for (let attempt = 0; attempt < 64; attempt++) {
    const b = new CaseBuilder(rng, 'single', sel);
    if (f.kind === 'x87') b.x87 = randomFsave(rng);
    try {
      emitForm(b, f, operand, lock);
      return b.finish(`forms ${f.name}${operand ? ` [${operand}]` : ''}${lock ? ' lock' : ''}${tag}`);
    } catch (e) {
      if (!(e instanceof GenFail)) throw e;
    }
  }
  throw new Error(`forms: cannot generate ${f.name} with ${operand ?? 'no operand'} (seed ${seed})`);
}

/** Every row x operand class (x lock), `reps` cases each. */
export function formsSuite(seed: number, sel: Selectors, scale: number): TestCase[] {
  const out: TestCase[] = [];
  const reps = Math.max(1, Math.round(2 * scale));
  let k = 0;
  for (const f of FORMS) {
    const ops = operandsOf(f);
    const variants: Array<[Operand | undefined, boolean]> = ops.length ? ops.map((o) => [o, false]) : [[undefined, false]];
    if (f.lock) variants.push(['base+d8', true], ['sib+d32', true], ['a16+d8', true]);
    const n = f.kind === 'fault' ? 1 : reps;
    for (const [op, lock] of variants) {
      for (let i = 0; i < n; i++) out.push(single((seed ^ Math.imul(++k, 0x9e3779b1)) >>> 0, sel, f, op, lock, ''));
    }
  }
  return out;
}

/** Random instruction runs. */
export function seqSuite(seed: number, sel: Selectors, scale: number): TestCase[] {
  const out: TestCase[] = [];
  const n = Math.max(1, Math.round(1500 * scale));
  const intForms = SEQ_FORMS.filter((f) => f.kind !== 'x87');
  for (let i = 0; i < n; i++) {
    const rng = new Rng((seed ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
    const withX87 = rng.chance(0.33);
    const b = new CaseBuilder(rng, 'seq', sel);
    if (withX87) b.x87 = randomFsave(rng);
    const pool = withX87 ? SEQ_FORMS : intForms;
    const len = rng.range(4, 24);
    let placed = 0;
    for (let tries = 0; placed < len && tries < len * 8; tries++) {
      const f = rng.pick(pool);
      const mark = b.snapshot();
      try {
        emitForm(b, f, undefined, rng.chance(0.2));
        placed++;
      } catch (e) {
        if (!(e instanceof GenFail)) throw e;
        b.restore(mark);
      }
      if (b.ended) break;
    }
    out.push(b.finish(`seq ${placed} insns${withX87 ? ' +x87' : ''}`));
  }
  return out;
}

/** Small spaces, enumerated. */
export function exhaustiveSuite(seed: number, sel: Selectors): TestCase[] {
  const out: TestCase[] = [];
  const rng = new Rng(seed);
  const base = (code: number[], gpr: number[], eflags: number, label: string, undef: number): TestCase => ({
    label, code: Uint8Array.from(code), gpr, eflags: eflags | 0x202, ds: sel.ds, es: sel.ds, fs: sel.fs, gs: sel.gs,
    fillSeed: rng.u32(), patches: [], undef: { eflags: undef, fsw: 0 },
  });
  const regs = (eax: number): number[] => [eax >>> 0, rng.u32(), rng.u32(), rng.u32(), DATA_BASE + 0x1800, rng.u32(), rng.u32(), rng.u32()];
  // BCD adjusts: every AL with every CF/AF (AH random).
  const OFm = 1 << 11;
  for (const [name, op, undef] of [['daa', 0x27, OFm], ['das', 0x2f, OFm], ['aaa', 0x37, OFm | 0xc4], ['aas', 0x3f, OFm | 0xc4]] as const) {
    for (let al = 0; al < 256; al++) for (let fl = 0; fl < 4; fl++) {
      const eflags = (fl & 1 ? CF : 0) | (fl & 2 ? AF : 0) | (rng.u32() & (STATUS & ~(CF | AF)));
      out.push(base([op], regs((rng.u32() & 0xffff0000) | (rng.below(256) << 8) | al), eflags, `exhaustive ${name} al=${al} cf=${fl & 1} af=${fl >> 1}`, undef));
    }
  }
  // AAM/AAD: every AL (and a sample of AH) for a few bases.
  const aUndef = OFm | AF | CF;
  for (const imm of [10, 16, 7, 1, 255]) {
    for (let al = 0; al < 256; al++) {
      out.push(base([0xd4, imm], regs((rng.u32() & 0xffff0000) | (rng.below(256) << 8) | al), rng.u32() & STATUS, `exhaustive aam ${imm} al=${al}`, aUndef));
      out.push(base([0xd5, imm], regs((rng.u32() & 0xffff0000) | (rng.below(256) << 8) | al), rng.u32() & STATUS, `exhaustive aad ${imm} al=${al}`, aUndef));
    }
  }
  // Shifts and rotates: every count 0..40 through CL, for each size, on edge values.
  const SH = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', '', 'sar'];
  for (let d = 0; d < 8; d++) {
    if (SH[d] === '') continue;
    for (const size of [8, 16, 32] as const) for (let count = 0; count <= 40; count++) {
      const v = rng.edge(size);
      const pre = size === 16 ? [0x66] : [];
      const op = size === 8 ? 0xd2 : 0xd3;
      const fx = shiftFxFor(SH[d] as string, size, count);
      const eax = size === 32 ? v : ((rng.u32() & (size === 8 ? 0xffffff00 : 0xffff0000)) | v) >>> 0;
      const g = regs(eax);
      g[1] = ((g[1] as number) & 0xffffff00 | count) >>> 0;
      out.push(base([...pre, op, 0xc0 | (d << 3)], g, rng.u32() & STATUS, `exhaustive ${SH[d]}${size} cl=${count} v=${v.toString(16)}`, fx));
    }
  }
  // SHLD/SHRD every count (16-bit: the defined ones).
  for (const [name, op] of [['shld', 0xa5], ['shrd', 0xad]] as const) for (const size of [16, 32] as const) {
    for (let count = 0; count < 32; count++) {
      if (size === 16 && count > 16) continue;
      const g = regs(rng.edge(size));
      g[1] = ((g[1] as number) & 0xffffff00 | count) >>> 0;
      g[3] = rng.reg32();
      out.push(base([...(size === 16 ? [0x66] : []), 0x0f, op, 0xd8], g, rng.u32() & STATUS, `exhaustive ${name}${size} cl=${count}`, shiftFxFor(name, size, count)));
    }
  }
  return out;
}

function shiftFxFor(op: string, size: 8 | 16 | 32, count: number): number {
  return shiftFx(op, size, count).u;
}

export function suiteCases(name: SuiteName, seed: number, sel: Selectors, scale: number): TestCase[] {
  switch (name) {
    case 'forms': return formsSuite(seed, sel, scale);
    case 'seq': return seqSuite(seed, sel, scale);
    case 'exhaustive': return exhaustiveSuite(seed, sel);
  }
}

