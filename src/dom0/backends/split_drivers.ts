/**
 * The device API of one backend domain (docs/split-drivers.md): its backends (blkback,
 * netback) and what the toolstack calls to plug devices in and out — attachVbd/attachVif
 * at domain creation or hot plug, detach for hot unplug, releaseDomain at destruction.
 *
 * attach* writes both xenstore directories at state Initialising in one transaction (the
 * libxl layout of xenstore.md §9); the backend picks the device up from its watch, runs its
 * hotplug step and goes InitWait; the frontend does the rest whenever it runs. detach is
 * libxl's unplug: backend `online` = 0 and `state` = Closing, wait until the backend has
 * let go of the device (the frontend closed, or force), then both directories are removed
 * with their empty parents.
 *
 * Invariants: nothing is global (one SplitDrivers per backend domain); every device
 * resource (grant mappings, event channels, xenstore nodes, the image file, the bridge
 * port) is released exactly once, and counts() returns to its value before an attach
 * after the matching detach or releaseDomain.
 */
import type { Clock } from '../../hw/clock.ts';
import type { Xc } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import { XenbusStateClosing, XenbusStateConnected, XenbusStateInitWait } from '../../abi/io/xenbus.ts';
import { FramePool } from './frame_pool.ts';
import { GrantAccounting, MapBatch, UnmapBatch } from './grant_ops.ts';
import type { ChannelEnv } from './device_channel.ts';
import { Blkback, type BlkbackOptions } from './blkback/blkback.ts';
import { Netback, type NetbackOptions } from './netback/netback.ts';
import type { XenbusBackend, XenbusDevice, XenbusDeviceEvents } from './xenbus_backend.ts';
import { inTransaction, tryDirectory, tryRm, WatchRouter, type XsHandle } from './xs_handle.ts';
import { parseMacText, randomXenMac, SpecError, vdevNumber, type VbdSpec, type VifSpec } from './device_specs.ts';

export type DeviceType = 'vbd' | 'vif';

export interface DeviceHandle {
  readonly type: DeviceType;
  readonly domid: number;
  readonly devid: number;
  readonly frontend: string;
  readonly backend: string;
  /** The backend reached InitWait (hotplug done); rejects with the hotplug error. */
  readonly ready: Promise<void>;
  /** The backend reached Connected. */
  readonly connected: Promise<void>;
}

export interface DetachOptions {
  /** Tear down at once, whatever the frontend does (domain destruction, hung guest). */
  readonly force?: boolean;
  /** Force after this much host time if the frontend has not closed (libxl: 10 s). */
  readonly timeoutMs?: number;
}

export interface SplitDriversOptions {
  readonly xc: Xc;
  readonly events: Dom0Events;
  readonly xs: XsHandle;
  readonly clock?: Clock;
  readonly blk?: BlkbackOptions;
  /** Where internal errors of a device are reported (besides `errors`). */
  readonly log?: (line: string) => void;
  /** Network backend on this bridge (no vifs without one). */
  readonly net?: Omit<NetbackOptions, 'events' | 'router'>;
}

/** Something a backend driver is: its xenbus bus and whether its native side is busy. */
interface BackendDriver {
  readonly bus: XenbusBackend;
  start(): void;
  close(): void;
}

interface Waiter {
  ready: { resolve(): void; reject(e: Error): void; done: boolean };
  connected: { resolve(): void; reject(e: Error): void; done: boolean };
  removed: Array<() => void>;
}

export class SplitDrivers {
  readonly domid: number;
  readonly xs: XsHandle;
  readonly pool: FramePool;
  readonly acct = new GrantAccounting();
  readonly env: ChannelEnv;
  readonly router: WatchRouter;
  readonly blkback: Blkback;
  readonly netback: Netback | null;
  /** Internal errors caught at device boundaries (each stopped only its device). */
  readonly errors: string[] = [];
  private readonly _drivers = new Map<DeviceType, BackendDriver>();
  private readonly _waiters = new Map<string, Waiter>();
  private _closed = false;

