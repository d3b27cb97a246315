/**
 * The xenbus backend bus for one device type (what Linux's xenbus_backend does for blkback
 * and netback): watch `<home>/backend/<type>`, create a device for every
 * `<frontid>/<devid>` directory that appears, drive each through the handshake of
 * xenbus_state_table.ts, and forget it when its directory goes.
 *
 * A device type plugs in through BackendDriverOps: `create` gives a BackendDeviceHandler
 * per device that owns the native side (hotplug), the features, and the device channel
 * (connect/disconnect). This module owns only xenstore and the state machine.
 *
 * Invariants:
 * - One XenbusDevice per backend directory; its handler's connect() is only called while
 *   disconnected and disconnect() is idempotent; destroy() is called exactly once, after
 *   the last disconnect(), when the device is forgotten.
 * - The backend's `state` node is written only here, and only when the value changes
 *   (as Linux's xenbus_switch_state), and only while the directory exists.
 * - Frontend data is hostile: `frontend` must be /local/domain/<frontend-id>/device/<type>/
 *   <devid> exactly (or the device fails), every other value is parsed by the handler.
 * - Watch events only schedule reconciliation; reconcile() re-reads everything, so lost or
 *   coalesced events cannot leave a device behind.
 */
import {
  XenbusStateClosed, XenbusStateClosing, XenbusStateConnected, XenbusStateInitialising, XenbusStateUnknown,
  parseXenbusState,
} from '../../abi/io/xenbus.ts';
import { backendAction, stateAfter, type BackendAction, type HotplugState } from './xenbus_state_table.ts';
import { inTransaction, tryDirectory, tryRm, WatchRouter, xsErrorCode, type XsHandle } from './xs_handle.ts';

/** A frontend (or toolstack) mistake that stops this device: reported in xenstore, never thrown further. */
export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(message: string, readonly errno = 22) {
    super(message);
  }
}

export interface BackendDeviceHandler {
  /** The native side (open the image, attach a bridge port). Throw/reject DeviceError to fail. */
  hotplug(): Promise<void> | void;
  /** Keys written into the backend directory before InitWait (features). */
  features(): Readonly<Record<string, string>>;
  /** Map the rings and bind the event channel; keys to publish with Connected. Throw DeviceError. */
  connect(): Readonly<Record<string, string>>;
  /** Unmap and unbind (in-flight work is dropped or finished by the handler); idempotent. */
  disconnect(): void;
  /** Free the native side. Called once, last. */
  destroy(): void;
}

export interface BackendDriverOps {
  /** Backend directory type: vbd, vif, ... */
  readonly type: string;
  create(dev: XenbusDevice): BackendDeviceHandler;
}

