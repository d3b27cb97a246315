/**
 * The benchmark kernel (guests/bench) and its native twin: how to run them, count the
 * workload's instructions with callgrind, and read the recorded expectations
 * (guests/bench/expected.json).
 *
 * Instruction counts are architectural: callgrind counts a REP MOVSB of n bytes as n + 1
 * instructions, so the count is callgrind's Ir for workload_init + workload_run minus the
 * bytes REP MOVSB moved (which the native program prints).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GUESTS_DIR } from './kernels.ts';

export const BENCH_ELF = `${GUESTS_DIR}build/bench.elf`;
export const BENCH_NATIVE = `${GUESTS_DIR}build/bench-native32`;
export const EXPECTED_PATH = `${GUESTS_DIR}bench/expected.json`;

export interface BenchExpectation {
  readonly checksum: string;
  /** Architectural instructions retired by workload_init + workload_run. */
  readonly instructions: number;
  readonly callgrind_ir: number;
  readonly rep_movsb_bytes: number;
}

export interface BenchExpected {
  readonly default_iters: number;
  readonly small_iters: number;
  readonly runs: Readonly<Record<string, BenchExpectation>>;
}

export function readExpected(): BenchExpected {
  return JSON.parse(readFileSync(EXPECTED_PATH, 'utf8')) as BenchExpected;
}

/** The checksum on a "BENCH DONE xxxxxxxx" line, or null. */
export function benchChecksum(output: string): string | null {
  return /^BENCH DONE ([0-9a-f]{8})$/m.exec(output)?.[1] ?? null;
}

export function runNative(iters: number): { checksum: string; repBytes: number } {
  const out = execFileSync(BENCH_NATIVE, [String(iters)], { encoding: 'utf8' });
  const checksum = benchChecksum(out);
  const rep = /^BENCH REP BYTES (\d+)$/m.exec(out);
  if (!checksum || !rep) throw new Error(`bench-native32 ${iters}: unexpected output ${JSON.stringify(out)}`);
  return { checksum, repBytes: Number(rep[1]) };
}

let vg: string | null | undefined;
export function valgrindUnavailable(): string | null {
  if (vg !== undefined) return vg;
  vg = spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0 ? null : 'valgrind is not installed';
  return vg;
}

export function callgrindCount(iters: number): { ir: number; repBytes: number; instructions: number } {
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--toggle-collect=workload_init', '--toggle-collect=workload_run', BENCH_NATIVE, String(iters)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const ir = /Collected : (\d+)/.exec(r.stderr ?? '');
  const rep = /^BENCH REP BYTES (\d+)$/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !ir || !rep) throw new Error(`callgrind failed (status ${r.status}): ${r.stderr}`);
  const repBytes = Number(rep[1]);
  return { ir: Number(ir[1]), repBytes, instructions: Number(ir[1]) - repBytes };
}
