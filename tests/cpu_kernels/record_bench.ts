/**
 * Records guests/bench/expected.json: for the small and the default iteration count, the
 * checksum (native build and QEMU must agree, or nothing is written) and the workload's
 * architectural instruction count from callgrind. Run after changing the workload:
 *     make -C guests build/bench.elf build/bench-native32
 *     npx tsx tests/cpu_kernels/record_bench.ts        (about a minute: callgrind)
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { BENCH_ELF, benchChecksum, callgrindCount, EXPECTED_PATH, runNative, type BenchExpectation } from './bench_kernel.ts';
import { QEMU_CPU, runQemu } from './qemu.ts';

const SMALL = 20_000;
const DEFAULT = 1_000_000;

async function main(): Promise<void> {
  const runs: Record<string, BenchExpectation> = {};
  for (const iters of [SMALL, DEFAULT]) {
    const native = runNative(iters);
    const q = await runQemu(BENCH_ELF, `iters=${iters}`, 300_000);
    const qsum = benchChecksum(q.output);
    if (qsum !== native.checksum || q.exitValue !== 0) {
      throw new Error(`iters=${iters}: QEMU says ${qsum} (exit ${q.exitValue}), native says ${native.checksum}`);
    }
    const c = callgrindCount(iters);
    runs[String(iters)] = { checksum: native.checksum, instructions: c.instructions, callgrind_ir: c.ir, rep_movsb_bytes: c.repBytes };
    process.stdout.write(`iters=${iters}: checksum ${native.checksum}, ${c.instructions} instructions\n`);
  }
  const version = (cmd: string, arg: string): string =>
    (spawnSync(cmd, [arg], { encoding: 'utf8' }).stdout ?? '').split('\n')[0]!.trim();
  const doc = {
    _comment:
      'Written by tests/cpu_kernels/record_bench.ts. checksum: the BENCH DONE value of guests/build/bench.elf with iters=N (QEMU and the native build agree). instructions: architectural instructions retired by workload_init + workload_run (callgrind Ir minus the bytes moved by REP MOVSB, which callgrind counts once per byte plus one).',
    default_iters: DEFAULT,
    small_iters: SMALL,
    runs,
    measured_with: { qemu: `${version('qemu-system-i386', '--version')} -cpu ${QEMU_CPU}`, valgrind: version('valgrind', '--version'), gcc: version('gcc', '--version') },
  };
  writeFileSync(EXPECTED_PATH, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`wrote ${EXPECTED_PATH}\n`);
}

await main();
