/**
 * The bare-metal CPU test kernels (guests/tests/cpu), run on qemu-system-i386 (the
 * reference) and on tsxen's bare runner. A kernel passes on QEMU when it ends as its spec
 * says with no failed check (known QEMU deviations are tolerated there). On tsxen, the
 * kernels listed in ready.json must print the same transcript as QEMU with every
 * deviation reading "ok", and end the same way; the others are reported in STATUS.md
 * (`npx tsx tests/cpu_kernels/status.ts`) until the CPU engineer lists them as ready.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImages } from './build.ts';
import { compareTranscripts, parseTranscript } from './compare.ts';
import { endingProblem } from './ending.ts';
import { elfPath, KERNELS, type KernelSpec } from './kernels.ts';
import { qemuUnavailable, runQemu, type RunResult } from './qemu.ts';
import { runTsxen, tsxenBareUnavailable } from './tsxen.ts';

const READY = new Set(
  (JSON.parse(readFileSync(new URL('./ready.json', import.meta.url), 'utf8')) as { ready: string[] }).ready,
);

const qemuRuns = new Map<string, Promise<RunResult>>();
const qemuRun = (k: KernelSpec): Promise<RunResult> => {
  let p = qemuRuns.get(k.name);
  if (!p) {
    p = runQemu(elfPath(k), k.qemuCmdline ?? k.cmdline ?? '');
    qemuRuns.set(k.name, p);
  }
  return p;
};

beforeAll(() => {
  buildImages(KERNELS.map((k) => k.name));
});

describe.skipIf(qemuUnavailable() !== null)(`cpu kernels on qemu-system-i386 ${qemuUnavailable() ?? ''}`, () => {
  for (const k of KERNELS) {
    it(`${k.name}: ${k.topic}`, async () => {
      const r = await qemuRun(k);
      expect(endingProblem(k, r), r.output).toBe('');
    }, 120_000);
  }
});

const tsxenWhy = tsxenBareUnavailable() ?? (qemuUnavailable() ? 'QEMU is needed as the reference' : null);
describe('cpu kernels on tsxen', () => {
  if (tsxenWhy !== null) {
    it.skip(`skipped: ${tsxenWhy}`, () => {});
    return;
  }
  for (const k of KERNELS) {
    if (!READY.has(k.name)) {
      it.todo(`${k.name}: not in ready.json yet (see STATUS.md)`);
      continue;
    }
    it(`${k.name} prints what QEMU prints`, async () => {
      const [q, t] = await Promise.all([qemuRun(k), runTsxen(elfPath(k), k.cmdline ?? '')]);
      expect(endingProblem(k, t), t.output + t.stderr).toBe('');
      const tt = parseTranscript(t.output);
      expect(tt.deviations, 'tsxen must pass the checks QEMU is known to get wrong').toEqual([]);
      expect(compareTranscripts(parseTranscript(q.output), tt)).toEqual([]);
    }, 240_000);
  }
});
