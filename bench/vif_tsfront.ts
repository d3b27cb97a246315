/**
 * A network frontend in TypeScript in a native domU: netfront's handshake (InitWait, keys,
 * straight to Connected), rx-copy buffers kept posted, frames sent from granted pages, and
 * raw tx slots for hostile tests. Received frames land in `received`.
 */
import { NETTXF_more_data } from '../src/abi/io/netif.ts';
import type { SharedPage } from '../src/dom0/libs/gntshr.ts';
import { FrontRing } from './blk_front_ring.ts';
import type { NativeDomU } from './blk_native_domu.ts';

export class TsNetfront {
  readonly fe: string;
  be = '';
  backId = 0;
  tx: FrontRing | null = null;
  rx: FrontRing | null = null;
  port = -1;
  readonly received: Uint8Array[] = [];
  /** tx responses by id (status). */
  readonly txStatus = new Map<number, number>();
  txResponses = 0;
  /** rx responses with an error status. */
  rxErrors = 0;
  /** Post this many rx buffers with an ungranted ref first (hostile). */
  badRxRefs = 0;
  leakedGrants = 0;
  closed = false;
  private readonly _txGrants = new Map<number, SharedPage[]>();
  private readonly _rxBufs = new Map<number, SharedPage>();
  private _nextId = 0;
  private _pages: SharedPage[] = [];
  private _waiters: Array<() => void> = [];

  /** Called for every received frame (a view valid during the call); default: kept in `received`. */
  onFrame: ((frame: Uint8Array) => void) | null = null;
  /** Called for every tx response (id, status) besides the bookkeeping. */
  onTxDone: ((id: number, status: number) => void) | null = null;
  private readonly _flip = new Map<number, { ref: number; gfn: number }>();

  constructor(readonly dom: NativeDomU, readonly devid: number, readonly rxBuffers = 64, readonly rxMode: 'copy' | 'flip' = 'copy') {
    this.fe = `/local/domain/${dom.domid}/device/vif/${devid}`;
  }

  /** The backend's state; 0 once its directory is gone (or no longer readable to us). */
  backendState(): number {
    try {
      return Number(this.dom.xs.tryRead(`${this.be}/state`) ?? '0');
    } catch {
      return 0;
    }
  }

