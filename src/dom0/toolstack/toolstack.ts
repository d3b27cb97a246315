/**
 * The guest lifecycle, what libxl does for xl (for PV guests): build a domain from its
 * config and kernel, give it its xenstore home and console, attach its devices, unpause
 * it; watch for it to stop (VIRQ_DOM_EXC, then getdomaininfo, as libxl's domain-death
 * watch) and apply its on_poweroff/on_reboot/on_crash/on_watchdog action; destroy it with
 * full cleanup. Queries and control operations (list, vcpu-list, mem-set, ...) live in
 * toolstack_ops.ts, save/restore in save.ts/restore.ts; this module owns the records.
 *
 * Invariants:
 *  - A guest is in `_guests` from creation until it is destroyed (a preserved guest stays,
 *    shut down, until `destroy`).
 *  - Teardown order (libxl__destroy_domid): devices (forced), the console (drained, so the
 *    last lines are never lost), xenstore (release + the domain's trees), then the domain.
 *    Its memory returns to the hypervisor's pool when the last reference goes.
 *  - Every onExit listener runs exactly once, after the action has been applied; a restart
 *    creates a new Guest (same name and UUID) before the old one's listeners run.
 *  - Nothing here blocks: the host runs us between scheduler slices.
 */
import { randomBytes } from 'node:crypto';
import { VIRQ_DOM_EXC } from '../../abi/xen.ts';
import { asDomId, asEvtchnPort, asGfn } from '../../abi/types.ts';
import { SHUTDOWN_crash, SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_soft_reset, SHUTDOWN_suspend, SHUTDOWN_watchdog } from '../../abi/sched.ts';
import { type Xc, XcError } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import type { ConsoleBackend, ConsoleConnection, ConsoleSink } from '../console/console_backend.ts';
import type { XsLocalHandle } from '../xenstored/local_handle.ts';
import { createDomainTree, removeDomainTree, withTransaction } from '../xenstored/domain_tree.ts';
import { buildPvDomain } from './pv_builder.ts';
import { BuildError } from './xen_elf.ts';
import { createLimits, type OnAction, type PvGuestConfig } from './xl_config.ts';
import { Guest, type GuestExit } from './guest.ts';
import { XlError } from './xl_error.ts';
import { domInfo, setVcpuAffinity, schedCreditSet, uuidBytes, uuidText, physInfo, randomUuid } from './xc_domain.ts';
import { saveDomain, type SaveOptions } from './save.ts';
import { restoreDomain, type RestoreOptions } from './restore.ts';
import { parseCpuRange } from './xl_values.ts';
import { attachConfiguredDevices, releaseDevices, type DeviceDrivers } from './device_ops.ts';
import type { Dom0NetEndpoint, PingResult, UdpEchoResult } from './dom0_net.ts';
import { listDomains, memSetKb, vcpuList, type DomainListEntry, type VcpuListEntry } from './toolstack_ops.ts';
import { parseMemSizeKb } from './xl_values.ts';

export { Guest, type GuestExit, randomUuid };

export interface CreateOptions {
  /** Where the guest's console output goes (the `-c` terminal). */
  readonly sink?: ConsoleSink | null;
  /** Leave the guest paused (xl create -p). */
  readonly paused?: boolean;
  /** The domain's UUID (default: the config's uuid=, else a random version-4 UUID as libxl makes). */
  readonly uuid?: Uint8Array;
  /** The ramdisk image for config.ramdisk (read by the caller). */
  readonly ramdisk?: Uint8Array | null;
}

/** What the toolstack tells its host (the daemon streams these to `shutdown -w`, consoles, ...). */
export type ToolstackEvent =
  | { readonly type: 'created'; readonly guest: Guest }
  | { readonly type: 'shutdown'; readonly guest: Guest; readonly reason: number; readonly action: OnAction | 'none' }
  | { readonly type: 'destroyed'; readonly domid: number; readonly name: string }
  | { readonly type: 'restarted'; readonly from: Guest; readonly to: Guest }
  | { readonly type: 'log'; readonly line: string };

export interface ToolstackOptions {
  /** Hypervisor system time in ns (uptimes, save headers). Default: host time. */
  readonly now?: () => number;
  /** Random bytes for UUIDs and MACs (tests pass a seeded one). */
  readonly random?: (n: number) => Uint8Array;
}


