/**
 * Build and run the native x87 runner (runner.c): the host CPU's answer for a batch of
 * single-instruction cases. Record layouts are described in runner.c; this module only moves
 * bytes.
 *
 * Invariants: the binary is named by a hash of its source and flags (a changed source is
 * rebuilt; parallel runs never see a half-written file: write, then rename). A runner that
 * exits non-zero or returns a short answer is an error carrying its status.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const IN_SIZE = 672;
export const OUT_SIZE = 1152;
/** Cases per runner process (the runner's input buffer holds 50,000; it needs room to see EOF). */
export const MAX_BATCH = 40_000;

export const IN_STATE = 0;
export const IN_EFLAGS = 112;
export const IN_EAX = 116;
export const IN_CODE = 120;
export const IN_MEM = 160;

export const OUT_FXSAVE = 0;
export const OUT_FSAVE = 512;
export const OUT_EFLAGS = 620;
export const OUT_EAX = 624;
export const OUT_MEM = 640;
export const MEM_SIZE = 512;

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT_DIR = resolve(HERE, '../../../build/x87');
const CFLAGS = [
  '-m32', '-march=i686', '-std=gnu11', '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-fno-pie',
  '-fno-stack-protector', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-asynchronous-unwind-tables',
  '-O2', '-Wall', '-Wextra', '-Werror', '-Wl,--build-id=none', '-Wl,-z,noexecstack', '-Wl,--no-warn-rwx-segments',
];

let built: string | undefined;

export function runnerPath(): string {
  if (built !== undefined) return built;
  const src = join(HERE, 'runner.c');
  const h = createHash('sha256').update(readFileSync(src)).update(CFLAGS.join(' '));
  const bin = join(OUT_DIR, `x87-runner-${h.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    mkdirSync(OUT_DIR, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('gcc', [...CFLAGS, '-o', tmp, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the x87 runner failed:\n${r.stderr}${r.error ? String(r.error) : ''}`);
    renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

export interface NativeAnswer {
  /** Linear address of the operand area and of the instruction in the runner. */
  readonly memBase: number;
  readonly codeAddr: number;
  /** OUT_SIZE bytes per case. */
  readonly records: Uint8Array;
}

/** Run a batch of encoded cases (IN_SIZE bytes each) on the host. */
export function runNative(input: Uint8Array): NativeAnswer {
  const n = input.length / IN_SIZE;
  if (!Number.isInteger(n) || n > MAX_BATCH) throw new Error(`runNative: bad batch of ${input.length} bytes`);
  const r = spawnSync(runnerPath(), [], { input, maxBuffer: 16 + n * OUT_SIZE + 1024, timeout: 300_000 });
  if (r.error) throw new Error(`running the x87 runner: ${String(r.error)}`);
  if (r.status !== 0) throw new Error(`the x87 runner exited with ${r.status ?? r.signal}`);
  const out = new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out.length !== 16 + n * OUT_SIZE || dv.getUint32(0, true) !== 0x52373858) {
    throw new Error(`the x87 runner answered ${out.length} bytes for ${n} cases`);
  }
  return { memBase: dv.getUint32(8, true), codeAddr: dv.getUint32(12, true), records: out.subarray(16) };
}

/** The runner's addresses (a batch of no cases reports them). */
export function runnerAddresses(): { memBase: number; codeAddr: number } {
  const a = runNative(new Uint8Array(0));
  return { memBase: a.memBase, codeAddr: a.codeAddr };
}
