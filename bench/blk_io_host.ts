/**
 * A host for the end-to-end I/O tests and benchmarks: the embedded hypervisor and dom0
 * with xenstored, the split-driver backends (SplitDrivers: blkback, netback on xenbr0 with
 * the user-mode gateway) and minios guests created the way the toolstack does it
 * (paused, domain tree written, introduced to xenstored, devices attached, unpaused).
 *
 * Virtual time: backends do host file I/O asynchronously. The run loop never lets the
 * machine idle-jump to its next timer while that I/O is in flight: when no vCPU can run
 * and the backends are busy, it waits for them first (docs/split-drivers.md).
 *
 * Invariants: every guest this host created is destroyed by teardown(), its devices are
 * released through the device API, and xenstored is told, so the leak checks of a test
 * see only what the test itself left behind.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Host, type HostOptions } from '../src/host/host.ts';
import { parseXlConfig, pvConfig } from '../src/dom0/toolstack/xl_config.ts';
import { XenStored } from '../src/dom0/xenstored/xenstored.ts';
import { XsLocalHandle } from '../src/dom0/xenstored/local_handle.ts';
import { createDomainTree, removeDomainTree } from '../src/dom0/xenstored/domain_tree.ts';
import { XcPlatform } from '../src/dom0/xenstored/xc_platform.ts';
import { asDomId, asEvtchnPort, asGfn } from '../src/abi/types.ts';
import { SplitDrivers, type SplitDriversOptions } from '../src/dom0/backends/split_drivers.ts';
import type { VbdSpec, VifSpec } from '../src/dom0/backends/device_specs.ts';
import type { Guest } from '../src/dom0/toolstack/toolstack.ts';
import { createUserNet, type UserNet } from '../src/dom0/net/node_net.ts';
import type { GatewayConfig } from '../src/dom0/net/gateway.ts';
import type { NetbackConfig } from '../src/dom0/backends/netback/netback_env.ts';

export const MINIOS_ELF = fileURLToPath(new URL('../guests/build/minios.elf', import.meta.url));

export interface GuestSpec {
  readonly name: string;
  readonly memoryMiB?: number;
  readonly vcpus?: number;
  /** minios command line (xl's extra=). */
  readonly extra?: string;
  readonly disks?: readonly VbdSpec[];
  readonly vifs?: readonly VifSpec[];
  /** Leave it paused. */
  readonly paused?: boolean;
}

export class IoGuest {
  text = '';
  constructor(readonly spec: GuestSpec, readonly guest: Guest, readonly uuid: string) {}

  get domid(): number {
    return this.guest.domid;
  }

  get exited(): boolean {
    return this.guest.exit !== null;
  }

  /** Type on its console. */
  type(line: string): void {
    this.guest.console.input(new TextEncoder().encode(line));
  }
}

export class IoHost {
  readonly host: Host;
  readonly daemon: XenStored;
  readonly xs: XsLocalHandle;
  readonly drivers: SplitDrivers;
  readonly storeLog: string[] = [];
  readonly guests: IoGuest[] = [];

  readonly net: UserNet | null;

  constructor(opts: HostOptions = {}, drv: Partial<SplitDriversOptions> = {}, net: UserNet | null = null,
    netConfig: Partial<NetbackConfig> = {}) {
    this.host = new Host({ memoryMiB: 256, clock: 'virtual', ...opts });
    this.daemon = new XenStored({ platform: new XcPlatform(this.host.xc, this.host.events), log: (l) => this.storeLog.push(l) });
    this.xs = new XsLocalHandle(this.daemon);
    this.net = net;
    this.drivers = new SplitDrivers({
      xc: this.host.xc, events: this.host.events, xs: this.xs,
      net: net === null ? undefined : { bridge: net.bridge, gateway: net.gateway, trace: net.trace, config: netConfig },
      ...drv,
    });
  }

  /** A host with xenbr0 and the user-mode gateway (host sockets, loopback only). */
  static async withNet(opts: HostOptions = {}, gw: GatewayConfig = {}, netConfig: Partial<NetbackConfig> = {}): Promise<IoHost> {
    const net = await createUserNet({ dnsUpstream: null, ...gw });
    return new IoHost(opts, {}, net, netConfig);
  }

