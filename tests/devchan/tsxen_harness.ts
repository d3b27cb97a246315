/**
 * Running a devchan scenario (scenarios.ts) on tsxen, the way refxen/dom0-devchan.sh runs
 * it on the real Xen: a DevchanHost (bench/evtchn_host.ts: embedded host, virtual clock,
 * xenstored in dom0) creates every domain paused with its devchan/ directory, unpauses
 * them all, and runs until every domain has stopped.
 *
 * Invariants: the memory audit runs after the scenario (every domain destroyed) and must
 * be clean; nothing here touches a guest except through the toolstack, xenstored and the
 * hypervisor's domain limits.
 */
import { join } from 'node:path';
import { DevchanHost } from '../../bench/evtchn_host.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import type { DevchanScenario } from './scenarios.ts';

export const BUILD = join(import.meta.dirname, '..', '..', 'guests', 'build');

export interface DomainRun {
  readonly domid: number;
  readonly console: string;
  /** The last "Test result: ..." line, or null. */
  readonly resultLine: string | null;
  readonly verdict: string;
  readonly exitReason: number | null;
}

export interface ScenarioRun {
  readonly end: string;
  readonly domains: Record<string, DomainRun>;
  readonly audit: readonly string[];
  readonly systemNs: number;
  readonly hostMs: number;
  readonly storeLog: readonly string[];
}

export function verdictOf(line: string | null): string {
  if (line === null) return 'NO-RESULT';
  const m = /^Test result: (SUCCESS|FAILURE|ERROR|SKIP)/.exec(line);
  return m ? m[1]! : 'NO-RESULT'; // SAFETY: group 1 always matches when m does
}

export function resultLineOf(console: string): string | null {
  const lines = console.split(/\r?\n/).filter((l) => l.startsWith('Test result:'));
  return lines.length > 0 ? lines[lines.length - 1]! : null; // SAFETY: length checked
}

export async function runScenario(s: DevchanScenario, opts: { timeoutMs?: number; maxSystemNs?: number } = {}): Promise<ScenarioRun> {
  const h = new DevchanHost();
  const guests = h.create(s.name, s.domains.map((d) => ({
    name: d.name, kernel: join(BUILD, d.kernel), role: d.role, peer: d.peer, memoryMiB: d.memoryMiB, vcpus: d.vcpus, cfg: d.cfg,
  })));
  h.unpause(guests);
  const t0 = Date.now();
  const end = await h.host.runUntil(() => guests.every((g) => g.exited()),
    { timeoutMs: opts.timeoutMs ?? 300_000, maxSystemNs: opts.maxSystemNs ?? 600e9 });
  const systemNs = h.host.xen.time.now();
  h.teardown(guests);
  const domains: Record<string, DomainRun> = {};
  for (const g of guests) {
    const resultLine = resultLineOf(g.console());
    domains[g.spec.name] = { domid: g.domid, console: g.console(), resultLine, verdict: verdictOf(resultLine), exitReason: g.exitReason() };
  }
  return { end, domains, audit: auditMemory(h.host.xen), systemNs, hostMs: Date.now() - t0, storeLog: h.storeLog };
}
