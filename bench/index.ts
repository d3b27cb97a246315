/**
 * The benchmark registry. Each suite measures one thing and reports figures as ratios
 * against a baseline run in the same process where one exists. Speed targets live here,
 * never in timed unit tests.
 */
import { abiLayoutSuite } from './abi_layout.ts';
import { cpuMipsSuite } from './cpu_mips.ts';
import { xenstoreSuite } from './xenstore.ts';
import { x87Suite } from './x87.ts';
import { netSuite } from './net.ts';
import { xenSuite } from './xen.ts';
import { evtchnSuite } from './evtchn.ts';
import { gnttabSuite } from './gnttab.ts';
import { blkSuite } from './blk.ts';
import { vifSuite } from './vif.ts';
import { schedSuite } from './sched.ts';
import { toolstackSuite } from './toolstack.ts';
export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  run(log: (line: string) => void): Promise<void>;
}

const SUITES: readonly BenchSuite[] = [abiLayoutSuite, cpuMipsSuite, xenstoreSuite, x87Suite, netSuite, xenSuite, evtchnSuite,
  gnttabSuite, blkSuite, vifSuite, schedSuite, toolstackSuite];

export async function runBenchmarks(names: readonly string[]): Promise<number> {
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const chosen = names.length ? SUITES.filter((s) => names.includes(s.name)) : SUITES;
  const unknown = names.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length) {
    process.stderr.write(`tsxen bench: unknown suite(s): ${unknown.join(', ')}\n`);
    return 1;
  }
  for (const s of chosen) {
    log(`== ${s.name}: ${s.description}`);
    await s.run(log);
  }
  return 0;
}
