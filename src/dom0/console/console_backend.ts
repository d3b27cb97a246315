/**
 * The PV console backend (our xenconsoled): for each guest, its console ring (a foreign
 * mapping, read and written through a zero-copy view) and its console event channel. On
 * every event the bytes the guest produced (out ring) go to the per-domain log, the log
 * file (when a log directory is set, like xenconsoled --log=guest) and the sink (the
 * attached terminal: `tsxen console`); bytes typed for the guest go into the in ring.
 *
 * Domains come either from the toolstack (attach(), at creation) or, with watchStore(),
 * from xenstore as xenconsoled finds them: on @introduceDomain each /local/domain/<id>
 * with console/ring-ref and console/port is attached; on @releaseDomain gone domains are
 * detached.
 *
 * Invariants: out_cons only moves forward and never past out_prod (a guest that moves
 * out_prod by more than the ring size gets its bytes taken modulo the ring, at most
 * XENCONS_OUT_SIZE per event, as xenconsoled does); in_prod never passes in_cons plus the
 * ring size (indexes the guest corrupted are treated as a full ring); the guest is notified
 * after every index change it must see; the kept log is bounded (LOG_LIMIT bytes, oldest
 * dropped) so a chatty guest cannot grow dom0 without limit.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import {
  XENCONS_IN_SIZE, XENCONS_INTERFACE_IN_CONS, XENCONS_INTERFACE_IN_PROD, XENCONS_INTERFACE_OUT_CONS,
  XENCONS_INTERFACE_OUT_PROD, XENCONS_OUT_SIZE,
} from '../../abi/io/console.ts';
import { XEN_DOMINF_dying } from '../../abi/domctl.ts';
import type { Xc } from '../libxc/xc.ts';
import { XcError } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import { foreignRing, type ConsoleRing } from './console_ring.ts';

export type ConsoleSink = (bytes: Uint8Array) => void;

/** Bytes of output kept per domain. */
export const LOG_LIMIT = 1 << 20;

/** What a console connection needs of the event-channel layer. */
export interface ConsoleChannel {
  notify(): void;
  close(): void;
}

export class ConsoleConnection {
  private readonly _log = new Uint8Array(LOG_LIMIT);
  private _logLen = 0;
  private _logStart = 0;
  private _total = 0;
  private _closed = false;
  private _pendingIn: Uint8Array[] = [];
  private _pendingOff = 0;
  private readonly _out = new Uint8Array(XENCONS_OUT_SIZE);

  constructor(readonly domid: number, private readonly _ring: ConsoleRing, private readonly _ch: ConsoleChannel,
    readonly localPort: number, public sink: ConsoleSink | null, private readonly _file: WriteStream | null = null) {}

  get closed(): boolean {
    return this._closed;
  }

  /** Output bytes the guest produced in total (including those dropped from the kept log). */
  get totalBytes(): number {
    return this._total;
  }

  /** The kept output (the last LOG_LIMIT bytes), as text (Latin-1 bytes). */
  get log(): string {
    let s = '';
    for (let i = 0; i < this._logLen; i += 8192) {
      const n = Math.min(8192, this._logLen - i);
      const chunk = new Array<number>(n);
      for (let k = 0; k < n; k++) chunk[k] = this._log[(this._logStart + i + k) % LOG_LIMIT]!;
      s += String.fromCharCode(...chunk);
    }
    return s;
  }

  /** Move guest output to the log, file and sink, and queued input to the guest. */
  pump(): void {
    if (this._closed) return;
    const r = this._ring;
    let notify = false;
    const outCons = r.u32(XENCONS_INTERFACE_OUT_CONS), outProd = r.u32(XENCONS_INTERFACE_OUT_PROD);
    const avail = (outProd - outCons) >>> 0;
    if (avail !== 0) {
      const n = Math.min(avail, XENCONS_OUT_SIZE);
      const start = (outProd - n) >>> 0;
      const bytes = this._out.subarray(0, n);
      for (let i = 0; i < n; i++) bytes[i] = r.outByte((start + i) & (XENCONS_OUT_SIZE - 1));
      r.setU32(XENCONS_INTERFACE_OUT_CONS, outProd);
      this._keep(bytes);
      const copy = bytes.slice();
      this._file?.write(copy);
      this.sink?.(copy);
      notify = true;
    }
    if (this._pendingIn.length > 0 && !this._closed) {
      const inCons = r.u32(XENCONS_INTERFACE_IN_CONS);
      let prod = r.u32(XENCONS_INTERFACE_IN_PROD);
      const start = prod;
      while (this._pendingIn.length > 0 && ((prod - inCons) >>> 0) < XENCONS_IN_SIZE) {
        const chunk = this._pendingIn[0]!; // SAFETY: length > 0
        r.setInByte(prod & (XENCONS_IN_SIZE - 1), chunk[this._pendingOff++]!);
        prod = (prod + 1) >>> 0;
        if (this._pendingOff === chunk.length) {
          this._pendingIn.shift();
          this._pendingOff = 0;
        }
      }
      if (prod !== start) {
        r.flushIn();
        r.setU32(XENCONS_INTERFACE_IN_PROD, prod);
        notify = true;
      }
    }
    if (notify) this._ch.notify();
  }

