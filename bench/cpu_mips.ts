/**
 * cpu_mips: guest MIPS of the CPU-bound benchmark kernel (guests/bench, the same workload as
 * shared/bench) on `runBare`, and the same image on qemu-system-i386 in the same run.
 *
 * work_s is host time between the guest's "BENCH START" and "BENCH DONE" lines (so boot and
 * loading are excluded, as shared/bench/run.sh does); MIPS = retired instructions in that
 * window / work_s, counted by the emulator (REP = 1). Where guests/bench/expected.json has a
 * callgrind count for the chosen iteration count it is printed too, and the two must agree
 * within the kernel's printing overhead. QEMU's MIPS uses the same instruction count.
 *
 * Iterations: TSXEN_BENCH_ITERS (default 1000000 as in shared/bench: 1.56G instructions, so
 * the JIT's warm-up is amortized as it is in the judged runs). Runs: TSXEN_BENCH_RUNS
 * (default 3; the median is reported). Besides wall-clock MIPS the suite prints MIPS per
 * second of this process's CPU time, which tells a busy machine from a slow emulator.
 *
 * References in the same run, each timed the same way on the same image: qemu-system-i386
 * (TCG) when installed, and v86 (its wasm JIT; cpu_v86_child.mjs) when an installed copy is
 * found (see v86Dir). Both use tsxen's retired-instruction count, so the ratios compare time.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite } from './index.ts';
import { runBare } from '../src/host/bare/run_bare.ts';

const ELF = fileURLToPath(new URL('../guests/build/bench.elf', import.meta.url));
const EXPECTED = fileURLToPath(new URL('../guests/bench/expected.json', import.meta.url));

interface Sample {
  workS: number;
  cpuS: number;
  instructions: number;
  checksum: string;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function runTsxen(iters: number): Promise<Sample> {
  let t0 = 0, t1 = 0, i0 = 0, i1 = 0, c0 = 0, c1 = 0;
  let text = '';
  let cpuRef: { instructions: number } | null = null;
  const r = await runBare({
    kernel: ELF,
    cmdline: `iters=${iters}`,
    memoryMiB: 32,
    collectSerial: true,
    onBoot: (pc) => { cpuRef = pc.cpu; },
    onSerialByte: (b) => {
      text += String.fromCharCode(b);
      if (b !== 10) return;
      if (t0 === 0 && text.includes('BENCH START')) {
        t0 = performance.now();
        c0 = cpuSeconds();
        i0 = cpuRef!.instructions;
      }
      if (t1 === 0 && text.includes('BENCH DONE')) {
        t1 = performance.now();
        c1 = cpuSeconds();
        i1 = cpuRef!.instructions;
      }
    },
  });
  if (r.reason !== 'exit' || t1 === 0) throw new Error(`bench kernel did not finish: ${r.reason}\n${r.serial}`);
  return { workS: (t1 - t0) / 1000, cpuS: c1 - c0, instructions: i1 - i0, checksum: /BENCH DONE ([0-9a-f]+)/.exec(r.serial)![1]! };
}

/** Host seconds between the guest's BENCH START and BENCH DONE lines of a reference emulator. */
function runExternal(cmd: string, args: readonly string[]): Promise<{ workS: number; checksum: string } | null> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      resolve(null);
      return;
    }
    let text = '', t0 = 0, t1 = 0;
    child.on('error', () => resolve(null));
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      if (t0 === 0 && text.includes('BENCH START')) t0 = performance.now();
      if (t1 === 0 && text.includes('BENCH DONE')) t1 = performance.now();
    });
    child.on('close', () => {
      const m = /BENCH DONE ([0-9a-f]+)/.exec(text);
      resolve(t1 > 0 && m ? { workS: (t1 - t0) / 1000, checksum: m[1]! } : null);
    });
  });
}

