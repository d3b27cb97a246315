/**
 * A host for device-channel workloads (the devchan test kernels and benchmarks): the
 * embedded hypervisor + dom0 with its xenstored (Host.xenstored: foreign-mapped rings,
 * interdomain store channels), guests created paused with the standard per-domain tree plus the
 * devchan/ directory the kernels rendezvous through:
 *     /local/domain/X/devchan        perms "nX rY" (Y = the peer, 0 for dom0)
 *     /local/domain/X/devchan/role   the role the kernel plays
 *     /local/domain/X/devchan/peer   Y's domid
 * Shared by tests/devchan (scenarios, dom0 as a peer) and bench/evtchn.ts, bench/gnttab.ts.
 *
 * xl.cfg limits (max_grant_frames, max_maptrack_frames, max_event_channels) are applied
 * to the new domain before it runs, as XEN_DOMCTL_createdomain would.
 */
import { readFileSync } from 'node:fs';
import { Host, type HostOptions } from '../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../src/dom0/toolstack/xl_config.ts';
import { createDomainTree, type XenStored, type XsLocalHandle } from '../src/dom0/xenstored/index.ts';
import { asDomId, asEvtchnPort, asGfn } from '../src/abi/types.ts';
import { grantTables } from '../src/xen/common/grant_table.ts';

export interface DevchanGuestSpec {
  readonly name: string;
  /** Path of the ELF image. */
  readonly kernel: string;
  readonly role: string;
  /** Name of the peer guest, or 'dom0'. */
  readonly peer?: string;
  readonly memoryMiB?: number;
  readonly vcpus?: number;
  readonly cfg?: readonly string[];
}

export interface DevchanGuest {
  readonly spec: DevchanGuestSpec;
  readonly domid: number;
  /** Console output so far (Latin-1). */
  readonly console: () => string;
  readonly exited: () => boolean;
  readonly exitReason: () => number | null;
}

function cfgValue(lines: readonly string[], key: string): number {
  for (const l of lines) {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*(\\d+)`).exec(l);
    if (m) return Number(m[1]);
  }
  return -1;
}

export class DevchanHost {
  readonly host: Host;
  readonly daemon: XenStored;
  readonly xs: XsLocalHandle;
  readonly storeLog: string[] = [];

  constructor(opts: HostOptions = {}) {
    this.host = new Host({ memoryMiB: 256, clock: 'virtual', storeLog: (l) => this.storeLog.push(l), ...opts });
    this.daemon = this.host.xenstored;
    this.xs = this.host.xs;
  }

  /** Create every guest paused, write their trees and devchan directories, introduce them. */
  create(prefix: string, specs: readonly DevchanGuestSpec[]): DevchanGuest[] {
    const h = this.host;
    const made = specs.map((spec) => {
      const lines = [`name="${prefix}-${spec.name}"`, `kernel="${spec.kernel}"`, `memory=${spec.memoryMiB ?? 32}`,
        `vcpus=${spec.vcpus ?? 1}`, 'on_crash="destroy"', 'on_reboot="destroy"', ...(spec.cfg ?? [])];
      const cfg = pvConfig(parseXlConfig(lines.join('\n'), `${prefix}/${spec.name}`));
      let text = '';
      const g = h.toolstack.createPv(cfg, readFileSync(spec.kernel), {
        paused: true, sink: (b) => { text += Buffer.from(b).toString('latin1'); },
      });
      const dom = h.xen.domain(g.domid)!; // SAFETY: createPv just created it
      const mgf = cfgValue(spec.cfg ?? [], 'max_grant_frames'), mmf = cfgValue(spec.cfg ?? [], 'max_maptrack_frames');
      if (mgf >= 0 || mmf >= 0) {
        const rc = grantTables(h.xen).setLimits(dom, mgf, mmf);
        if (rc !== 0) throw new Error(`${spec.name}: grant limits refused: ${rc}`);
      }
      // libxl passes max_event_channels as max_evtchn_port (the highest usable port).
      const mec = cfgValue(spec.cfg ?? [], 'max_event_channels');
      if (mec > 0) dom.evtchn.maxPorts = mec + 1;
      return { spec, g, text: () => text };
    });
    const idOf = new Map<string, number>(made.map((m) => [m.spec.name, m.g.domid]));
    idOf.set('dom0', 0);
    for (const { spec, g } of made) {
      const id = g.domid;
      const b = g.built;
      createDomainTree(this.xs, {
        domid: asDomId(id), name: `${prefix}-${spec.name}`, uuid: `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`,
        memoryKiB: (spec.memoryMiB ?? 32) * 1024, vcpus: spec.vcpus ?? 1,
        store: { gfn: asGfn(b.storeMfn), port: asEvtchnPort(b.storePort) },
        console: { gfn: asGfn(b.consoleMfn), port: asEvtchnPort(b.consolePort) },
      });
      const home = `/local/domain/${id}/devchan`;
      this.xs.write(home, '');
      const peer = spec.peer !== undefined ? idOf.get(spec.peer) : undefined;
      this.xs.setPerms(home, peer !== undefined ? [`n${id}`, `r${peer}`] : [`n${id}`]);
      if (peer !== undefined) this.xs.write(`${home}/peer`, String(peer));
      this.xs.write(`${home}/role`, spec.role);
      if (peer === 0) {
        this.xs.write('/local/domain/0/devchan', '');
        this.xs.setPerms('/local/domain/0/devchan', ['n0', `r${id}`]);
      }
      this.xs.introduce(asDomId(id), asGfn(b.storeMfn), asEvtchnPort(b.storePort));
    }
    return made.map(({ spec, g, text }) => ({
      spec, domid: g.domid, console: text, exited: () => g.exit !== null, exitReason: () => g.exit?.reason ?? null,
    }));
  }

  unpause(guests: readonly DevchanGuest[]): void {
    for (const g of guests) this.host.toolstack.unpause(g.domid);
  }

  /** dom0's devchan/<key> (read by a guest whose peer is dom0). */
  put(key: string, value: string | number): void {
    this.xs.write(`/local/domain/0/devchan/${key}`, String(value));
  }

  /** A guest's devchan/<key>, or undefined. */
  read(domid: number, key: string): string | undefined {
    return this.xs.tryRead(`/local/domain/${domid}/devchan/${key}`);
  }

  /** Run until the guest published <key> (or it stopped, or the limits); its value. */
  async get(g: DevchanGuest, key: string, maxSystemNs = 600e9, timeoutMs = 120_000): Promise<string> {
    await this.host.runUntil(() => this.read(g.domid, key) !== undefined || g.exited(), { maxSystemNs, timeoutMs });
    const v = this.read(g.domid, key);
    if (v === undefined) throw new Error(`${g.spec.name} never published ${key}:\n${g.console()}`);
    return v;
  }

  /** Destroy what still runs and let xenstored release the domains. */
  teardown(guests: readonly DevchanGuest[]): void {
    for (const g of guests) if (!g.exited()) this.host.toolstack.destroy(g.domid);
    this.daemon.domains.checkDomains();
  }
}
