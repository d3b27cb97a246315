/**
 * Turns the serial log of a devchan refxen run into tests/devchan/refxen/refxen-results.json:
 * per scenario and domain, the verdict real Xen gave, whether it is the expected one, and
 * the console. Scenarios not in this log keep their old results (partial reruns merge).
 *
 *   npx tsx tests/devchan/refxen/collect.ts SERIAL_LOG OUT_JSON START_ISO XEN_IMAGE
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseSerialLog } from '../../pv_refxen/serial_log.ts';
import { SCENARIOS } from '../scenarios.ts';
import type { DevchanRefxenResults, DevchanDomainResult } from '../refxen_results.ts';

function main(): void {
  const [logPath, outPath, startIso, xenImage] = process.argv.slice(2);
  if (!logPath || !outPath || !startIso || !xenImage) {
    console.error('usage: collect.ts SERIAL_LOG OUT_JSON START_ISO XEN_IMAGE');
    process.exit(2);
  }
  const log = parseSerialLog(readFileSync(logPath, 'latin1'));
  const old: DevchanRefxenResults | undefined = existsSync(outPath)
    ? (JSON.parse(readFileSync(outPath, 'utf8')) as DevchanRefxenResults)
    : undefined;
  const scenarios: Record<string, Record<string, DevchanDomainResult>> = { ...(old?.scenarios ?? {}) };
  const fresh = new Set<string>();
  for (const run of log.runs) {
    const [scn, dom] = run.domain.split('/');
    if (!scn || !dom) continue;
    const s = SCENARIOS.find((x) => x.name === scn);
    const d = s?.domains.find((x) => x.name === dom);
    if (!s || !d) throw new Error(`${run.domain}: not in tests/devchan/scenarios.ts`);
    if (!fresh.has(scn)) {
      scenarios[scn] = {};
      fresh.add(scn);
    }
    scenarios[scn]![dom] = {
      kernel: d.kernel,
      role: d.role,
      expect: d.expect,
      verdict: run.verdict,
      resultLine: run.resultLine,
      matches: run.verdict === d.expect,
      console: [...run.console],
    };
  }
  const out: DevchanRefxenResults = {
    xen: log.xenVersion ?? 'unknown',
    image: xenImage,
    date: startIso,
    scenarios,
  };
  writeFileSync(outPath, JSON.stringify(out, null, 1) + '\n');
  for (const scn of fresh) {
    for (const [dom, r] of Object.entries(scenarios[scn]!)) {
      console.log(`${r.matches ? 'ok  ' : 'DIFF'} ${scn}/${dom}: ${r.resultLine ?? r.verdict} (expected ${r.expect})`);
    }
  }
}

main();
