/**
 * Every PV test kernel (guests/build/pv-*.elf) on tsxen: its verdict must equal real
 * Xen's (tests/pv_refxen/refxen-results.json, `kernels[name].refxen.verdict`), or, for a
 * kernel not yet run on refxen, the expectation in its pvtest note. After each run the
 * domain must be gone and the hypervisor's memory audit clean.
 *
 * KNOWN lists kernels that differ for a reason outside src/xen (a CPU feature requested in
 * docs/cpu.md, a subsystem another engineer owns). A listed kernel must still differ: when
 * it starts to match, the test fails so the entry gets removed.
 *
 *   PVTEST_FILTER=name,name  run only kernels whose names contain one of these
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPvKernel, type PvVerdict } from './run_pv.ts';
import type { RefxenResults } from '../pv_refxen/refxen_results.ts';
import { readPvTestInfoFile } from '../pv_refxen/pvtest_manifest.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILD = join(ROOT, 'guests', 'build');
const RESULTS = join(ROOT, 'tests', 'pv_refxen', 'refxen-results.json');

const KNOWN: Readonly<Record<string, string>> = {
};

const kernels = existsSync(BUILD)
  ? readdirSync(BUILD).filter((f) => /^pv-.+\.elf$/.test(f)).sort()
  : [];
const filter = (process.env.PVTEST_FILTER ?? '').split(',').filter((s) => s.length > 0);
const results: RefxenResults | null = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) as RefxenResults : null;

describe('PV test kernels on tsxen', () => {
  it('finds the kernels (make -C guests pv-tests)', () => {
    expect(kernels.length).toBeGreaterThan(0);
  });
  for (const file of kernels) {
    const path = join(BUILD, file);
    const info = readPvTestInfoFile(path);
    if (!info) continue;
    if (filter.length > 0 && !filter.some((f) => info.name.includes(f))) continue;
    const ref = results?.kernels[info.name]?.refxen;
    const want: PvVerdict = ref ? (ref.verdict as PvVerdict) : info.expect === 'CRASH' ? 'CRASH' : 'SUCCESS';
    const source = ref ? 'refxen' : 'its pvtest note';
    it(`${info.name}: ${want} as on ${source}`, async () => {
      const r = await runPvKernel(path);
      const detail = `${info.name}: tsxen ${r.verdict} (${r.resultLine || r.end}), ${source} ${want}` +
        (ref?.resultLine ? ` (${ref.resultLine})` : '') + `\n--- console\n${r.console}\n--- xen\n${r.xenLog.slice(-20).join('\n')}`;
      expect(r.audit, `memory audit after ${info.name}`).toEqual([]);
      const known = KNOWN[info.name];
      if (known !== undefined) {
        expect(r.verdict === want, `${info.name} now matches: remove it from KNOWN (${known})`).toBe(false);
      } else {
        expect(r.verdict, detail).toBe(want);
      }
    }, 180_000);
  }
});
