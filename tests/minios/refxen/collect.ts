/**
 * Turn a refxen serial log of a minios run (tests/minios/refxen/run.sh) into
 * tests/minios/refxen/refxen-results.json: per scenario, the verdict, the dom0-side
 * checks and minios's result lines and console, as real Xen 4.17 produced them.
 * A partial run replaces only the scenarios it ran.
 *
 *   npx tsx tests/minios/refxen/collect.ts SERIAL_LOG [RESULTS_JSON]
 *
 * tsxen.test.ts compares tsxen's runs of the same scenarios against this file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cleanLine, parseMiniosConsole, type ResultLine } from '../console_log.ts';
import { loadScenarios } from '../scenario.ts';

export interface RefxenScenarioResult {
  readonly verdict: string;
  readonly expect: 'SUCCESS' | 'FAILURE';
  readonly matchesExpectation: boolean;
  readonly host: string;
  readonly hostChecks: readonly string[];
  readonly results: readonly Pick<ResultLine, 'status' | 'what' | 'line'>[];
  readonly console: readonly string[];
  readonly totalSeconds: number;
  readonly runAt: string;
}

export interface RefxenResults {
  readonly description: string;
  readonly xen: string;
  readonly rerun: string;
  readonly scenarios: Record<string, RefxenScenarioResult>;
}

export const RESULTS_FILE = fileURLToPath(new URL('./refxen-results.json', import.meta.url));

export function parseSerialLog(log: string, runAt: string): Map<string, Omit<RefxenScenarioResult, 'expect' | 'matchesExpectation'>> {
  const out = new Map<string, Omit<RefxenScenarioResult, 'expect' | 'matchesExpectation'>>();
  let name: string | null = null;
  let con: string[] = [];
  let host: string[] = [];
  for (const raw of log.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const b = /^=== BEGIN (\S+)/.exec(line);
    if (b) {
      name = b[1]!; // group 1 always matches
      con = [];
      host = [];
      continue;
    }
    if (name === null) continue;
    if (line.startsWith('  con: ')) con.push(cleanLine(line.slice(7)).replace(/\0/g, ''));
    else if (line.startsWith('  host: ')) host.push(line.slice(8));
    const r = /^RESULT\|([^|]+)\|([^|]*)\|host=([^|]*)\|total_s=([\d.]+)/.exec(line);
    if (r && r[1] === name) {
      const run = parseMiniosConsole(con.join('\n'));
      out.set(name, {
        verdict: r[2]!.replace(/^Test result: /, ''), host: r[3]!, hostChecks: host,
        results: run.results.map((x) => ({ status: x.status, what: x.what, line: x.line })),
        console: con, totalSeconds: Number(r[4]), runAt,
      });
      name = null;
    }
  }
  return out;
}

function main(): void {
  const [logFile, resultsFile = RESULTS_FILE] = process.argv.slice(2);
  if (!logFile) throw new Error('usage: collect.ts SERIAL_LOG [RESULTS_JSON]');
  const log = readFileSync(logFile, 'latin1');
  const version = /Xen version (\S+)/.exec(log)?.[1] ?? 'unknown';
  const runs = parseSerialLog(log, new Date().toISOString());
  const prev: RefxenResults | null = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as RefxenResults) // our own file format
    : null;
  const scenarios: Record<string, RefxenScenarioResult> = { ...(prev?.scenarios ?? {}) };
  const known = new Map(loadScenarios().map((s) => [s.name, s]));
  for (const [name, run] of runs) {
    const sc = known.get(name);
    if (!sc) continue;
    const matches = run.verdict.startsWith(sc.expect) && run.host === 'ok';
    scenarios[name] = { ...run, expect: sc.expect, matchesExpectation: matches };
    console.log(`${name}: ${run.verdict} host=${run.host} ${matches ? 'as expected' : 'UNEXPECTED'}`);
  }
  const out: RefxenResults = {
    description: 'minios scenarios (tests/minios/refxen/scenarios) on real Xen with a Debian dom0 (Linux blkback/netback, xenstored, xl)',
    xen: version,
    rerun: 'REFXEN_WORK=... tests/minios/refxen/run.sh && npx tsx tests/minios/refxen/collect.ts $MINIOS_REFXEN/shadow/work/serial-pv32-tcgfix.log',
    scenarios: Object.fromEntries(Object.entries(scenarios).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(resultsFile, JSON.stringify(out, null, 1) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