/** A xenstored that the toolstack keeps informed (XenStored.domains.checkDomains). */
export interface StoreDaemon {
  readonly domains: { checkDomains(): void };
}

export class Toolstack {
  private readonly _guests = new Map<number, Guest>();
  private readonly _virqPort: number;
  private readonly _listeners = new Set<(e: ToolstackEvent) => void>();
  private _store: XsLocalHandle | null = null;
  private _storeDaemon: StoreDaemon | null = null;
  private _drivers: DeviceDrivers | null = null;
  private _dom0Net: Dom0NetEndpoint | null = null;
  /** Callers waiting for a domain's next shutdown (save waits for SHUTDOWN_suspend). */
  private readonly _shutdownWaiters = new Map<number, (reason: number | null) => void>();
  readonly now: () => number;
  readonly random: (n: number) => Uint8Array;

  constructor(readonly xc: Xc, private readonly _events: Dom0Events, readonly consoles: ConsoleBackend,
    opts: ToolstackOptions = {}) {
    const p = xc.bindVirq(VIRQ_DOM_EXC);
    if (p < 0) throw new XcError('binding VIRQ_DOM_EXC', p);
    this._virqPort = p;
    this.now = opts.now ?? (() => Date.now() * 1e6);
    this.random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    _events.on(p, () => this.poll());
  }

  /** Give the toolstack dom0's xenstore: domain homes, control/shutdown, memory targets, devices. */
  attachStore(xs: XsLocalHandle, daemon: StoreDaemon | null = null): void {
    this._store = xs;
    this._storeDaemon = daemon;
  }

  /** Give the toolstack the backends' device API (disk=, vif=, block-/network-attach). */
  attachDrivers(drivers: DeviceDrivers): void {
    this._drivers = drivers;
  }

  /** Give the toolstack dom0's own address on xenbr0 (dom0Ping, dom0UdpEcho). */
  attachDom0Net(ep: Dom0NetEndpoint | null): void {
    this._dom0Net = ep;
  }

  get store(): XsLocalHandle | null {
    return this._store;
  }

  get drivers(): DeviceDrivers | null {
    return this._drivers;
  }

  get guests(): IterableIterator<Guest> {
    return this._guests.values();
  }

  guest(nameOrId: string | number): Guest | undefined {
    if (typeof nameOrId === 'number') return this._guests.get(nameOrId);
    for (const g of this._guests.values()) if (g.name === nameOrId) return g;
    return undefined;
  }

  /** A domain's name (Domain-0 for dom0), or null if the toolstack does not know it. */
  nameOf(domid: number): string | null {
    if (domid === this.xc.domid) return 'Domain-0';
    return this._guests.get(domid)?.name ?? this._store?.tryRead(`/local/domain/${domid}/name`) ?? null;
  }

  /**
   * xl's find_domain: a number is a domid (taken as is), anything else a name that must
   * exist. Throws XlError with xl's message.
   */
  resolve(qualifier: string): number {
    if (/^\d+$/.test(qualifier)) return Number(qualifier);
    if (qualifier === 'Domain-0') return this.xc.domid;
    const g = this.guest(qualifier);
    if (g === undefined) throw new XlError(`${qualifier} is an invalid domain identifier (rc=-6)`);
    return g.domid;
  }

  /** A guest that must exist (for operations on a guest domain); xl's message otherwise. */
  needGuest(domid: number): Guest {
    const g = this._guests.get(domid);
    if (g === undefined) {
      if (domid === this.xc.domid) throw new XlError('this operation is not supported on Domain-0');
      throw new XlError(`libxl: error: Domain ${domid}:Non-existant domain`);
    }
    return g;
  }

  onEvent(fn: (e: ToolstackEvent) => void): () => void {
    this._listeners.add(fn);
    return () => void this._listeners.delete(fn);
  }

  emit(e: ToolstackEvent): void {
    for (const fn of [...this._listeners]) fn(e);
  }

  log(line: string): void {
    this.emit({ type: 'log', line });
  }

