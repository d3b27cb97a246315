/**
 * Build and run the native oracle (native/oracle.c + trampoline.S): the host CPU's answer
 * for a batch of test cases.
 *
 * Invariants:
 *  - The binary is named by a hash of its sources and flags, so a changed source is always
 *    rebuilt and parallel test files never race on a half-written file (write, then rename).
 *  - One process runs a whole batch; a case that faults or hangs is a result, not an error.
 *    An oracle that exits non-zero or prints garbage is an error with its stderr.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Selectors } from './layout.ts';
import { decodeResults, encodeCases, type FinalState, type TestCase } from './protocol.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = join(HERE, 'native');
const SOURCES = ['oracle.c', 'trampoline.S', 'oracle.h'];
const OUT_DIR = resolve(HERE, '../../build/x86');
const CFLAGS = [
  '-m32', '-march=i686', '-std=gnu11', '-ffreestanding', '-nostdlib', '-static', '-fno-pic', '-fno-pie',
  '-fno-stack-protector', '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-asynchronous-unwind-tables',
  '-O2', '-Wall', '-Wextra', '-Werror', '-Wl,--build-id=none', '-Wl,-z,noexecstack',
];

let built: string | undefined;

/** Path of the oracle binary, building it first when its sources changed. */
export function oraclePath(): string {
  if (built !== undefined) return built;
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(f).update(readFileSync(join(SRC, f)));
  h.update(CFLAGS.join(' '));
  const bin = join(OUT_DIR, `oracle-${h.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    mkdirSync(OUT_DIR, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('gcc', [...CFLAGS, '-o', tmp, join(SRC, 'oracle.c'), join(SRC, 'trampoline.S')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the x86 oracle failed:\n${r.stderr}${r.error ? String(r.error) : ''}`);
    renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

export interface NativeBatch {
  readonly selectors: Selectors & { readonly ss: number };
  readonly states: FinalState[];
}

/** Run `cases` on the host CPU. */
export function runNative(cases: readonly TestCase[]): NativeBatch {
  const input = encodeCases(cases);
  const r = spawnSync(oraclePath(), [], { input, maxBuffer: 1 << 30, timeout: 600_000 });
  if (r.error) throw new Error(`running the x86 oracle: ${String(r.error)}`);
  if (r.status !== 0) throw new Error(`the x86 oracle exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
  return decodeResults(new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength), cases);
}

let probed: (Selectors & { readonly ss: number }) | undefined;

/** The selectors the host presents (a batch of no cases reports them). */
export function nativeSelectors(): Selectors & { readonly ss: number } {
  probed ??= runNative([]).selectors;
  return probed;
}
