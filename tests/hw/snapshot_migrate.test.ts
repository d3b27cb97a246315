/**
 * Save/restore is complete: every CPU test kernel (and the benchmark kernel, which runs in
 * the JIT) prints the same transcript and retires the same number of instructions when its
 * CPU is replaced every few thousand instructions by a fresh Cpu loaded from a JSON round
 * trip of `saveState()` -- mid-task, mid-v86, with paging, pending interrupts and x87 state.
 * Memory and devices stay (they are not CPU state); the decoded-code cache is machine-wide.
 * Any state the snapshot forgot shows up as a different transcript.
 */
import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BarePc } from '../../src/host/bare/bare_pc.ts';
import { VirtualClock } from '../../src/hw/clock.ts';
import { Cpu } from '../../src/hw/cpu/cpu.ts';
import { Fpu } from '../../src/hw/cpu/fpu/fpu.ts';
import { ExitReason } from '../../src/hw/cpu/exit.ts';
import { KERNELS, MEMORY_MIB, elfPath, GUESTS_DIR } from '../cpu_kernels/kernels.ts';

interface Outcome {
  serial: string;
  end: string;
  instructions: number;
  swaps: number;
}

const SLICE = 2_000_000;

/** The runBare driver loop (virtual clock), swapping the CPU every `every` instructions. */
function run(image: Uint8Array, cmdline: string, every: number): Outcome {
  const clock = new VirtualClock();
  let serial = '';
  const pc = new BarePc({ memoryMiB: MEMORY_MIB, clock, onSerial: (b) => { serial += String.fromCharCode(b); } });
  pc.boot(image, cmdline);
  let swaps = 0;
  let nextSwap = every;
  const swap = (): void => {
    const old = pc.cpu;
    const snap = JSON.parse(JSON.stringify(old.saveState())) as ReturnType<Cpu['saveState']>;
    const cpu = new Cpu({ memory: pc.memory, clock, ports: pc.ports, mmio: pc.mmio, tlb: old.tlb, fpu: new Fpu(), intr: pc.pic });
    cpu.loadState(snap);
    cpu.onFerr = old.onFerr;
    (pc as { cpu: Cpu }).cpu = cpu; // devices reach the CPU through pc.cpu
    clock.attach(cpu);
    swaps++;
  };
  for (let guard = 0; guard < 1_000_000; guard++) {
    const cpu = pc.cpu;
    const now = clock.nowNs();
    pc.pit.update(now);
    const next = pc.pit.nextEventNs(now);
    let budget = SLICE;
    if (next !== Infinity) budget = Math.min(budget, clock.instructionsUntil(next));
    budget = Math.max(1, Math.min(budget, nextSwap - cpu.instructions));
    const r = cpu.run(budget);
    if (pc.exitValue >= 0) return { serial, end: `exit ${pc.exitValue}`, instructions: cpu.instructions, swaps };
    if (pc.resetRequested) return { serial, end: 'reset', instructions: cpu.instructions, swaps };
    if (r === ExitReason.SHUTDOWN) return { serial, end: 'shutdown', instructions: cpu.instructions, swaps };
    if (r === ExitReason.HLT) {
      const wake = pc.pit.nextEventNs(clock.nowNs());
      if ((cpu.getEflags() & 0x200) === 0 || wake === Infinity) return { serial, end: 'halted', instructions: cpu.instructions, swaps };
      clock.advanceTo(wake);
    }
    if (cpu.instructions >= 200_000_000) return { serial, end: 'limit', instructions: cpu.instructions, swaps };
    if (cpu.instructions >= nextSwap) {
      swap();
      nextSwap = pc.cpu.instructions + every;
    }
  }
  throw new Error('driver loop did not end');
}

const cases = [
  ...KERNELS.map((k) => ({ name: k.name, elf: elfPath(k), cmdline: k.cmdline ?? '' })),
  { name: 'bench (JIT)', elf: `${GUESTS_DIR}build/bench.elf`, cmdline: 'iters=3000' },
];

describe('CPU snapshots carry all state: kernels run the same with the CPU swapped mid-run', () => {
  for (const c of cases) {
    it.skipIf(!existsSync(c.elf))(c.name, () => {
      const image = new Uint8Array(readFileSync(c.elf));
      const plain = run(image, c.cmdline, Infinity);
      expect(plain.end).not.toBe('limit');
      // Odd intervals so swaps land anywhere (not block-aligned); one long one for cpu-irq's
      // 100M instructions of waiting for the PIT.
      const long = plain.instructions > 20_000_000;
      for (const every of long ? [1_000_003] : [1009, 7919]) {
        const m = run(image, c.cmdline, every);
        expect(m.swaps, `swaps every ${every}`).toBeGreaterThan(0);
        // A run split at other points takes an asynchronous interrupt (PIT, FERR#) at another
        // block boundary, so a kernel spinning for one may retire a few more or fewer
        // instructions; everything it prints must still be the same.
        const spin = c.name === 'cpu-irq' ? 0 : m.instructions - plain.instructions;
        expect({ every, end: m.end, spin, serial: m.serial }).toEqual({ every, end: plain.end, spin: 0, serial: plain.serial });
      }
    });
  }
});
