/**
 * The native side of the differential tests checked against the host CPU itself: the oracle
 * reports known outcomes, faults arrive with the right vector and state, runs are
 * deterministic, and the generators produce cases that do what they claim (no stray
 * faults: a wrong ESP or address plan shows up here, before any emulator is involved).
 */
import { describe, expect, it } from 'vitest';
import { FORMS } from './forms.ts';
import { CF, DATA_BASE, EFLAGS_COMPARED, OF, SF, ZF, CODE_BASE } from './layout.ts';
import { nativeSelectors, runNative } from './native_oracle.ts';
import { compareStates } from './compare.ts';
import type { TestCase } from './protocol.ts';
import { seedFromEnv } from './rng.ts';
import { exhaustiveSuite, formsSuite, seqSuite } from './suites.ts';

const SEED = seedFromEnv(0x5eed_0001);

function plain(code: number[], gpr: number[], eflags = 0x202, extra: Partial<TestCase> = {}): TestCase {
  const sel = nativeSelectors();
  return {
    label: 'hand', code: Uint8Array.from(code), gpr, eflags, ds: sel.ds, es: sel.ds, fs: sel.fs, gs: sel.gs,
    fillSeed: 1, patches: [], undef: { eflags: 0, fsw: 0 }, ...extra,
  };
}

const STACK = DATA_BASE + 0x1800;

describe('x86 native oracle', () => {
  it('reports the 32-bit user selectors of the host kernel', () => {
    const s = nativeSelectors();
    expect(s.cs & 3).toBe(3);
    expect(s.ds & 3).toBe(3);
    expect(s.fs & 4).toBe(0); // GDT TLS entries, not LDT
    expect(s.fs).not.toBe(s.gs);
  });

  it('runs straight-line code and reports registers, flags and memory', () => {
    const [add, push, fsStore] = runNative([
      plain([0x01, 0xc8], [0x7fffffff, 1, 0, 0, STACK, 0, 0, 0]), // add eax,ecx -> overflow
      plain([0x50], [0xdeadbeef, 0, 0, 0, STACK, 0, 0, 0]), // push eax
      plain([0x64, 0x89, 0x08], [0x10, 0xcafef00d, 0, 0, STACK, 0, 0, 0]), // mov fs:[eax],ecx
    ]).states;
    expect(add!.status).toBe('done');
    expect(add!.gpr[0]).toBe(0x80000000);
    expect(add!.eflags & (OF | SF | ZF | CF)).toBe(OF | SF);
    expect(add!.eip).toBe(CODE_BASE + 2);
    expect(push!.gpr[4]).toBe(STACK - 4);
    expect(Array.from(push!.mem.subarray(0x17fc, 0x1800))).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(Array.from(fsStore!.mem.subarray(0x10, 0x14))).toEqual([0x0d, 0xf0, 0xfe, 0xca]);
  });

  it('reports a fault with its vector, error code and the state at the faulting instruction', () => {
    const [div0, gp, pf, hang] = runNative([
      plain([0x31, 0xc9, 0xf7, 0xf1], [5, 7, 0, 0, STACK, 0, 0, 0]), // xor ecx,ecx; div ecx
      plain([0xcd, 0x41], [0, 0, 0, 0, STACK, 0, 0, 0]), // int 0x41 -> #GP(0x20a)
      plain([0x89, 0x0d, 0, 0, 0x30, 0], [0, 0, 0, 0, STACK, 0, 0, 0]), // mov [0x300000],ecx
      plain([0xeb, 0xfe], [0, 0, 0, 0, STACK, 0, 0, 0]), // jmp $ (stopped by the timer)
    ]).states;
    expect([div0!.status, div0!.vector, div0!.eip, div0!.gpr[1]]).toEqual(['fault', 0, CODE_BASE + 2, 0]);
    expect([gp!.vector, gp!.err]).toEqual([13, 0x41 * 8 + 2]);
    expect([pf!.vector, pf!.cr2, pf!.err & 7]).toEqual([14, 0x300000, 6]);
    expect(hang!.status).toBe('timeout');
  });

  it('raises the expected exception for every fault row of the form table', () => {
    const rows = FORMS.filter((f) => f.kind === 'fault');
    const cases = rows.map((f) => plain([...f.op], [DATA_BASE + 0x100, 0, 0, 0, STACK, 0, 0, 0], 0x202, { label: f.name }));
    const states = runNative(cases).states;
    const got = rows.map((f, i) => `${f.name}: ${states[i]!.status} ${states[i]!.vector}`);
    expect(got).toEqual(rows.map((f) => `${f.name}: fault ${f.vector}`));
  });

  it('is deterministic: the same batch twice gives the same states', () => {
    const sel = nativeSelectors();
    const cases = [...seqSuite(SEED, sel, 0.2), ...formsSuite(SEED, sel, 0.5).filter((_, i) => i % 7 === 0)];
    const a = runNative(cases).states, b = runNative(cases).states;
    const bad = cases.map((c, i) => compareStates(c, a[i]!, b[i]!)).filter((d) => d.length > 0);
    expect(bad).toEqual([]);
  });
});

