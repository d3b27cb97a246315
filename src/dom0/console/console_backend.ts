/**
 * The PV console backend (what xenconsoled does for one domain): map the guest's console
 * ring page, bind to the event channel the builder allocated for it, and on every event
 * move the bytes the guest produced (out ring) to a sink and the bytes typed for it into
 * the in ring. Minimal but real: the ring protocol of io/console.h (pv-devices.md), with
 * the indexes read and written through dom0's foreign mapping of the page.
 *
 * Invariants: out_cons only moves forward and never past out_prod (a guest that moves
 * out_prod by more than the ring size gets its bytes taken modulo the ring, as xenconsoled
 * does: we read at most XENCONS_OUT_SIZE bytes per event); in_prod never passes in_cons
 * plus the ring size; the guest is notified after every index change it must see.
 *
 * Reusable: a ConsoleConnection is per domain; the (later) `tsxen console` attaches a
 * terminal by replacing the sink and feeding input().
 */
import {
  XENCONS_IN_SIZE, XENCONS_INTERFACE_IN, XENCONS_INTERFACE_IN_CONS, XENCONS_INTERFACE_IN_PROD,
  XENCONS_INTERFACE_OUT, XENCONS_INTERFACE_OUT_CONS, XENCONS_OUT_SIZE,
} from '../../abi/io/console.ts';
import type { Xc } from '../libxc/xc.ts';
import { XcError } from '../libxc/xc.ts';
import type { Dom0Events } from '../libxc/events.ts';
import { ForeignMap } from '../libxc/foreign.ts';

export type ConsoleSink = (bytes: Uint8Array) => void;

export class ConsoleConnection {
  /** Everything the guest wrote (the per-domain log). */
  private readonly _log: number[] = [];
  private _closed = false;
  private readonly _pendingIn: number[] = [];

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events, readonly domid: number,
    private readonly _ring: ForeignMap, readonly localPort: number, public sink: ConsoleSink | null) {}

  get closed(): boolean {
    return this._closed;
  }

  /** The guest's output so far, as text (Latin-1 bytes). */
  get log(): string {
    let s = '';
    for (const b of this._log) s += String.fromCharCode(b);
    return s;
  }

  /** Move guest output to the sink and queued input to the guest; notify if anything moved. */
  pump(): void {
    if (this._closed) return;
    const idx = this._ring.view(0, XENCONS_INTERFACE_IN_CONS, 16);
    const inCons = idx.getUint32(0, true), inProd = idx.getUint32(4, true);
    const outCons = idx.getUint32(8, true), outProd = idx.getUint32(12, true);
    let notify = false;
    const avail = (outProd - outCons) >>> 0;
    if (avail !== 0) {
      const n = Math.min(avail, XENCONS_OUT_SIZE);
      const start = (outProd - n) >>> 0;
      const ring = this._ring.read(0, XENCONS_INTERFACE_OUT, XENCONS_OUT_SIZE);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = ring[(start + i) & (XENCONS_OUT_SIZE - 1)]!;
      for (const b of bytes) this._log.push(b);
      this._setU32(XENCONS_INTERFACE_OUT_CONS, outProd);
      this.sink?.(bytes);
      notify = true;
    }
    if (this._pendingIn.length > 0) {
      let prod = inProd;
      while (this._pendingIn.length > 0 && ((prod - inCons) >>> 0) < XENCONS_IN_SIZE) {
        const b = this._pendingIn.shift()!;
        this._ring.write(0, XENCONS_INTERFACE_IN + (prod & (XENCONS_IN_SIZE - 1)), Uint8Array.of(b));
        prod = (prod + 1) >>> 0;
      }
      if (prod !== inProd) {
        this._setU32(XENCONS_INTERFACE_IN_PROD, prod);
        notify = true;
      }
    }
    if (notify) this._xc.notify(this.localPort);
  }

  /** Queue bytes typed for the guest. */
  input(bytes: Uint8Array): void {
    for (const b of bytes) this._pendingIn.push(b);
    this.pump();
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._events.off(this.localPort);
    this._xc.closePort(this.localPort);
    this._ring.unmap();
  }

  private _setU32(off: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this._ring.write(0, off, b);
  }
}

export class ConsoleBackend {
  private readonly _conns = new Map<number, ConsoleConnection>();

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events) {}

  /** Connect to `domid`'s console ring (frame `ringMfn`, its event channel `remotePort`). */
  attach(domid: number, ringMfn: number, remotePort: number, sink: ConsoleSink | null): ConsoleConnection {
    this.detach(domid);
    const ring = ForeignMap.map(this._xc, domid, [ringMfn]);
    const local = this._xc.bindInterdomain(domid, remotePort);
    if (local < 0) {
      ring.unmap();
      throw new XcError(`binding d${domid}'s console event channel ${remotePort}`, local);
    }
    const c = new ConsoleConnection(this._xc, this._events, domid, ring, local, sink);
    this._conns.set(domid, c);
    this._events.on(local, () => c.pump());
    c.pump();
    return c;
  }

  connection(domid: number): ConsoleConnection | undefined {
    return this._conns.get(domid);
  }

  detach(domid: number): void {
    const c = this._conns.get(domid);
    if (!c) return;
    c.pump();
    c.close();
    this._conns.delete(domid);
  }
}