  constructor(opts: SplitDriversOptions) {
    this.domid = opts.xc.domid;
    this.xs = opts.xs;
    this.pool = new FramePool(opts.xc);
    this.env = {
      xc: opts.xc, events: opts.events, pool: this.pool, acct: this.acct,
      ringMap: new MapBatch(opts.xc, this.pool, this.acct, 16),
      ringUnmap: new UnmapBatch(opts.xc, this.pool, this.acct, 16),
    };
    this.router = new WatchRouter(opts.xs);
    const events: XenbusDeviceEvents = {
      onError: (dev, e) => {
        const line = `${dev.type} ${dev.devid} of domain ${dev.frontId}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
        this.errors.push(line);
        opts.log?.(line);
      },
      onState: (dev, state) => this._onState(dev, state),
      onRemoved: (dev) => this._onRemoved(dev),
    };
    this.blkback = new Blkback(this.env, opts.xs, { ...opts.blk, events, router: this.router });
    this._drivers.set('vbd', this.blkback);
    this.netback = opts.net === undefined ? null : new Netback(this.env, opts.xs, { ...opts.net, events, router: this.router });
    if (this.netback !== null) this._drivers.set('vif', this.netback);
    for (const d of this._drivers.values()) d.start();
  }

  // ---- attach ------------------------------------------------------------------------------

  /** Plug a disk into `domid` (at creation, or hot while it runs). */
  attachVbd(domid: number, spec: VbdSpec): DeviceHandle {
    if (typeof spec.target !== 'string' || spec.target === '') throw new SpecError('target (image path) is required');
    const devid = vdevNumber(spec.vdev);
    const access = spec.access ?? 'rw';
    if (!['rw', 'r', 'w', 'ro'].includes(access)) throw new SpecError(`access ${JSON.stringify(access)} is not rw or r`);
    const ro = access === 'r' || access === 'ro';
    const devtype = spec.devtype ?? 'disk';
    if (devtype !== 'disk' && devtype !== 'cdrom') throw new SpecError(`devtype ${JSON.stringify(devtype)} is not disk or cdrom`);
    if (typeof spec.vdev === 'string' && spec.vdev === '') throw new SpecError('vdev is required');
    return this._attach(domid, 'vbd', devid, {
      'virtual-device': String(devid), 'device-type': devtype,
    }, {
      params: spec.target, type: 'file', mode: ro ? 'r' : 'w', dev: typeof spec.vdev === 'string' ? spec.vdev : String(devid),
      'device-type': devtype, removable: '0', bootable: '1',
    });
  }

  /** Plug a network interface into `domid`. */
  attachVif(domid: number, spec: VifSpec = {}): DeviceHandle {
    if (!this._drivers.has('vif')) throw new SpecError('no network backend (netback has no bridge)');
    const mac = spec.mac === undefined ? randomXenMac() : parseMacText(spec.mac);
    const bridge = spec.bridge ?? 'xenbr0';
    if (bridge !== 'xenbr0') throw new SpecError(`bridge ${JSON.stringify(bridge)} does not exist (only xenbr0)`);
    const devid = spec.devid ?? this._freeVifDevid(domid);
    if (!Number.isInteger(devid) || devid < 0 || devid > 0xffff) throw new SpecError(`devid ${devid} out of range`);
    return this._attach(domid, 'vif', devid, { handle: String(devid), mac }, {
      handle: String(devid), mac, bridge, type: 'vif', script: 'vif-bridge',
      'restrict-source': spec.restrictSource === false ? '0' : '1',
    });
  }

  private _freeVifDevid(domid: number): number {
    const used = new Set(tryDirectory(this.xs, `/local/domain/${domid}/device/vif`).map(Number));
    let d = 0;
    while (used.has(d)) d++;
    return d;
  }

  private _attach(domid: number, type: DeviceType, devid: number, front: Record<string, string>,
    back: Record<string, string>): DeviceHandle {
    if (this._closed) throw new SpecError('the backends are closed');
    if (!Number.isInteger(domid) || domid <= 0 || domid >= 0x7ff0) throw new SpecError(`domid ${domid} cannot have devices`);
    if (domid === this.domid) throw new SpecError(`domain ${domid} cannot be its own backend`);
    const fe = `/local/domain/${domid}/device/${type}/${devid}`;
    const be = `/local/domain/${this.domid}/backend/${type}/${domid}/${devid}`;
    if (this.xs.tryRead(`${fe}/state`) !== undefined || this.xs.tryRead(`${be}/state`) !== undefined) {
      throw new SpecError(`${type} ${devid} of domain ${domid} already exists`);
    }
    const key = `${type}/${domid}/${devid}`;
    const waiter = makeWaiter();
    this._waiters.set(key, waiter.w);
    inTransaction(this.xs, (tx) => {
      this.xs.write(fe, '', tx);
      this.xs.setPerms(fe, [`n${domid}`, `r${this.domid}`], tx);
      this.xs.write(be, '', tx);
      this.xs.setPerms(be, [`n${this.domid}`, `r${domid}`], tx);
      const f: Record<string, string> = { backend: be, 'backend-id': String(this.domid), state: '1', ...front };
      const b: Record<string, string> = { frontend: fe, 'frontend-id': String(domid), online: '1', state: '1', ...back };
      for (const [k, v] of Object.entries(f)) this.xs.write(`${fe}/${k}`, v, tx);
      for (const [k, v] of Object.entries(b)) this.xs.write(`${be}/${k}`, v, tx);
    });
    return { type, domid, devid, frontend: fe, backend: be, ready: waiter.ready, connected: waiter.connected };
  }

  private _onState(dev: XenbusDevice, state: number): void {
    const w = this._waiters.get(`${dev.type}/${dev.frontId}/${dev.devid}`);
    if (w === undefined) return;
    if (state === XenbusStateInitWait) settle(w.ready, null);
    else if (state === XenbusStateConnected) {
      settle(w.ready, null);
      settle(w.connected, null);
    } else if (state === XenbusStateClosing && dev.hotplug === 'failed') {
      const e = new Error(`${dev.type} ${dev.devid} of domain ${dev.frontId}: ${dev.error ?? 'hotplug failed'}`);
      settle(w.ready, e);
      settle(w.connected, e);
    }
  }

  private _onRemoved(dev: XenbusDevice): void {
    const key = `${dev.type}/${dev.frontId}/${dev.devid}`;
    const w = this._waiters.get(key);
    if (w === undefined) return;
    const e = new Error(`${dev.type} ${dev.devid} of domain ${dev.frontId} was removed`);
    settle(w.ready, e);
    settle(w.connected, e);
    for (const f of w.removed.splice(0)) f();
  }

  // ---- detach ------------------------------------------------------------------------------

  /** Hot unplug (libxl's order). Resolves when both directories are gone. */
  async detach(domid: number, type: DeviceType, devid: number, opts: DetachOptions = {}): Promise<void> {
    const drv = this._drivers.get(type);
    const be = `/local/domain/${this.domid}/backend/${type}/${domid}/${devid}`;
    const fe = `/local/domain/${domid}/device/${type}/${devid}`;
    const dev = drv?.bus.device(domid, devid);
    if (dev !== undefined && !dev.removed && opts.force !== true) {
      const key = `${type}/${domid}/${devid}`;
      let w = this._waiters.get(key);
      if (w === undefined) {
        w = makeWaiter().w;
        this._waiters.set(key, w);
      }
      const gone = new Promise<void>((resolve) => w!.removed.push(resolve)); // SAFETY: set just above
      inTransaction(this.xs, (tx) => {
        if (this.xs.tryRead(`${be}/state`, tx) === undefined) return;
        this.xs.write(`${be}/online`, '0', tx);
        this.xs.write(`${be}/state`, String(XenbusStateClosing), tx);
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = opts.timeoutMs === undefined ? null : new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          dev.forceRemove();
          resolve();
        }, opts.timeoutMs);
      });
      await (timeout === null ? gone : Promise.race([gone, timeout]));
      if (timer !== undefined) clearTimeout(timer);
    } else if (dev !== undefined) {
      dev.forceRemove();
    }
    this._removeDirs(fe, be, domid);
    this._waiters.delete(`${type}/${domid}/${devid}`);
  }

  /** Domain destruction: every device of `domid` is torn down now, directories removed. */
  releaseDomain(domid: number): void {
    for (const [type, drv] of this._drivers) {
      for (const dev of [...drv.bus.devices]) if (dev.frontId === domid) dev.forceRemove();
      for (const d of tryDirectory(this.xs, `/local/domain/${this.domid}/backend/${type}/${domid}`)) {
        this._removeDirs(`/local/domain/${domid}/device/${type}/${d}`, `/local/domain/${this.domid}/backend/${type}/${domid}/${d}`, domid);
        this._waiters.delete(`${type}/${domid}/${d}`);
      }
    }
  }

  /** Remove a device's directories and the empty parents up to the homes (libxl__xs_path_cleanup). */
  private _removeDirs(fe: string, be: string, domid: number): void {
    inTransaction(this.xs, (tx) => {
      tryRm(this.xs, fe, tx);
      tryRm(this.xs, be, tx);
      cleanupParents(this.xs, be, `/local/domain/${this.domid}`, tx);
      cleanupParents(this.xs, fe, `/local/domain/${domid}/device`, tx);
    });
    // Linux leaves the error node of a failed device; libxl removes it with the device.
    tryRm(this.xs, `/local/domain/${this.domid}/error/${be.slice(`/local/domain/${this.domid}/`.length)}`);
    cleanupParents(this.xs, `/local/domain/${this.domid}/error/${be.slice(`/local/domain/${this.domid}/`.length)}`,
      `/local/domain/${this.domid}`, 0);
  }

  // ---- state -------------------------------------------------------------------------------

  /** What the backends hold, for leak checks. */
  counts(): { devices: number; grantMappings: number; ports: number; ramFrames: number } {
    let devices = 0;
    for (const d of this._drivers.values()) for (const _ of d.bus.devices) devices++;
    return { devices, grantMappings: this.acct.mappings, ports: this.acct.ports, ramFrames: this.pool.ramFrames };
  }

  /** True while file I/O is in flight (virtual time must wait for it). */
  busy(): boolean {
    return this.blkback.ioInflight > 0;
  }

  /** Resolves when no file I/O is in flight. */
  settled(): Promise<void> {
    return this.blkback.settled();
  }

  /**
   * Resolves when the next file operation completes (at once when none is in flight): what
   * a virtual-time run loop awaits instead of letting an idle machine jump ahead.
   */
  progress(): Promise<void> {
    return this.blkback.progress();
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    for (const d of this._drivers.values()) d.close();
  }
}

function makeWaiter(): { w: Waiter; ready: Promise<void>; connected: Promise<void> } {
  const mk = (): { p: Promise<void>; s: Waiter['ready'] } => {
    let resolve!: () => void, reject!: (e: Error) => void;
    const p = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody has to wait for these: an unobserved failure must not crash the host.
    p.catch(() => undefined);
    return { p, s: { resolve, reject, done: false } };
  };
  const r = mk(), c = mk();
  return { w: { ready: r.s, connected: c.s, removed: [] }, ready: r.p, connected: c.p };
}

function settle(s: Waiter['ready'], e: Error | null): void {
  if (s.done) return;
  s.done = true;
  if (e === null) s.resolve();
  else s.reject(e);
}

/** Remove `path`'s parents while they are empty, stopping at `stop` (exclusive). */
function cleanupParents(xs: XsHandle, path: string, stop: string, tx: number): void {
  let p = path.slice(0, path.lastIndexOf('/'));
  while (p.length > stop.length && p.startsWith(`${stop}/`)) {
    const v = xs.tryRead(p, tx);
    if (v === undefined) {
      p = p.slice(0, p.lastIndexOf('/'));
      continue;
    }
    if (v !== '' || tryDirectory(xs, p, tx).length > 0) return;
    tryRm(xs, p, tx);
    p = p.slice(0, p.lastIndexOf('/'));
  }
}