  private _when(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => (cond() ? resolve() : void this._waiters.push(check));
      this._waiters.push(check);
    });
  }

  async connect(): Promise<void> {
    const xs = this.dom.xs;
    this.be = xs.read(`${this.fe}/backend`);
    this.backId = Number(xs.read(`${this.fe}/backend-id`));
    const token = `net${this.devid}-${Math.random()}`;
    xs.onWatch((_p, t) => {
      if (t !== token) return;
      for (const w of this._waiters.splice(0)) w();
      // Backend-initiated unplug: close, release once the backend let go.
      if (this.backendState() === 5 && !this.closed) {
        this.closed = true;
        xs.write(`${this.fe}/state`, '6');
        void this._when(() => this.backendState() === 6 || this.backendState() === 0).then(() => {
          this.release();
          try {
            xs.unwatch(`${this.be}/state`, token);
          } catch { /* the backend directory may be gone */ }
        });
      }
    });
    xs.watch(`${this.be}/state`, token);
    await this._when(() => this.backendState() === 2);
    const txp = this.dom.gnt.share(this.backId, true), rxp = this.dom.gnt.share(this.backId, true);
    this._pages = [txp, rxp];
    this.tx = new FrontRing(this.dom.gnt, [txp], 256, 12);
    this.rx = new FrontRing(this.dom.gnt, [rxp], 256, 8);
    this.port = this.dom.evtchn.bindUnbound(this.backId, () => this._poll());
    for (;;) {
      const tx = xs.transactionStart();
      xs.write(`${this.fe}/tx-ring-ref`, String(txp.ref), tx);
      xs.write(`${this.fe}/rx-ring-ref`, String(rxp.ref), tx);
      xs.write(`${this.fe}/event-channel`, String(this.port), tx);
      xs.write(`${this.fe}/request-rx-copy`, this.rxMode === 'copy' ? '1' : '0', tx);
      xs.write(`${this.fe}/feature-rx-notify`, '1', tx);
      xs.write(`${this.fe}/state`, '4', tx);
      if (xs.transactionEnd(tx, true)) break;
    }
    for (let i = 0; i < this.rxBuffers; i++) this._postRx(i);
    if (this.rx.push()) this.dom.evtchn.notify(this.port);
    await this._when(() => this.backendState() === 4 || this.backendState() >= 5);
    if (this.backendState() !== 4) throw new Error(`netback did not connect (state ${this.backendState()})`);
  }

  private _postRx(id: number): void {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint16(0, id, true);
    if (this.rxMode === 'flip') {
      // Give a page back to Xen behind an accept-transfer grant: the frame arrives there.
      const t = this.dom.gnt.acceptTransfer(this.backId);
      this._flip.set(id, t);
      v.setUint32(4, t.ref, true);
      this.rx!.put(b); // SAFETY: connected
      return;
    }
    if (this.badRxRefs > 0) {
      this.badRxRefs--;
      v.setUint32(4, 4000 + id, true);
      this.rx!.put(b); // SAFETY: connected
      return;
    }
    const g = this.dom.gnt.share(this.backId, true);
    this._rxBufs.set(id, g);
    v.setUint32(4, g.ref, true);
    this.rx!.put(b); // SAFETY: connected
  }

  /** A raw tx slot. */
  txSlot(gref: number, offset: number, flags: number, id: number, size: number): Uint8Array {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    v.setUint32(0, gref, true);
    v.setUint16(4, offset, true);
    v.setUint16(6, flags, true);
    v.setUint16(8, id, true);
    v.setUint16(10, size, true);
    return b;
  }

  /** Send a frame, split into `frags` slots (all from one granted page each). */
  send(frame: Uint8Array, frags = 1): number {
    const id = this._nextId++ & 0xffff;
    const grants: SharedPage[] = [];
    const per = Math.ceil(frame.length / frags);
    for (let k = 0; k < frags; k++) {
      const part = frame.subarray(k * per, Math.min(frame.length, (k + 1) * per));
      const g = this.dom.gnt.share(this.backId, false);
      g.bytes.set(part);
      this.dom.gnt.written(g);
      grants.push(g);
      const more = k < frags - 1 ? NETTXF_more_data : 0;
      this.tx!.put(this.txSlot(g.ref, 0, more, k === 0 ? id : (id + k) & 0xffff, k === 0 ? frame.length : part.length)); // SAFETY: connected
    }
    this._txGrants.set(id, grants);
    this.kick();
    return id;
  }

  kick(): void {
    if (this.tx!.push()) this.dom.evtchn.notify(this.port); // SAFETY: connected
  }

  private _poll(): void {
    const tx = this.tx, rx = this.rx;
    if (tx === null || rx === null) return;
    while (tx.pending() > 0) {
      const r = new DataView(tx.take(4).buffer);
      const id = r.getUint16(0, true);
      this.txResponses++;
      this.txStatus.set(id, r.getInt16(2, true));
      this.onTxDone?.(id, r.getInt16(2, true));
      const gs = this._txGrants.get(id);
      if (gs !== undefined) {
        this._txGrants.delete(id);
        for (const g of gs) if (!this.dom.gnt.end(g.ref)) this.leakedGrants++;
      }
    }
    let reposted = false;
    while (rx.pending() > 0) {
      const r = new DataView(rx.take(8).buffer);
      const id = r.getUint16(0, true), off = r.getUint16(2, true), status = r.getInt16(6, true);
      if (status < 0) this.rxErrors++;
      const t = this._flip.get(id);
      if (t !== undefined) {
        this._flip.delete(id);
        if (status > 0 && this.dom.gnt.transferred(t.ref)) {
          const view = this.dom.xc.port.view(t.gfn * 4096 + off, status);
          if (view !== null) this._deliver(view);
        }
        this.dom.gnt.endTransfer(t.ref, t.gfn);
        this._postRx(id);
        reposted = true;
        continue;
      }
      const g = this._rxBufs.get(id);
      if (g === undefined) {
        this._postRx(id);
        reposted = true;
        continue;
      }
      if (status > 0) this._deliver(g.bytes.subarray(off, off + status));
      this._rxBufs.delete(id);
      if (!this.dom.gnt.end(g.ref)) this.leakedGrants++;
      this._postRx(id);
      reposted = true;
    }
    if (reposted && rx.push()) this.dom.evtchn.notify(this.port);
  }

  private _deliver(frame: Uint8Array): void {
    if (this.onFrame !== null) this.onFrame(frame);
    else this.received.push(frame.slice());
  }

  /** Release every grant and the port (after the backend let go, or before destroying). */
  release(): void {
    for (const gs of this._txGrants.values()) for (const g of gs) if (!this.dom.gnt.end(g.ref)) this.leakedGrants++;
    for (const g of this._rxBufs.values()) if (!this.dom.gnt.end(g.ref)) this.leakedGrants++;
    for (const p of this._pages) if (!this.dom.gnt.end(p.ref)) this.leakedGrants++;
    this._txGrants.clear();
    this._rxBufs.clear();
    this._pages = [];
    if (this.port >= 0) this.dom.evtchn.unbind(this.port);
    this.port = -1;
    this.tx = this.rx = null;
  }
}