describe('x86 generators (checked on the host CPU)', () => {
  const sel = nativeSelectors();
  // Rows whose single-instruction cases may fault by design.
  const MAY_FAULT = new Set(['fault', 'lptr', 'bound', 'popsr', 'movsr', 'div']);

  it(`forms: only rows that may fault do (seed ${SEED})`, () => {
    const cases = formsSuite(SEED, sel, 1);
    const states = runNative(cases).states;
    const stray: string[] = [];
    cases.forEach((c, i) => {
      const s = states[i]!;
      if (s.status === 'done') return;
      const row = FORMS.find((f) => c.label === `forms ${f.name}` || c.label.startsWith(`forms ${f.name} [`) || c.label === `forms ${f.name} lock`);
      const ok = row !== undefined && (MAY_FAULT.has(row.kind) || (row.sub === 'aam' && s.vector === 0) || (row.name === 'into' && s.vector === 4));
      if (!ok) stray.push(`${i} ${c.label}: ${s.status} vector ${s.vector} at ${s.eip.toString(16)}`);
    });
    expect(stray).toEqual([]);
  });

  it(`seq: runs complete, except divides and INTO that trap (seed ${SEED})`, () => {
    const cases = seqSuite(SEED, sel, 1);
    const states = runNative(cases).states;
    const stray = cases.flatMap((c, i) => {
      const s = states[i]!;
      return s.status === 'done' || (s.status === 'fault' && (s.vector === 0 || s.vector === 4)) ? [] : [`${i} ${c.label}: ${s.status} ${s.vector} at ${s.eip.toString(16)}`];
    });
    expect(stray).toEqual([]);
    expect(cases.length).toBeGreaterThan(1000);
  });

  it('exhaustive: every case completes', () => {
    const cases = exhaustiveSuite(SEED, sel);
    const states = runNative(cases).states;
    expect(states.filter((s) => s.status !== 'done').length).toBe(0);
    // Spot check the BCD space against the SDM's DAA algorithm.
    cases.forEach((c, i) => {
      if (!c.label.startsWith('exhaustive daa')) return;
      const al = c.gpr[0]! & 0xff, cf = c.eflags & CF, af = (c.eflags >> 4) & 1;
      let nal = al, ncf = 0;
      if ((al & 0xf) > 9 || af) { nal = (al + 6) & 0xff; ncf = cf || al + 6 > 0xff ? 1 : 0; }
      if (al > 0x99 || cf) { nal = (nal + 0x60) & 0xff; ncf = 1; }
      const s = states[i]!;
      expect([s.gpr[0]! & 0xff, s.eflags & CF]).toEqual([nal, ncf]);
    });
  });

  it('masks only undefined flags that exist', () => {
    for (const c of seqSuite(SEED, sel, 0.1)) expect(c.undef.eflags & ~EFLAGS_COMPARED).toBe(0);
  });
});
