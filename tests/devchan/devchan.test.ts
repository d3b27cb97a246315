/**
 * The devchan scenarios on tsxen: every domain must reach the verdict it is expected to
 * (scenarios.ts), which is the one the real Xen 4.17 gave (refxen-results.json, when the
 * scenario was run there), and the memory audit must be clean once all domains are gone.
 *
 *   npx vitest run tests/devchan                  # all scenarios
 *   DEVCHAN_FILTER=grant npx vitest run tests/devchan
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from './scenarios.ts';
import { BUILD, runScenario } from './tsxen_harness.ts';
import { loadRefxenResults } from './refxen_results.ts';

const filter = (process.env.DEVCHAN_FILTER ?? '').split(',').filter((x) => x.length > 0);
const refxen = loadRefxenResults();

describe('devchan scenarios on tsxen', () => {
  for (const s of SCENARIOS) {
    if (filter.length > 0 && !filter.some((f) => s.name.includes(f))) continue;
    const built = s.domains.every((d) => existsSync(join(BUILD, d.kernel)));
    it.skipIf(!built)(`${s.name}: ${s.summary}`, async () => {
      const run = await runScenario(s);
      for (const d of s.domains) {
        const r = run.domains[d.name]!; // SAFETY: runScenario reports every domain
        const ref = refxen?.scenarios[s.name]?.[d.name];
        const detail = `${s.name}/${d.name} (${run.end}, ${(run.systemNs / 1e9).toFixed(2)} s virtual):\n` +
          `${r.console.split('\n').filter((l) => /FAIL|Test result|ERROR/.test(l)).slice(0, 20).join('\n')}`;
        expect(r.verdict, detail).toBe(d.expect);
        if (ref !== undefined) expect(ref.verdict, `refxen verdict of ${s.name}/${d.name}`).toBe(d.expect);
      }
      expect(run.audit, 'memory audit after the scenario').toEqual([]);
    }, 600_000);
  }
});