  /** xl create: build, xenstore, console, devices, unpause. Throws BuildError, XcError, XlError. */
  createPv(cfg: PvGuestConfig, kernel: Uint8Array, opts: CreateOptions = {}): Guest {
    const live = this.guest(cfg.name);
    if (live !== undefined) throw new XlError(`libxl: error: Domain with name "${cfg.name}" already exists.`);
    if (cfg.ramdisk !== null && (opts.ramdisk === undefined || opts.ramdisk === null)) {
      throw new XlError(`ramdisk ${cfg.ramdisk} was not loaded`);
    }
    if ((cfg.disks.length > 0 || cfg.vifs.length > 0) && (this._drivers === null || this._store === null)) {
      throw new XlError(`${cfg.disks.length > 0 ? 'disk=' : 'vif='} needs the split-driver backends and xenstored, which this host does not run`);
    }
    const uuid = opts.uuid ?? (cfg.uuid !== null ? uuidBytes(cfg.uuid) : randomUuid(this.random));
    const built = buildPvDomain(this.xc, {
      kernel, memoryMiB: cfg.memoryMiB, maxmemMiB: cfg.maxmemMiB, vcpus: cfg.maxvcpus, cmdline: cfg.cmdline,
      backendDomid: this.xc.domid, handle: uuid, ramdisk: opts.ramdisk ?? undefined, limits: createLimits(cfg),
    });
    const domid = built.domid;
    let con: ConsoleConnection | null = null;
    let g: Guest | null = null;
    try {
      // libxl__domain_build / libxl__build_post: resources and scheduling before the guest runs.
      for (const [first, last] of cfg.ioports) {
        const rc = this.xc.ioportPermission(domid, first, last - first + 1, true);
        if (rc < 0) throw new XcError(`granting ports ${first.toString(16)}-${last.toString(16)}`, rc);
      }
      this._applySchedParams(domid, cfg);
      this._writeXenstore(domid, uuidText(uuid), cfg, built.storeMfn, built.storePort, built.consoleMfn, built.consolePort);
      con = this.consoles.attach(domid, built.consoleMfn, built.consolePort, null, cfg.name);
      g = new Guest(cfg.name, domid, uuidText(uuid), cfg, built, con,
        { kernel, ramdisk: opts.ramdisk ?? null }, this.now());
      if (opts.sink) g.addConsoleListener(opts.sink);
      this._guests.set(domid, g);
      if (this._drivers !== null) attachConfiguredDevices(this, g, this._drivers);
    } catch (e) {
      if (g !== null) this._guests.delete(domid);
      this._teardown(domid, g, uuidText(uuid));
      throw e;
    }
    this.emit({ type: 'created', guest: g });
    if (!opts.paused) {
      const rc = this.xc.unpauseDomain(domid);
      if (rc < 0) {
        this.destroy(domid);
        throw new XcError('unpausing the new domain', rc);
      }
    }
    return g;
  }

  unpause(domid: number): number {
    return this.xc.unpauseDomain(domid);
  }

  /** xl destroy: devices, console (drained), xenstore, then the domain itself. */
  destroy(domid: number, reason = -1, action: GuestExit['action'] = 'destroyed'): void {
    const g = this._guests.get(domid);
    this._guests.delete(domid);
    this._teardown(domid, g ?? null);
    if (g !== undefined) {
      this.emit({ type: 'destroyed', domid, name: g.name });
      g.finish({ reason, action });
    }
  }

