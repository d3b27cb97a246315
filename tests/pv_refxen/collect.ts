/**
 * Turns a refxen serial log (Xen's console and dom0's, interleaved in time order) into
 * tests/pv_refxen/refxen-results.json: per kernel, the verdict real Xen gave, the guest's
 * console, and the Xen log lines of its run.
 *
 *   npx tsx tests/pv_refxen/collect.ts SERIAL_LOG BUILD_DIR OUT_JSON START_ISO XEN_IMAGE
 *
 * The run of kernel NAME is the window between dom0's "=== BEGIN NAME" and "=== END NAME"
 * lines (dom0/run-tests.sh). A kernel that printed a "Test result:" line has that as its
 * verdict; one without, whose window shows Xen crashing its domain, has verdict CRASH.
 * Results of kernels not in this log are kept from OUT_JSON (partial reruns merge).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPvTestInfoFile } from './pvtest_manifest.ts';
import type { RefxenKernelResult, RefxenResults } from './refxen_results.ts';
import { parseSerialLog } from './serial_log.ts';

function main(): void {
  const [logPath, buildDir, outPath, startIso, xenImage] = process.argv.slice(2);
  if (!logPath || !buildDir || !outPath || !startIso || !xenImage) {
    console.error('usage: collect.ts SERIAL_LOG BUILD_DIR OUT_JSON START_ISO XEN_IMAGE');
    process.exit(2);
  }
  const log = parseSerialLog(readFileSync(logPath, 'latin1'));
  const old: RefxenResults | undefined = existsSync(outPath)
    ? (JSON.parse(readFileSync(outPath, 'utf8')) as RefxenResults)
    : undefined;
  const kernels: Record<string, RefxenKernelResult> = { ...(old?.kernels ?? {}) };
  for (const run of log.runs) {
    const name = run.domain.replace(/^pv-/, '');
    const file = `pv-${name}.elf`;
    const info = readPvTestInfoFile(join(buildDir, file));
    if (!info) throw new Error(`${file} has no pvtest note`);
    const matches = info.expect === 'CRASH' ? run.verdict === 'CRASH' : run.verdict === 'SUCCESS';
    kernels[name] = {
      file,
      expect: info.expect,
      hostile: info.hostile,
      cfg: info.cfg,
      summary: info.summary,
      refxen: { ...run, matchesExpectation: matches, runAt: startIso },
    };
  }
  const sorted: Record<string, RefxenKernelResult> = {};
  for (const k of Object.keys(kernels).sort()) sorted[k] = kernels[k] as RefxenKernelResult;
  const out: RefxenResults = {
    description:
      'Verdicts of the PV test kernels (guests/tests/pv) on real Xen, recorded by tests/pv_refxen/run.sh. ' +
      'verdict: SUCCESS|FAILURE|ERROR|SKIP from the kernel\'s "Test result:" line, CRASH when Xen crashed the ' +
      'domain, NO-RESULT otherwise. console: the guest\'s PV console; xenLog: Xen\'s log lines during the run.',
    xen: { version: log.xenVersion ?? old?.xen.version ?? 'unknown', image: xenImage },
    rerun: 'tests/pv_refxen/run.sh [name-substring...]',
    kernels: sorted,
  };
  writeFileSync(outPath, JSON.stringify(out, null, 2) + '\n');
  const bad = log.runs.filter((r) => {
    const k = kernels[r.domain.replace(/^pv-/, '')];
    return k && !k.refxen.matchesExpectation;
  });
  console.log(`collected ${log.runs.length} kernels into ${outPath}; ${bad.length} differ from their expected verdict`);
  for (const r of bad) console.log(`  ${r.domain}: ${r.verdict} ${r.resultLine ?? ''}`);
}

main();
