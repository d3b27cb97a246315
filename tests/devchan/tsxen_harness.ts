/**
 * Running a devchan scenario (scenarios.ts) on tsxen, the way refxen/dom0-devchan.sh runs
 * it on the real Xen: an embedded host (virtual clock) with xenstored in dom0, every
 * domain created paused by the toolstack, introduced to xenstored with the standard
 * per-domain tree plus its devchan/ directory (perms "nX rY", role, peer), consoles
 * collected, all unpaused, run until every domain has stopped.
 *
 * xl.cfg limits (max_grant_frames, max_maptrack_frames, max_event_channels) are applied
 * to the new domain before it runs, as XEN_DOMCTL_createdomain would.
 *
 * Invariants: the memory audit runs after the scenario (every domain destroyed) and must
 * be clean; nothing here touches a guest except through the toolstack, xenstored and the
 * hypervisor's domain limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Host } from '../../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../../src/dom0/toolstack/xl_config.ts';
import { XenStored, XsLocalHandle, createDomainTree } from '../../src/dom0/xenstored/index.ts';
import { XcPlatform } from '../../src/dom0/xenstored/xc_platform.ts';
import { asDomId, asEvtchnPort, asGfn } from '../../src/abi/types.ts';
import { grantTables } from '../../src/xen/common/grant_table.ts';
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
  readonly xenLog: readonly string[];
  readonly storeLog: readonly string[];
}

export function verdictOf(line: string | null): string {
  if (line === null) return 'NO-RESULT';
  const m = /^Test result: (SUCCESS|FAILURE|ERROR|SKIP)/.exec(line);
  return m ? m[1]! : 'NO-RESULT'; // SAFETY: group 1 always matches when m does
}

function cfgValue(lines: readonly string[], key: string): number {
  for (const l of lines) {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*(\\d+)`).exec(l);
    if (m) return Number(m[1]);
  }
  return -1;
}

export async function runScenario(s: DevchanScenario, opts: { timeoutMs?: number; maxSystemNs?: number } = {}): Promise<ScenarioRun> {
  const xenLog: string[] = [];
  const storeLog: string[] = [];
  const host = new Host({ memoryMiB: 256, clock: 'virtual', xenLog: (l) => xenLog.push(l) });
  const daemon = new XenStored({ platform: new XcPlatform(host.xc, host.events), log: (l) => storeLog.push(l) });
  const xs = new XsLocalHandle(daemon);
  const guests = s.domains.map((d) => {
    const lines = [`name="${s.name}-${d.name}"`, `kernel="${join(BUILD, d.kernel)}"`, `memory=${d.memoryMiB ?? 32}`,
      `vcpus=${d.vcpus ?? 1}`, 'on_crash="destroy"', 'on_reboot="destroy"', ...(d.cfg ?? [])];
    const cfg = pvConfig(parseXlConfig(lines.join('\n'), `${s.name}/${d.name}`));
    let text = '';
    const g = host.toolstack.createPv(cfg, readFileSync(join(BUILD, d.kernel)), {
      paused: true, sink: (b) => { text += Buffer.from(b).toString('latin1'); },
    });
    const dom = host.xen.domain(g.domid)!; // SAFETY: createPv just created it
    const mgf = cfgValue(d.cfg ?? [], 'max_grant_frames'), mmf = cfgValue(d.cfg ?? [], 'max_maptrack_frames');
    if (mgf >= 0 || mmf >= 0) {
      const rc = grantTables(host.xen).setLimits(dom, mgf, mmf);
      if (rc !== 0) throw new Error(`${d.name}: grant limits refused: ${rc}`);
    }
    const mec = cfgValue(d.cfg ?? [], 'max_event_channels');
    // libxl passes max_event_channels as max_evtchn_port (the highest usable port).
    if (mec > 0) dom.evtchn.maxPorts = mec + 1;
    return { spec: d, guest: g, text: () => text };
  });
  const idOf = new Map(guests.map((g) => [g.spec.name, g.guest.domid]));
  for (const { spec, guest } of guests) {
    const id = guest.domid;
    createDomainTree(xs, { domid: asDomId(id), name: `${s.name}-${spec.name}`, uuid: `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`,
      memoryKiB: (spec.memoryMiB ?? 32) * 1024, vcpus: spec.vcpus ?? 1,
      store: { gfn: asGfn(guest.built.storeMfn), port: asEvtchnPort(guest.built.storePort) },
      console: { gfn: asGfn(guest.built.consoleMfn), port: asEvtchnPort(guest.built.consolePort) } });
    const home = `/local/domain/${id}/devchan`;
    xs.write(home, '');
    const peer = spec.peer !== undefined ? idOf.get(spec.peer) : undefined;
    xs.setPerms(home, peer !== undefined ? [`n${id}`, `r${peer}`] : [`n${id}`]);
    if (peer !== undefined) xs.write(`${home}/peer`, String(peer));
    xs.write(`${home}/role`, spec.role);
    xs.introduce(asDomId(id), asGfn(guest.built.storeMfn), asEvtchnPort(guest.built.storePort));
  }
  for (const { guest } of guests) host.toolstack.unpause(guest.domid);
  const t0 = Date.now();
  const end = await host.runUntil(() => guests.every((g) => g.guest.exit !== null),
    { timeoutMs: opts.timeoutMs ?? 300_000, maxSystemNs: opts.maxSystemNs ?? 600e9 });
  const systemNs = host.xen.time.now();
  for (const { guest } of guests) if (guest.exit === null) host.toolstack.destroy(guest.domid);
  daemon.domains.checkDomains();
  const domains: Record<string, DomainRun> = {};
  for (const g of guests) {
    const text = g.text();
    const lines = text.split(/\r?\n/).filter((l) => l.startsWith('Test result:'));
    const resultLine = lines.length > 0 ? lines[lines.length - 1]! : null; // SAFETY: length checked
    domains[g.spec.name] = { domid: g.guest.domid, console: text, resultLine, verdict: verdictOf(resultLine),
      exitReason: g.guest.exit?.reason ?? null };
  }
  return { end, domains, audit: auditMemory(host.xen), systemNs, hostMs: Date.now() - t0, xenLog, storeLog };
}
