/**
 * Runs one PV test kernel (guests/tests/pv) on tsxen: an embedded host (hypervisor +
 * dom0) on a virtual clock, the kernel created as xl would from its pvtest note (xl's
 * memory=32, vcpus=1, plus the note's cfg= lines), its console collected until the domain
 * is gone; then the memory audit. The verdict uses the same vocabulary as the refxen
 * results (docs/pv-tests.md): SUCCESS / FAILURE / ERROR / SKIP from the result line,
 * CRASH when the domain was crashed without one, NO-RESULT otherwise.
 */
import { readFileSync } from 'node:fs';
import { Host, type RunEnd } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import type { GuestExit } from '../../src/dom0/toolstack/toolstack.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { readPvTestInfo, type PvTestInfo } from '../pv_refxen/pvtest_manifest.ts';

export type PvVerdict = 'SUCCESS' | 'FAILURE' | 'ERROR' | 'SKIP' | 'CRASH' | 'NO-RESULT';

export interface PvRun {
  readonly info: PvTestInfo;
  readonly verdict: PvVerdict;
  /** The "Test result: ..." text after the prefix, or ''. */
  readonly resultLine: string;
  readonly console: string;
  readonly xenLog: readonly string[];
  readonly exit: GuestExit | null;
  readonly end: RunEnd | 'error';
  /** Memory audit findings after the domain was destroyed (empty: consistent). */
  readonly audit: readonly string[];
  /** Guest system time used (ns) and host time (ms). */
  readonly systemNs: number;
  readonly hostMs: number;
}

export interface PvRunOptions {
  /** Host time limit (default 60 s). */
  readonly timeoutMs?: number;
  /** Virtual time limit (default 120 s of guest time). */
  readonly maxSystemNs?: number;
}

/** The xl.cfg text the refxen runner gives a kernel (run-tests.sh). */
export function xlConfigFor(info: PvTestInfo, kernelPath: string): string {
  const lines = [`name="pv-${info.name}"`, 'type="pv"', `kernel="${kernelPath}"`, 'memory=32',
    'on_reboot="destroy"', 'on_crash="destroy"', ...info.cfg];
  if (!info.cfg.some((l) => /^\s*vcpus\s*=/.test(l))) lines.push('vcpus=1');
  return lines.join('\n');
}

export function verdictOf(console: string, exit: GuestExit | null): { verdict: PvVerdict; resultLine: string } {
  const lines = console.split('\n').map((l) => l.replace(/\r$/, ''));
  let resultLine = '';
  for (const l of lines) {
    const m = /Test result: (.*)$/.exec(l);
    if (m) resultLine = m[1]!.trim();
  }
  if (resultLine) {
    const w = resultLine.split(/\s/)[0]!;
    const verdict = (['SUCCESS', 'FAILURE', 'ERROR', 'SKIP'] as const).find((v) => v === w) ?? 'NO-RESULT';
    return { verdict, resultLine };
  }
  return { verdict: exit !== null && exit.reason === 3 ? 'CRASH' : 'NO-RESULT', resultLine };
}

export async function runPvKernel(path: string, opts: PvRunOptions = {}): Promise<PvRun> {
  const image = new Uint8Array(readFileSync(path));
  const info = readPvTestInfo(image);
  if (!info) throw new Error(`${path} has no pvtest note`);
  const xenLog: string[] = [];
  const t0 = Date.now();
  const host = new Host({ xenLog: (l) => xenLog.push(l), wallclockBaseNs: 1_700_000_000e9 });
  const cfg = pvConfig(parseXlConfig(xlConfigFor(info, path), `pv-${info.name}.cfg`));
  let out = '';
  let exit: GuestExit | null = null;
  let end: RunEnd | 'error';
  try {
    const g = host.toolstack.createPv(cfg, image, { sink: (b) => (out += Buffer.from(b).toString('latin1')) });
    g.onExit((e) => (exit = e));
    end = await host.runUntil(() => exit !== null, {
      timeoutMs: opts.timeoutMs ?? 60_000, maxSystemNs: host.xen.time.now() + (opts.maxSystemNs ?? 120e9),
    });
    if (exit === null) {
      // Out of time: take what the console has, then tear the domain down.
      host.consoles.connection(g.domid)?.pump();
      host.toolstack.destroy(g.domid);
    }
  } catch (e) {
    end = 'error';
    xenLog.push(`runner: ${(e as Error).stack ?? String(e)}`);
  }
  const { verdict, resultLine } = verdictOf(out, exit);
  const audit = auditMemory(host.xen);
  for (const d of host.xen.domains) if (d.domid !== 0) audit.push(`d${d.domid} still exists (dying ${d.dying}, ${d.totPages} pages)`);
  return {
    info, verdict, resultLine, console: out, xenLog, exit, end, audit,
    systemNs: host.xen.time.now() - host.xen.time.baseNs, hostMs: Date.now() - t0,
  };
}
