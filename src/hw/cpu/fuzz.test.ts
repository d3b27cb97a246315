/**
 * Hostile code: seeded random byte soup executed in real mode, flat protected mode (ring 0
 * and ring 3, with and without paging), PV and with the JIT forced. Whatever the bytes do --
 * invalid opcodes, wild jumps, far transfers through garbage descriptors, stray I/O and MSR
 * accesses, triple faults -- run() must return an exit reason and never throw into the host.
 * Replay: TSXEN_SEED=<seed> npx vitest run src/hw/cpu/fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { machine, flatGdt } from '../../../tests/hw/machine.ts';
import { ExecMode, ExitReason } from './exit.ts';

const SEED = Number(process.env.TSXEN_SEED ?? 0xf022);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

type Mode = 'real' | 'flat0' | 'flat3' | 'paged' | 'pv' | 'jit';

function runSoup(mode: Mode, seed: number): number[] {
  const next = rng(seed);
  const m = machine({ mode: mode === 'real' ? 'real' : 'flat32', cpl: mode === 'flat3' || mode === 'pv' ? 3 : 0, fpu: true, memMiB: 2 });
  if (mode === 'real') m.cpu.reset();
  else flatGdt(m);
  // random bytes everywhere in the first 64 KiB, a sprinkling of prefixes and system opcodes
  const soup = new Uint8Array(0x10000);
  const hot = [0x0f, 0x66, 0x67, 0xf0, 0xf3, 0xcd, 0xcf, 0xea, 0x9a, 0xff, 0x8e, 0xc4, 0x62, 0xd8, 0xdf, 0xe4, 0xef];
  for (let i = 0; i < soup.length; i++) {
    const r = next();
    soup[i] = (r & 7) === 0 ? hot[(r >>> 8) % hot.length]! : r >>> 24;
  }
  m.load(0, soup);
  if (mode === 'paged') {
    for (let i = 0; i < 1024; i++) m.w32(0x100000 + i * 4, (i << 12) | ((next() & 3) === 0 ? 0 : 7));
    m.w32(0x101000, 0x100000 | 7);
    m.cpu.setCr3(0x101000);
    m.cpu.setCr0(m.cpu.cr0 | 0x80000000);
  }
  if (mode === 'pv') m.cpu.controls.mode = ExecMode.PV;
  if (mode === 'jit') m.cpu.jitThreshold = 0;
  m.cpu.idtBase = next() & 0xffff;
  m.cpu.idtLimit = next() & 0x7ff;
  const reasons: number[] = [];
  for (let k = 0; k < 20; k++) {
    m.cpu.eip = next() & 0xfff0;
    m.cpu.halted = false;
    const r = m.cpu.run(5_000);
    reasons.push(r);
    if (r === ExitReason.SHUTDOWN) {
      m.cpu.reset();
      if (mode !== 'real') flatGdt(m);
    }
  }
  return reasons;
}

describe(`random code never throws into the host (seed ${SEED})`, () => {
  for (const mode of ['real', 'flat0', 'flat3', 'paged', 'pv', 'jit'] as const) {
    it(mode, () => {
      for (let k = 0; k < 12; k++) {
        const seed = (SEED + k * 7919) >>> 0;
        let reasons: number[] = [];
        expect(() => { reasons = runSoup(mode, seed); }, `seed ${seed}`).not.toThrow();
        expect(reasons.every((r) => r >= ExitReason.BUDGET && r <= ExitReason.INVALID_STATE)).toBe(true);
      }
    }, 120_000);
  }
});