const runQemu = (iters: number) => runExternal('qemu-system-i386', ['-kernel', ELF, '-append', `iters=${iters}`,
  '-cpu', 'pentium3,+pae,+nx,+sep,+fxsr,+pge,+pse', '-m', '32', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
  '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-net', 'none', '-no-reboot']);

/**
 * v86 (npm `v86`, not a dependency of tsxen): used when a directory with node_modules/v86 is
 * found -- TSXEN_V86_DIR, shared/bench/v86 (after its run.sh installed it) or this repo --
 * together with SeaBIOS (Debian `seabios`), which v86 boots before the Multiboot kernel.
 */
function v86Dir(): string | null {
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const dirs = [process.env.TSXEN_V86_DIR, join(repo, '../shared/bench/v86'), repo].filter((d): d is string => !!d);
  if (!existsSync('/usr/share/seabios/bios.bin') && !process.env.V86_BIOS) return null;
  return dirs.find((d) => existsSync(join(d, 'node_modules/v86/package.json'))) ?? null;
}

const V86_CHILD = fileURLToPath(new URL('./cpu_v86_child.mjs', import.meta.url));
const runV86 = (dir: string, iters: number) => runExternal(process.execPath, [V86_CHILD, dir, ELF, `iters=${iters}`]);

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

export const cpuMipsSuite: BenchSuite = {
  name: 'cpu_mips',
  description: 'guest MIPS on the CPU-bound benchmark kernel (tsxen bare vs qemu-system-i386 TCG and v86 when installed)',
  async run(log) {
    if (!existsSync(ELF)) {
      log(`  skipped: ${ELF} is missing (make -C guests)`);
      return;
    }
    const iters = Number(process.env.TSXEN_BENCH_ITERS ?? 1000000);
    const runs = Number(process.env.TSXEN_BENCH_RUNS ?? 3);
    const expected = JSON.parse(readFileSync(EXPECTED, 'utf8')) as { runs: Record<string, { checksum: string; instructions: number }> };
    const rec = expected.runs[String(iters)];
    const t: Sample[] = [];
    for (let k = 0; k < runs; k++) {
      const s = await runTsxen(iters);
      t.push(s);
      log(`  tsxen run ${k + 1}: ${(s.instructions / s.workS / 1e6).toFixed(1)} MIPS (work ${s.workS.toFixed(2)} s; ` +
        `${(s.instructions / s.cpuS / 1e6).toFixed(1)} MIPS per CPU second; ${s.instructions} instructions, checksum ${s.checksum})`);
    }
    const instr = t[0]!.instructions;
    const tsxenMips = median(t.map((s) => s.instructions / s.workS / 1e6));
    if (rec) {
      const ok = t.every((s) => s.checksum === rec.checksum);
      log(`  checksum ${ok ? 'matches' : 'DIFFERS from'} the recorded ${rec.checksum}; retired ${instr} vs callgrind ${rec.instructions}`);
    }
    log(`  tsxen: ${tsxenMips.toFixed(1)} MIPS (median of ${runs}, iters=${iters})`);
    const reference = async (name: string, run: (iters: number) => Promise<{ workS: number; checksum: string } | null>) => {
      const m: number[] = [];
      for (let k = 0; k < runs; k++) {
        const r = await run(iters);
        if (!r) break;
        if (rec && r.checksum !== rec.checksum) log(`  ${name}: checksum ${r.checksum} DIFFERS from the recorded ${rec.checksum}`);
        m.push(instr / r.workS / 1e6);
      }
      if (m.length === 0) return false;
      const med = median(m);
      log(`  ${name}: ${med.toFixed(1)} MIPS (median of ${m.length}); tsxen/${name} = ${(tsxenMips / med).toFixed(3)}`);
      return true;
    };
    if (!(await reference('qemu', runQemu))) log('  qemu-system-i386 not available: no QEMU figure');
    const dir = v86Dir();
    if (dir === null || !(await reference('v86', (n) => runV86(dir, n)))) {
      log('  v86 not available (npm install v86 into a directory and set TSXEN_V86_DIR): no v86 figure');
    }
  },
};
