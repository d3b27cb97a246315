/**
 * The x87 against the host's real x87: every x87 encoding (register forms exhaustively, all
 * memory forms, FXSAVE/FXRSTOR, the 16-bit image layouts) runs on a seeded random initial
 * state in runner.c on the host CPU and through src/hw/cpu/fpu with a memory shim; the
 * resulting states (registers, tags, status/control words, FIP, condition codes, EFLAGS, EAX
 * and every byte of the operand area) must agree bit for bit, except the masks compare.ts
 * documents.
 *
 * Replay: X87_SEED=<seed> X87_PER_OP=<n> npx vitest run tests/x86/fpu_native
 * (X87_PER_OP defaults to 120 cases per encoding, about 58,000 cases.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OPS, buildCase, type X87Case } from './cases.ts';
import { compareRecords, describeCase } from './compare.ts';
import { emulateCase } from './emulate.ts';
import { IN_SIZE, MAX_BATCH, OUT_SIZE, runNative, runnerAddresses } from './native.ts';
import { Rng } from './rng.ts';

const SEED = Number(process.env.X87_SEED ?? 0x87);
const PER_OP = Number(process.env.X87_PER_OP ?? 120);

let memBase = 0;
let codeAddr = 0;

beforeAll(() => {
  ({ memBase, codeAddr } = runnerAddresses());
});

function runAll(cases: readonly X87Case[]): Uint8Array {
  const out = new Uint8Array(cases.length * OUT_SIZE);
  for (let s = 0; s < cases.length; s += MAX_BATCH) {
    const part = cases.slice(s, s + MAX_BATCH);
    const input = new Uint8Array(part.length * IN_SIZE);
    part.forEach((c, i) => input.set(c.input, i * IN_SIZE));
    out.set(runNative(input).records, s * OUT_SIZE);
  }
  return out;
}

describe('x87 vs the host CPU', () => {
  it(`agrees on every encoding (${PER_OP} random states each, seed ${SEED})`, () => {
    const r = new Rng(SEED);
    const cases: X87Case[] = [];
    for (const op of OPS) for (let k = 0; k < PER_OP; k++) cases.push(buildCase(r, op, memBase));
    const native = runAll(cases);
    const failures: string[] = [];
    let transExact = 0, transTotal = 0;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i];
      const nat = native.subarray(i * OUT_SIZE, (i + 1) * OUT_SIZE);
      const emu = emulateCase(c.input, memBase, codeAddr);
      const m = compareRecords(c, nat, emu);
      if (c.op.trans === true) {
        transTotal++;
        if (nat.subarray(32, 160).every((b, k) => b === emu[32 + k])) transExact++;
      }
      if (m.length > 0 && failures.length < 10) {
        failures.push(`case ${i} (seed ${SEED}):\n${describeCase(c)}\n${m.map((x) => `    ${x.field}: native ${x.native} emulated ${x.emulated}`).join('\n')}`);
      }
      if (m.length > 0 && failures.length >= 10) failures.push('');
    }
    const bad = failures.length;
    console.log(`x87 differential: ${cases.length} cases on the host, ${bad} mismatching; transcendentals bit-exact ${transExact}/${transTotal}`);
    if (bad > 0) console.log(failures.filter((f) => f !== '').join('\n\n'));
    expect(bad).toBe(0);
  }, 600_000);

  it('notices a wrong result (the comparison can fail)', () => {
    const r = new Rng(SEED + 1);
    const op = OPS.find((o) => o.name === 'fadd st0,st1');
    if (op === undefined) throw new Error('catalog lacks fadd st0,st1');
    const c = buildCase(r, op, memBase);
    const nat = runAll([c]);
    const emu = emulateCase(c.input, memBase, codeAddr);
    expect(compareRecords(c, nat, emu)).toEqual([]);
    emu[32] ^= 1; // ST0 bit 0
    expect(compareRecords(c, nat, emu).map((m) => m.field)).toContain('ST0');
    emu[32] ^= 1;
    emu[2] ^= 0x20; // PE
    expect(compareRecords(c, nat, emu).map((m) => m.field)).toContain('FSW');
  });
});