  /** Create, attach devices, unpause (unless paused). */
  create(spec: GuestSpec): IoGuest {
    const h = this.host;
    const lines = [`name="${spec.name}"`, `kernel="${MINIOS_ELF}"`, `memory=${spec.memoryMiB ?? 32}`, `vcpus=${spec.vcpus ?? 1}`,
      'on_crash="destroy"', 'on_reboot="destroy"'];
    if (spec.extra !== undefined) lines.push(`extra="${spec.extra.replace(/"/g, '\\"')}"`);
    const cfg = pvConfig(parseXlConfig(lines.join('\n'), spec.name));
    const out = { g: null as IoGuest | null }; // SAFETY: set right after createPv, before the guest runs
    const guest = h.toolstack.createPv(cfg, readFileSync(MINIOS_ELF), {
      paused: true, sink: (b) => { if (out.g !== null) out.g.text += Buffer.from(b).toString('latin1'); },
    });
    const id = guest.domid;
    const uuid = `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`;
    const g = new IoGuest(spec, guest, uuid);
    out.g = g;
    const b = guest.built;
    createDomainTree(this.xs, {
      domid: asDomId(id), name: spec.name, uuid, memoryKiB: (spec.memoryMiB ?? 32) * 1024, vcpus: spec.vcpus ?? 1,
      store: { gfn: asGfn(b.storeMfn), port: asEvtchnPort(b.storePort) },
      console: { gfn: asGfn(b.consoleMfn), port: asEvtchnPort(b.consolePort) },
    });
    this.xs.introduce(asDomId(id), asGfn(b.storeMfn), asEvtchnPort(b.storePort));
    for (const d of spec.disks ?? []) this.drivers.attachVbd(id, d);
    for (const v of spec.vifs ?? []) this.drivers.attachVif(id, v);
    this.guests.push(g);
    if (spec.paused !== true) h.toolstack.unpause(id);
    return g;
  }

  /** Run until `done()`, honouring backend I/O in virtual time. */
  async run(done: () => boolean, opts: { maxSystemNs?: number; timeoutMs?: number; untilIdle?: boolean } = {}): Promise<'done' | 'limit' | 'timeout' | 'idle'> {
    const h = this.host;
    const t0 = Date.now();
    const limit = opts.maxSystemNs ?? h.xen.time.now() + 300e9;
    const hostClock = h.clockKind !== 'virtual';
    for (;;) {
      if (done()) return 'done';
      // Backend file I/O in flight and nothing else to do: wait for it rather than let
      // the machine idle-jump to its next timer (a guest would time out on a request the
      // host completes in microseconds).
      // The wait is charged to virtual time (the device took that long, up to the next
      // timer), so a guest measuring its disk sees the host's real latency.
      if (!h.xen.hasRunnable() && h.xen.pv.nativePending.size === 0 && this.drivers.busy()) {
        const t0 = process.hrtime.bigint();
        await this.drivers.progress();
        await new Promise<void>((r) => setImmediate(r));
        if (!hostClock) {
          const to = Math.min(h.xen.time.now() + Number(process.hrtime.bigint() - t0), h.xen.timers.nextDeadline());
          if (to > h.xen.time.now()) h.xen.time.advanceTo(to);
        }
        continue;
      }
      if (hostClock && !h.xen.hasRunnable()) {
        // Real time: sleep until the next timer (at most 2 ms, so host sockets are served).
        const waitMs = Math.max(0, Math.min(2, (h.xen.timers.nextDeadline() - h.xen.time.now()) / 1e6));
        await new Promise<void>((r) => setTimeout(r, waitMs));
      }
      const now = h.step(10_000_000);
      if (done()) return 'done';
      if (now >= limit) return 'limit';
      if (Date.now() - t0 >= (opts.timeoutMs ?? 240_000)) return 'timeout';
      if (h.idle() && !this.drivers.busy()) {
        await new Promise<void>((r) => setImmediate(r));
        if (h.idle() && !this.drivers.busy() && !done()) {
          if (opts.untilIdle !== false) return 'idle';
          // Something outside the machine (a native frontend's promise) is still pending.
          await new Promise<void>((r) => setTimeout(r, 1));
        }
      }
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Run the machine until `p` settles; its value (or its rejection). */
  async until<T>(p: Promise<T>, opts: { maxSystemNs?: number; timeoutMs?: number } = { timeoutMs: 30_000 }): Promise<T> {
    let settled = false;
    const q = p.finally(() => { settled = true; });
    q.catch(() => undefined);
    const end = await this.run(() => settled, { ...opts, untilIdle: false });
    if (!settled) throw new Error(`machine stopped (${end}) before the operation finished`);
    return q;
  }

  /** Run until every guest exited. */
  runAll(opts: { maxSystemNs?: number; timeoutMs?: number } = {}): Promise<string> {
    return this.run(() => this.guests.every((g) => g.exited), opts);
  }

  /** Destroy a guest the way the toolstack does, with its devices and store entries. */
  destroy(g: IoGuest): void {
    if (!g.exited) this.host.toolstack.destroy(g.domid);
    this.drivers.releaseDomain(g.domid);
    removeDomainTree(this.xs, asDomId(g.domid), g.uuid);
    this.daemon.domains.checkDomains();
  }

  teardown(): void {
    for (const g of this.guests) this.destroy(g);
    this.net?.close();
  }
}