  /** Queue bytes typed for the guest (delivered as the in ring has room). */
  input(bytes: Uint8Array): void {
    if (this._closed || bytes.length === 0) return;
    this._pendingIn.push(bytes.slice());
    this.pump();
  }

  /** Bytes typed but not yet taken by the guest. */
  get inputQueued(): number {
    let n = 0;
    n -= this._pendingOff;
    for (const c of this._pendingIn) n += c.length;
    return n;
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._pendingIn = [];
    this._ch.close();
    this._ring.unmap();
    this._file?.end();
  }

  private _keep(bytes: Uint8Array): void {
    this._total += bytes.length;
    for (let i = 0; i < bytes.length; i++) {
      if (this._logLen < LOG_LIMIT) {
        this._log[(this._logStart + this._logLen) % LOG_LIMIT] = bytes[i]!;
        this._logLen++;
      } else {
        this._log[this._logStart] = bytes[i]!;
        this._logStart = (this._logStart + 1) % LOG_LIMIT;
      }
    }
  }
}

export interface ConsoleBackendOptions {
  /** Write each domain's output to <logDir>/guest-<name>.log (xenconsoled --log=guest). */
  readonly logDir?: string;
}

/** The xenstore access watchStore needs (XsLocalHandle satisfies it). */
export interface ConsoleStore {
  tryRead(path: string): string | undefined;
  directory(path: string): string[];
  watch(path: string, token: string): void;
  onWatch(cb: (path: string, token: string) => void): void;
}

export class ConsoleBackend {
  private readonly _conns = new Map<number, ConsoleConnection>();

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events, private readonly _opts: ConsoleBackendOptions = {}) {}

  /**
   * Connect to `domid`'s console ring (frame `ringMfn`, as the domain names it) and bind its
   * event channel `remotePort`. `name` names the log file (default d<domid>).
   */
  attach(domid: number, ringMfn: number, remotePort: number, sink: ConsoleSink | null, name?: string): ConsoleConnection {
    this.detach(domid);
    const ring = foreignRing(this._xc, domid, ringMfn);
    const local = this._xc.bindInterdomain(domid, remotePort);
    if (local < 0) {
      ring.unmap();
      throw new XcError(`binding d${domid}'s console event channel ${remotePort}`, local);
    }
    const xc = this._xc, events = this._events;
    const ch: ConsoleChannel = {
      notify: () => void xc.notify(local),
      close: () => {
        events.off(local);
        xc.closePort(local);
      },
    };
    let file: WriteStream | null = null;
    if (this._opts.logDir !== undefined) {
      mkdirSync(this._opts.logDir, { recursive: true });
      file = createWriteStream(join(this._opts.logDir, `guest-${name ?? `d${domid}`}.log`), { flags: 'a' });
    }
    const c = new ConsoleConnection(domid, ring, ch, local, sink, file);
    this._conns.set(domid, c);
    events.on(local, () => c.pump());
    c.pump();
    return c;
  }

  connection(domid: number): ConsoleConnection | undefined {
    return this._conns.get(domid);
  }

  get connections(): IterableIterator<ConsoleConnection> {
    return this._conns.values();
  }

  detach(domid: number): void {
    const c = this._conns.get(domid);
    if (!c) return;
    c.pump();
    c.close();
    this._conns.delete(domid);
  }

  /**
   * Find consoles through xenstore, as xenconsoled does: attach every running domain whose
   * console/ring-ref and console/port are published (now and on each @introduceDomain),
   * detach those the hypervisor says are dying or gone (on @releaseDomain). Not to be
   * combined with attach() calls for the same domains (a domain has one console backend).
   */
  watchStore(xs: ConsoleStore): void {
    const scan = (): void => {
      for (const id of xs.directory('/local/domain')) {
        const domid = Number(id);
        if (!Number.isInteger(domid) || domid === this._xc.domid || this._conns.has(domid) || !this._alive(domid)) continue;
        const ref = xs.tryRead(`/local/domain/${domid}/console/ring-ref`);
        const port = xs.tryRead(`/local/domain/${domid}/console/port`);
        if (ref === undefined || port === undefined || !/^\d+$/.test(ref) || !/^\d+$/.test(port)) continue;
        const name = xs.tryRead(`/local/domain/${domid}/name`);
        try {
          this.attach(domid, Number(ref), Number(port), null, name);
        } catch {
          // Not attachable yet (frame or port refused): tried again on the next event.
        }
      }
      for (const domid of [...this._conns.keys()]) if (!this._alive(domid)) this.detach(domid);
    };
    xs.onWatch((path) => {
      if (path === '@introduceDomain' || path === '@releaseDomain') scan();
    });
    xs.watch('@introduceDomain', 'xenconsoled');
    xs.watch('@releaseDomain', 'xenconsoled');
    scan();
  }

  /** The hypervisor knows `domid` and it is not dying (getdomaininfo). */
  private _alive(domid: number): boolean {
    const info = this._xc.getDomainInfo(domid);
    return info !== null && info.domid === domid && (info.flags & XEN_DOMINF_dying) === 0;
  }
}
