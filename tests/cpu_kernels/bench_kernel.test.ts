/**
 * The benchmark kernel agrees with its recorded expectations (guests/bench/expected.json):
 * the native build and QEMU compute the recorded checksums, callgrind counts the recorded
 * number of instructions for the small run, and — once the CPU engineer lists "bench" in
 * ready.json — tsxen's bare runner computes the small run's checksum too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BENCH_ELF, benchChecksum, callgrindCount, readExpected, runNative, valgrindUnavailable } from './bench_kernel.ts';
import { GUESTS_DIR } from './kernels.ts';
import { qemuUnavailable, runQemu } from './qemu.ts';
import { runTsxen, tsxenBareUnavailable } from './tsxen.ts';

const expected = readExpected();
const small = expected.small_iters;
const READY = new Set(
  (JSON.parse(readFileSync(new URL('./ready.json', import.meta.url), 'utf8')) as { ready: string[] }).ready,
);

beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS_DIR, 'build/bench.elf', 'build/bench-native32'], { stdio: 'inherit' });
});

describe('benchmark kernel', () => {
  it('the native build computes the recorded checksums', () => {
    for (const [iters, e] of Object.entries(expected.runs)) {
      expect(runNative(Number(iters)).checksum, `iters=${iters}`).toBe(e.checksum);
    }
  });

  it.skipIf(qemuUnavailable() !== null)('QEMU computes the recorded checksums and the kernel reports as specified', async () => {
    for (const [iters, e] of Object.entries(expected.runs)) {
      const r = await runQemu(BENCH_ELF, `iters=${iters}`, 120_000);
      const lines = r.output.trim().split('\n');
      expect(lines[0]).toBe(`BENCH START iters=${iters}`);
      expect(lines.slice(1, 11)).toEqual(Array.from({ length: 10 }, (_, k) => `progress ${k + 1}/10`));
      expect(benchChecksum(r.output), `iters=${iters}`).toBe(e.checksum);
      expect(r.exitValue).toBe(0);
    }
  }, 240_000);

  it.skipIf(qemuUnavailable() !== null)('iters= is read as a whole word of the Multiboot command line', async () => {
    const r = await runQemu(BENCH_ELF, 'xiters=7 iters=300 other=1', 60_000);
    expect(r.output.split('\n')[0]).toBe('BENCH START iters=300');
    expect(benchChecksum(r.output)).toBe(runNative(300).checksum);
  }, 90_000);

  it.skipIf(valgrindUnavailable() !== null)(`callgrind counts the recorded instructions for iters=${small}`, () => {
    const c = callgrindCount(small);
    const e = expected.runs[String(small)]!;
    expect(c.repBytes).toBe(e.rep_movsb_bytes);
    expect(c.instructions, 'a different compiler changes the code: re-record with record_bench.ts').toBe(e.instructions);
  }, 120_000);

  const why = tsxenBareUnavailable() ?? (READY.has('bench') ? null : 'tsxen: "bench" is not in ready.json yet');
  it.skipIf(why !== null)(`tsxen computes the checksum for iters=${small} ${why ?? ''}`, async () => {
    const r = await runTsxen(BENCH_ELF, `iters=${small}`, 600_000);
    expect(benchChecksum(r.output), r.output + r.stderr).toBe(expected.runs[String(small)]!.checksum);
    expect(r.exitValue).toBe(0);
  }, 620_000);
});