  /**
   * Release everything a (possibly half-built) domain holds, then destroy it. `uuid` names
   * its /vm directory when there is no Guest yet. The domain is destroyed whatever the
   * cleanup before it meets (a half-built domain may lack some of it): a failure there is
   * logged, never allowed to leave the domain and its memory behind or to hide the error
   * that made a creation fail.
   */
  private _teardown(domid: number, g: Guest | null, uuid: string | null = g?.uuid ?? null): void {
    try {
      if (g !== null && this._drivers !== null) releaseDevices(this._drivers, g);
      else this._drivers?.releaseDomain(domid);
      this.consoles.detach(domid);
      if (this._store !== null) {
        try {
          this._store.release(asDomId(domid));
        } catch {
          // Not introduced (creation failed early) or already released on death.
        }
        if (uuid !== null) removeDomainTree(this._store, asDomId(domid), uuid);
        else this._store.rm(`/local/domain/${domid}`);
      }
    } catch (e) {
      this.log(`domain ${domid}: cleanup before destroying it failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this._shutdownWaiters.get(domid)?.(null);
      this.xc.destroyDomain(domid);
    }
  }

  /**
   * xl shutdown / reboot (libxl_domain_shutdown/reboot): ask the guest through xenstore's
   * control/shutdown, as a PV guest's only graceful interface. Throws XlError when there
   * is no xenstore to ask through.
   */
  requestShutdown(domid: number, how: 'poweroff' | 'reboot' | 'halt' | 'suspend'): void {
    const g = this.needGuest(domid);
    if (this._store === null) {
      throw new XlError('PV control interface not available: external graceful shutdown not possible.\n'
        + `${how === 'reboot' ? 'reboot' : 'shutdown'} failed (rc=-8)`);
    }
    if (g.exit !== null) throw new XlError(`${how === 'reboot' ? 'reboot' : 'shutdown'} failed (rc=-3): domain ${domid} has already shut down`);
    this._store.write(`/local/domain/${domid}/control/shutdown`, how);
  }

  /** The minios harness's name for requestShutdown (poweroff or reboot). */
  shutdown(domid: number, how: 'poweroff' | 'reboot' = 'poweroff'): void {
    this.requestShutdown(domid, how);
  }

  /** Resolves with the shutdown reason when `domid` next shuts down (null if it died first). */
  waitShutdown(domid: number): Promise<number | null> {
    return new Promise((resolve) => {
      const prev = this._shutdownWaiters.get(domid);
      this._shutdownWaiters.set(domid, (r) => {
        prev?.(r);
        resolve(r);
      });
    });
  }

  /** The domain-death watch: find guests that shut down and apply their on_* action. */
  poll(): void {
    for (const g of [...this._guests.values()]) {
      if (g.preserved || g.exit !== null) {
        if (domInfo(this.xc, g.domid) === null) this._guests.delete(g.domid); // destroyed behind our back
        continue;
      }
      const info = domInfo(this.xc, g.domid);
      if (info === null || info.dying) {
        this._guests.delete(g.domid);
        this._teardown(g.domid, g);
        this.emit({ type: 'destroyed', domid: g.domid, name: g.name });
        g.finish({ reason: -1, action: 'destroyed' });
        continue;
      }
      if (!info.shutdown) continue;
      g.console.pump();
      const waiter = this._shutdownWaiters.get(g.domid);
      if (waiter !== undefined) {
        this._shutdownWaiters.delete(g.domid);
        waiter(info.shutdownReason);
        if (info.shutdownReason === SHUTDOWN_suspend) continue; // the saver takes it from here
      }
      if (info.shutdownReason === SHUTDOWN_suspend) {
        // xl: "Domain has suspended." and nothing else (a saver owns suspended domains).
        this.log(`Domain ${g.domid} has suspended.`);
        g.preserved = true;
        continue;
      }
      this._applyAction(g, info.shutdownReason);
    }
    this._storeDaemon?.domains.checkDomains();
  }

  private _applyAction(g: Guest, reason: number): void {
    let action = actionFor(g.config, reason);
    this.log(`Domain ${g.domid} has shut down, reason code ${reason} 0x${reason.toString(16)}`);
    this.log(`Action for shutdown reason code ${reason} is ${action}`);
    this.emit({ type: 'shutdown', guest: g, reason, action });
    if (action === 'coredump-destroy' || action === 'coredump-restart' || action === 'soft-reset') {
      const to: OnAction = action === 'coredump-restart' ? 'restart' : 'destroy';
      this.log(`${action} is not supported by tsxen: doing ${to}`);
      action = to;
    }
    switch (action) {
      case 'preserve':
        g.preserved = true;
        g.finish({ reason, action });
        return;
      case 'destroy':
        this.log(`Domain ${g.domid} needs to be cleaned up: destroying the domain`);
        this.destroy(g.domid, reason, action);
        return;
      case 'restart':
      case 'rename-restart': {
        if (action === 'rename-restart') {
          const d = new Date(Date.now());
          const p = (n: number): string => String(n).padStart(2, '0');
          const suffix = `-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`;
          const oldName = g.name;
          this.log(`Preserving domain ${g.domid} ${oldName} with suffix${suffix}`);
          this.renameRecord(g, `${oldName}${suffix}`);
          g.preserved = true;
          this._restart(g, reason, action, oldName, false);
        } else {
          this.log(`Domain ${g.domid} needs to be cleaned up: destroying the domain`);
          this._guests.delete(g.domid);
          this._teardown(g.domid, g);
          this.emit({ type: 'destroyed', domid: g.domid, name: g.name });
          this._restart(g, reason, action, g.name, true);
        }
        return;
      }
      default:
        this.destroy(g.domid, reason, action);
    }
  }

  /** Build the guest again from its config (xl's "goto start" after a reboot). */
  private _restart(old: Guest, reason: number, action: OnAction, name: string, sameUuid: boolean): void {
    this.log('Done. Rebooting now');
    try {
      if (old.images.kernel === null) throw new XlError(`the kernel ${old.config.kernel} could not be read when the domain was restored`);
      const cfg = { ...old.config, name };
      const g = this.createPv(cfg, old.images.kernel, {
        ramdisk: old.images.ramdisk, uuid: sameUuid ? uuidBytes(old.uuid) : undefined,
      });
      old.restartedAs = g;
      this.emit({ type: 'restarted', from: old, to: g });
    } catch (e) {
      const msg = e instanceof BuildError || e instanceof XcError || e instanceof XlError ? e.message : String(e);
      this.log(`restarting ${name} failed: ${msg}`);
    }
    old.finish({ reason, action });
  }

  /** Rename a record and its xenstore name (xl rename; rename-restart's preserved copy). */
  renameRecord(g: Guest, newName: string): void {
    g.name = newName;
    if (this._store !== null) {
      withTransaction(this._store, (tx) => {
        this._store!.write(`/local/domain/${g.domid}/name`, newName, tx); // non-null: checked above
        this._store!.write(`/vm/${g.uuid}/name`, newName, tx);
      });
    }
  }

  private _applySchedParams(domid: number, cfg: PvGuestConfig): void {
    if (cfg.cpuWeight !== null || cfg.cap !== null) {
      const rc = schedCreditSet(this.xc, domid, { weight: cfg.cpuWeight ?? undefined, cap: cfg.cap ?? undefined });
      if (rc < 0) throw new XcError('setting cpu_weight/cap', rc);
    }
    const pi = physInfo(this.xc);
    const nrCpus = typeof pi === 'number' ? 1 : pi.nrCpus;
    const pin = (spec: string | readonly string[] | null, hard: boolean): void => {
      if (spec === null) return;
      for (let v = 0; v < cfg.maxvcpus; v++) {
        const text = typeof spec === 'string' ? spec : spec[v];
        if (text === undefined) break;
        const cpus = parseCpuRange(text, nrCpus);
        if (typeof cpus === 'string') throw new XlError(`${hard ? 'cpus' : 'cpus_soft'}: ${cpus}`);
        const bad = cpus.find((c) => c >= nrCpus);
        if (bad !== undefined || cpus.length === 0) {
          throw new XlError(`${hard ? 'cpus' : 'cpus_soft'}: "${text}" names no CPU of this host (it has ${nrCpus}: 0-${nrCpus - 1})`);
        }
        const rc = setVcpuAffinity(this.xc, domid, v, hard ? cpus : null, hard ? null : cpus, nrCpus);
        if (rc < 0) throw new XcError(`setting the affinity of vCPU ${v}`, rc);
      }
    };
    pin(cfg.cpus, true);
    pin(cfg.cpusSoft, false);
  }

  /** libxl's domain tree, the store introduction and /vm/<uuid>/start_time. */
  private _writeXenstore(domid: number, uuid: string, cfg: PvGuestConfig, storeMfn: number, storePort: number,
    consoleMfn: number, consolePort: number): void {
    const xs = this._store;
    if (xs === null) return;
    createDomainTree(xs, {
      domid: asDomId(domid), name: cfg.name, uuid, memoryKiB: cfg.memoryMiB * 1024, maxMemoryKiB: cfg.maxmemMiB * 1024,
      vcpus: cfg.vcpus, store: { gfn: asGfn(storeMfn), port: asEvtchnPort(storePort) },
      console: { gfn: asGfn(consoleMfn), port: asEvtchnPort(consolePort) },
    });
    withTransaction(xs, (tx) => {
      const ro = ['n0', `r${domid}`];
      for (let i = cfg.vcpus; i < cfg.maxvcpus; i++) {
        xs.write(`/local/domain/${domid}/cpu/${i}/availability`, 'offline', tx);
        xs.setPerms(`/local/domain/${domid}/cpu/${i}/availability`, ro, tx);
      }
      xs.write(`/vm/${uuid}/start_time`, (Date.now() / 1000).toFixed(2), tx);
      xs.write(`/local/domain/${domid}/image/ostype`, 'linux', tx);
    });
    xs.introduce(asDomId(domid), asGfn(storeMfn), asEvtchnPort(storePort));
  }

  /** Forget a guest record without touching the domain (restore hands it over; save ends it). */
  adopt(g: Guest): void {
    this._guests.set(g.domid, g);
  }

  forget(domid: number): void {
    this._guests.delete(domid);
  }

  /** @internal for save/restore: rewrite xenstore and introduce a rebuilt domain. */
  writeXenstoreFor(domid: number, uuid: string, cfg: PvGuestConfig, storeMfn: number, storePort: number,
    consoleMfn: number, consolePort: number): void {
    this._writeXenstore(domid, uuid, cfg, storeMfn, storePort, consoleMfn, consolePort);
  }

  /** @internal for save/restore: scheduling parameters of a rebuilt domain. */
  applySchedParams(domid: number, cfg: PvGuestConfig): void {
    this._applySchedParams(domid, cfg);
  }

  /** @internal for save/restore: tear a domain down like destroy without an exit record. */
  teardown(domid: number, g: Guest | null, uuid?: string): void {
    this._guests.delete(domid);
    this._teardown(domid, g, uuid ?? g?.uuid ?? null);
  }

  // ---- conveniences (the names the minios harness and the daemon use) -------------------

  /** xl mem-set: a number is MiB (the harness's unit), a string xl's size syntax (512m, 65536k). */
  memSet(domid: number, target: number | string): void {
    const kb = typeof target === 'number' ? target * 1024 : parseMemSizeKb(target);
    if (kb === null) throw new XlError(`invalid memory size: ${target}`);
    memSetKb(this, domid, kb, String(target));
  }

  /** One domain's `xl list` row (throws XlError if it does not exist). */
  domainInfo(domid: number): DomainListEntry {
    return listDomains(this, domid)[0]!;
  }

  vcpuList(domid?: number): VcpuListEntry[] {
    return vcpuList(this, domid === undefined ? undefined : [domid]);
  }

  /** `ping -c count ip` from dom0 on xenbr0 (dom0_net.ts); throws without a network. */
  dom0Ping(ip: string, count: number, timeoutMs?: number): Promise<PingResult> {
    return this._needDom0Net().ping(ip, count, timeoutMs);
  }

  /** dom0 sends `count` UDP datagrams to ip:port, each after the last came back (dom0_net.ts). */
  dom0UdpEcho(ip: string, port: number, count: number, timeoutMs?: number): Promise<UdpEchoResult> {
    return this._needDom0Net().udpEcho(ip, port, count, timeoutMs);
  }

  private _needDom0Net(): Dom0NetEndpoint {
    if (this._dom0Net === null) throw new XlError('dom0 has no network (the host runs without xenbr0)');
    return this._dom0Net;
  }

  /** xl save into memory (the file's bytes); see save.ts. */
  async save(domid: number, opts: SaveOptions = {}): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    const n = await saveDomain(this, domid, async (c) => void chunks.push(...c), opts);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** xl restore from an image's bytes; see restore.ts. */
  restore(image: Uint8Array, opts: RestoreOptions = {}): Promise<Guest> {
    return restoreDomain(this, image, opts);
  }

  close(): void {
    this._events.off(this._virqPort);
    this.xc.closePort(this._virqPort);
  }
}

function actionFor(cfg: PvGuestConfig, reason: number): OnAction {
  switch (reason) {
    case SHUTDOWN_poweroff:
      return cfg.onPoweroff;
    case SHUTDOWN_reboot:
      return cfg.onReboot;
    case SHUTDOWN_crash:
      return cfg.onCrash;
    case SHUTDOWN_watchdog:
      return cfg.onWatchdog;
    case SHUTDOWN_soft_reset:
      return cfg.onSoftReset;
    default:
      return 'destroy';
  }
}