/** A bug of ours caught at a device boundary (reported through onError, device stopped). */
export class InternalError extends Error {
  override name = 'InternalError';
  constructor(override readonly cause: unknown) {
    super(`internal error: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface XenbusDeviceEvents {
  /** Something threw that is not the frontend's doing (a bug, a failing host call). */
  onError?(dev: XenbusDevice, e: unknown): void;
  /** The backend wrote `state` (after the keys that go with it). */
  onState?(dev: XenbusDevice, state: number): void;
  /** The device was forgotten (directory gone or removed after unplug). */
  onRemoved?(dev: XenbusDevice): void;
}

/** One backend device: a `<home>/backend/<type>/<front>/<devid>` directory. */
export class XenbusDevice {
  /** The state we last wrote. */
  state = XenbusStateInitialising;
  hotplug: HotplugState = 'pending';
  /** Why the device failed, if it did. */
  error: string | null = null;
  removed = false;
  handler: BackendDeviceHandler | null = null;
  private _connected = false;
  private _busy = false;
  private _again = false;
  private _unwatchFront: (() => void) | null = null;

  constructor(readonly bus: XenbusBackend, readonly frontId: number, readonly devid: number, readonly nodename: string,
    readonly frontendPath: string) {}

  get xs(): XsHandle {
    return this.bus.xs;
  }

  get type(): string {
    return this.bus.ops.type;
  }

  get connected(): boolean {
    return this._connected;
  }

  /** A backend key, or undefined. */
  readBack(key: string): string | undefined {
    return this.xs.tryRead(`${this.nodename}/${key}`);
  }

  /** A frontend key, or undefined (hostile: the caller parses it). */
  readFront(key: string): string | undefined {
    return this.xs.tryRead(`${this.frontendPath}/${key}`);
  }

  /** @internal Start: watch the frontend's state, run the hotplug step. */
  start(): void {
    this._unwatchFront = this.bus.router.subscribe(`${this.frontendPath}/state`, () => this.reconcile());
    let r: Promise<void> | void;
    try {
      r = this.handler!.hotplug(); // SAFETY: set by the bus right after construction
    } catch (e) {
      this._hotplugDone(e);
      return;
    }
    if (r === undefined) this._hotplugDone(null);
    else r.then(() => this._hotplugDone(null), (e: unknown) => this._hotplugDone(e));
  }

  /** @internal Refuse the device before it has a handler (bad directory, create failed). */
  refuse(why: string): void {
    this.handler = INERT;
    this._hotplugDone(new DeviceError(why));
  }

  private _hotplugDone(err: unknown): void {
    if (this.removed) return;
    if (err === null) {
      this.hotplug = 'ok';
      this._writeKey('hotplug-status', 'connected');
    } else {
      this.hotplug = 'failed';
      this.error = err instanceof Error ? err.message : String(err);
      this._writeKey('hotplug-error', this.error);
      this._writeKey('hotplug-status', 'error');
    }
    this.reconcile();
  }

  /** Look at both ends and act until nothing is left to do. */
  reconcile(): void {
    this.guard(() => this._reconcile());
  }

  private _reconcile(): void {
    if (this.removed) return;
    if (this._busy) {
      this._again = true;
      return;
    }
    this._busy = true;
    try {
      for (let round = 0; round < 16 && !this.removed; round++) {
        this._again = false;
        const own = this.readBack('state');
        if (own === undefined) {
          // Our directory is gone: the toolstack removed the device.
          this._apply('remove', false);
          return;
        }
        // The toolstack may write Closing itself (libxl's unplug); adopt it.
        const ownState = parseXenbusState(own);
        if (ownState === XenbusStateClosing && this.state !== XenbusStateClosing && this.state !== XenbusStateClosed) {
          this.state = XenbusStateClosing;
        }
        const fe = this.readFront('state');
        const action = backendAction({
          backend: this.state,
          frontend: fe === undefined ? XenbusStateUnknown : parseXenbusState(fe),
          online: this.readBack('online') === '1',
          hotplug: this.hotplug,
        });
        const before = this.state;
        if (action !== 'none') this._apply(action, true);
        if (this.state === before && !this._again) return;
      }
    } finally {
      this._busy = false;
    }
  }

  private _apply(a: BackendAction, dirExists: boolean): void {
    const h = this.handler!; // SAFETY: set by the bus right after construction
    switch (a) {
      case 'probe':
      case 'reprobe': {
        this._disconnect();
        this._writeKeys(h.features(), stateAfter(a, this.state));
        return;
      }
      case 'fail':
        this._switch(XenbusStateClosing);
        return;
      case 'connect': {
        let keys: Readonly<Record<string, string>>;
        try {
          keys = h.connect();
          this._connected = true;
        } catch (e) {
          this._disconnect();
          this._fatal(e);
          return;
        }
        this._writeKeys(keys, XenbusStateConnected);
        return;
      }
      case 'closing':
        this._disconnect();
        this._switch(XenbusStateClosing);
        return;
      case 'closed':
        this._disconnect();
        this._switch(XenbusStateClosed);
        return;
      case 'remove':
        this._disconnect();
        if (dirExists) this._switch(XenbusStateClosed);
        this.bus.forget(this);
        return;
      case 'none':
        return;
    }
  }

  /**
   * The handler found the frontend misbehaving on a connected channel (a ring beyond its
   * bounds): disconnect, record the reason, go Closing. Other devices are unaffected.
   */
  failConnected(why: string): void {
    if (this.removed || !this._connected) return;
    this._disconnect();
    this._fatal(new DeviceError(why, 71));
  }

  /**
   * Run `fn` (an event handler, an I/O completion, a bridge delivery of this device's
   * handler) so that whatever it throws stops this device only: reported, disconnected,
   * Closing. Returns undefined if it threw.
   */
  guard<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  /** What guard() does with what it caught (for hot paths that catch inline, without a closure). */
  fail(e: unknown): void {
    {
      if (this.removed) return;
      try {
        if (this._connected) {
          this._connected = false;
          try {
            this.handler?.disconnect();
          } catch (e2) {
            this.bus.events.onError?.(this, e2);
          }
        }
        this._fatal(e instanceof DeviceError ? e : new InternalError(e));
      } catch (e3) {
        this.bus.events.onError?.(this, e3);
      }
    }
  }

  /** Disconnect and forget, whatever the frontend does (domain destruction, forced unplug). */
  forceRemove(): void {
    if (this.removed) return;
    this._disconnect();
    this.bus.forget(this);
  }

  private _disconnect(): void {
    if (!this._connected) return;
    this._connected = false;
    this.handler!.disconnect(); // SAFETY: set by the bus right after construction
  }

  /** @internal Called by the bus when the device is forgotten. */
  dispose(): void {
    this.removed = true;
    this._unwatchFront?.();
    this._unwatchFront = null;
    this._disconnect();
    tryRm(this.xs, this._errorPath());
    this.handler?.destroy();
  }

  /**
   * xenbus_dev_fatal: record the error, go Closing. Anything a handler throws lands here:
   * a DeviceError (the frontend's fault), a failed xenstore request, no resources left, or
   * a bug of ours — which is reported (events.onError) but still only stops this device,
   * never the backend domain or the host.
   */
  private _fatal(e: unknown): void {
    const err = e instanceof DeviceError ? e : null;
    if (err === null && xsErrorCode(e) === undefined) this.bus.events.onError?.(this, e instanceof InternalError ? e.cause : e);
    this.error = e instanceof Error ? e.message : String(e);
    try {
      this.xs.write(`${this._errorPath()}/error`, `${err?.errno ?? 5} ${this.error}`);
    } catch (we) {
      if (xsErrorCode(we) === undefined) throw we;
    }
    this._switch(XenbusStateClosing);
  }

  private _errorPath(): string {
    return `${this.bus.home}/error/${this.nodename.slice(this.bus.home.length + 1)}`;
  }

  private _switch(state: number): void {
    this._writeKeys({}, state);
  }

  /** Write `keys` and then `state` in one transaction, only if our directory still exists. */
  private _writeKeys(keys: Readonly<Record<string, string>>, state: number): void {
    const changed = state !== this.state;
    if (!changed && Object.keys(keys).length === 0) return;
    try {
      inTransaction(this.xs, (tx) => {
        if (this.xs.tryRead(`${this.nodename}/state`, tx) === undefined) return;
        for (const [k, v] of Object.entries(keys)) this.xs.write(`${this.nodename}/${k}`, v, tx);
        if (changed) this.xs.write(`${this.nodename}/state`, String(state), tx);
      });
    } catch (e) {
      if (xsErrorCode(e) === undefined) throw e;
    }
    this.state = state;
    if (changed) this.bus.events.onState?.(this, state);
  }

  private _writeKey(key: string, value: string): void {
    this._writeKeys({ [key]: value }, this.state);
  }
}

/** The bus for one backend type in one backend domain. */
export class XenbusBackend {
  readonly home: string;
  readonly root: string;
  readonly router: WatchRouter;
  private readonly _devices = new Map<string, XenbusDevice>();
  /**
   * Devices forgotten while their directory still exists (unplugged, refused, frontend
   * gone): not probed again until the toolstack removes the directory.
   */
  private readonly _retired = new Set<string>();
  private _unwatch: (() => void) | null = null;
  private _closed = false;

  constructor(readonly xs: XsHandle, readonly domid: number, readonly ops: BackendDriverOps,
    readonly events: XenbusDeviceEvents = {}, router?: WatchRouter) {
    this.home = `/local/domain/${domid}`;
    this.root = `${this.home}/backend/${ops.type}`;
    this.router = router ?? new WatchRouter(xs);
  }

  /** Start watching for devices (existing ones are picked up by the initial event). */
  start(): void {
    if (this._unwatch !== null || this._closed) return;
    this._unwatch = this.router.subscribe(this.root, (path) => this._changed(path));
  }

  get devices(): IterableIterator<XenbusDevice> {
    return this._devices.values();
  }

  device(frontId: number, devid: number): XenbusDevice | undefined {
    return this._devices.get(`${frontId}/${devid}`);
  }

  /** Re-scan now (also what every watch event does). */
  scan(): void {
    if (this._closed) return;
    const seen = new Set<string>();
    for (const f of tryDirectory(this.xs, this.root)) {
      if (!/^(0|[1-9][0-9]{0,4})$/.test(f)) continue;
      for (const d of tryDirectory(this.xs, `${this.root}/${f}`)) {
        if (!/^(0|[1-9][0-9]{0,9})$/.test(d)) continue;
        const key = `${f}/${d}`;
        seen.add(key);
        if (!this._devices.has(key) && !this._retired.has(key)) this._probe(Number(f), Number(d));
      }
    }
    for (const key of [...this._retired]) if (!seen.has(key)) this._retired.delete(key);
    for (const [key, dev] of [...this._devices]) if (!seen.has(key)) dev.reconcile();
  }

  private _changed(path: string): void {
    // A change inside a known device only needs that device; anything else rescans.
    const rest = path.startsWith(`${this.root}/`) ? path.slice(this.root.length + 1).split('/') : [];
    if (rest.length >= 3) {
      const dev = this._devices.get(`${rest[0]}/${rest[1]}`);
      if (dev !== undefined) {
        dev.reconcile();
        return;
      }
    }
    this.scan();
  }

  private _probe(frontId: number, devid: number): void {
    const nodename = `${this.root}/${frontId}/${devid}`;
    // The directory may be half-written (a toolstack not using a transaction): wait for
    // `state`, `frontend` and `frontend-id`.
    const fe = this.xs.tryRead(`${nodename}/frontend`);
    const feId = this.xs.tryRead(`${nodename}/frontend-id`);
    const st = this.xs.tryRead(`${nodename}/state`);
    if (fe === undefined || feId === undefined || st === undefined) return;
    const dev = new XenbusDevice(this, frontId, devid, nodename, fe);
    this._devices.set(`${frontId}/${devid}`, dev);
    const expected = `/local/domain/${frontId}/device/${this.ops.type}/${devid}`;
    if (feId !== String(frontId) || (fe !== expected && !fe.startsWith(`/local/domain/${frontId}/device/`))) {
      // Not a directory the toolstack wrote: refuse it, once.
      dev.refuse(`frontend ${fe} (id ${feId}) does not belong to domain ${frontId}`);
      return;
    }
    try {
      dev.handler = this.ops.create(dev);
    } catch (e) {
      // A bad directory (DeviceError) or no resources for it (no memory, no frames).
      if (!(e instanceof Error)) throw e;
      dev.refuse(e.message);
      return;
    }
    dev.start();
  }

  /** @internal */
  forget(dev: XenbusDevice): void {
    const key = `${dev.frontId}/${dev.devid}`;
    if (this._devices.get(key) !== dev) return;
    this._devices.delete(key);
    if (this.xs.tryRead(`${dev.nodename}/state`) !== undefined) this._retired.add(key);
    dev.dispose();
    this.events.onRemoved?.(dev);
  }

  /** Stop watching and force-remove every device (backend domain shutting down). */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._unwatch?.();
    this._unwatch = null;
    for (const dev of [...this._devices.values()]) dev.forceRemove();
  }
}

/** The handler of a device refused before it got one. */
const INERT: BackendDeviceHandler = {
  hotplug: () => undefined,
  features: () => ({}),
  connect: () => {
    throw new DeviceError('device refused');
  },
  disconnect: () => undefined,
  destroy: () => undefined,
};

export { XenbusStateConnected, XenbusStateClosed, XenbusStateClosing };
