/**
 * A block frontend in TypeScript, running in a native domU (native_domu.ts): the handshake
 * of xenstore.md §10 (with the variants real frontends use), READ/WRITE/FLUSH/BARRIER/
 * DISCARD/INDIRECT requests with granted data pages, hot-unplug handling (on backend
 * Closing it fails what is pending and closes), and raw access for hostile tests.
 *
 * Every request's grants are ended after its response; end() failing means the backend
 * still holds the page — reported in `leakedGrants`, which tests require to stay 0.
 */
import { BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE } from '../src/abi/io/blkif.ts';
import type { SharedPage } from '../src/dom0/libs/gntshr.ts';
import { FrontRing } from './blk_front_ring.ts';
import type { NativeDomU } from './blk_native_domu.ts';

export type Handshake = 'initialised' | 'connected' | 'early';

export interface BlkfrontOptions {
  /** 2^order ring pages (0: a single ring-ref key). */
  readonly ringOrder?: number;
  readonly protocol?: 'x86_32-abi' | 'x86_64-abi' | null;
  /** initialised: InitWait then 3; connected: InitWait then 4 (netfront style); early: 4 at once (Mini-OS). */
  readonly handshake?: Handshake;
}

interface Pending {
  readonly grants: SharedPage[];
  resolve(status: number): void;
}

export class TsBlkfront {
  readonly fe: string;
  be = '';
  backId = 0;
  ring: FrontRing | null = null;
  port = -1;
  sectors = 0;
  info = 0;
  /** Responses whose id matched nothing pending (duplicates, garbage). */
  readonly stray: Array<{ id: number; status: number }> = [];
  leakedGrants = 0;
  closed = false;
  private readonly _pending = new Map<number, Pending>();
  private _nextId = 1;
  private _ringPages: SharedPage[] = [];
  private _unwatch: (() => void) | null = null;
  private _stateWaiters: Array<() => void> = [];
  private readonly _L: { size: number; id: number; sector: number; seg: number; rsp: number };

  constructor(readonly dom: NativeDomU, readonly devid: number, readonly opts: BlkfrontOptions = {}) {
    this.fe = `/local/domain/${dom.domid}/device/vbd/${devid}`;
    this._L = opts.protocol === 'x86_64-abi'
      ? { size: 112, id: 8, sector: 16, seg: 24, rsp: 16 }
      : { size: 108, id: 4, sector: 12, seg: 20, rsp: 12 };
  }

  /** The backend's state; 0 once its directory is gone (or no longer readable to us). */
  backendState(): number {
    try {
      return Number(this.dom.xs.tryRead(`${this.be}/state`) ?? '0');
    } catch {
      return 0;
    }
  }

  /** Resolves when `cond()` holds (checked on every backend state change). */
  whenBackend(cond: (state: number) => boolean): Promise<void> {
    if (cond(this.backendState())) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond(this.backendState())) resolve();
        else this._stateWaiters.push(check);
      };
      this._stateWaiters.push(check);
    });
  }

  /** The whole handshake; resolves Connected. */
  async connect(): Promise<void> {
    const xs = this.dom.xs;
    this.be = xs.read(`${this.fe}/backend`);
    this.backId = Number(xs.read(`${this.fe}/backend-id`));
    const token = `blk${this.devid}-${Math.random()}`;
    xs.onWatch((_p, t) => {
      if (t !== token) return;
      for (const w of this._stateWaiters.splice(0)) w();
      if (this.backendState() === 5 && !this.closed) this._onBackendClosing();
    });
    xs.watch(`${this.be}/state`, token);
    this._unwatch = () => xs.unwatch(`${this.be}/state`, token);
    const hs = this.opts.handshake ?? 'initialised';
    if (hs !== 'early') await this.whenBackend((s) => s === 2);
    this._setupRing();
    const order = this.opts.ringOrder ?? 0;
    for (;;) {
      const tx = xs.transactionStart();
      if (order === 0) xs.write(`${this.fe}/ring-ref`, String(this._ringPages[0]!.ref), tx);
      else {
        xs.write(`${this.fe}/ring-page-order`, String(order), tx);
        this._ringPages.forEach((p, i) => xs.write(`${this.fe}/ring-ref${i}`, String(p.ref), tx));
      }
      xs.write(`${this.fe}/event-channel`, String(this.port), tx);
      if (this.opts.protocol !== null) xs.write(`${this.fe}/protocol`, this.opts.protocol ?? 'x86_32-abi', tx);
      xs.write(`${this.fe}/state`, hs === 'initialised' ? '3' : '4', tx);
      if (xs.transactionEnd(tx, true)) break;
    }
    await this.whenBackend((s) => s === 4 || s >= 5);
    if (this.backendState() !== 4) throw new Error(`backend did not connect (state ${this.backendState()})`);
    this.sectors = Number(xs.read(`${this.be}/sectors`));
    this.info = Number(xs.read(`${this.be}/info`));
    xs.write(`${this.fe}/state`, '4');
  }

  private _setupRing(): void {
    const n = 1 << (this.opts.ringOrder ?? 0);
    this._ringPages = Array.from({ length: n }, () => this.dom.gnt.share(this.backId, true));
    const ents = 2 ** Math.floor(Math.log2((n * 4096 - 64) / this._L.size));
    this.ring = new FrontRing(this.dom.gnt, this._ringPages, ents, this._L.size);
    this.port = this.dom.evtchn.bindUnbound(this.backId, () => this._poll());
  }

  /** Build a request slot (direct segments). */
  request(op: number, sector: number, segs: ReadonlyArray<{ gref: number; first: number; last: number }>, id = this._nextId++): Uint8Array {
    const L = this._L;
    const b = new Uint8Array(L.size);
    const v = new DataView(b.buffer);
    v.setUint8(0, op);
    v.setUint8(1, segs.length);
    v.setUint16(2, this.devid & 0xffff, true);
    v.setUint32(L.id, id, true);
    v.setUint32(L.sector, sector % 0x100000000, true);
    v.setUint32(L.sector + 4, Math.floor(sector / 0x100000000), true);
    segs.forEach((s, i) => {
      v.setUint32(L.seg + i * 8, s.gref, true);
      v.setUint8(L.seg + i * 8 + 4, s.first);
      v.setUint8(L.seg + i * 8 + 5, s.last);
    });
    return b;
  }

  /** Queue raw slot bytes whose id field is `id`; resolves with the response status. */
  submitRaw(bytes: Uint8Array, id: number, grants: SharedPage[] = [], publish = true): Promise<number> {
    const ring = this.ring!; // SAFETY: connected
    const p = new Promise<number>((resolve) => this._pending.set(id, { grants, resolve }));
    ring.put(bytes);
    if (publish) this.kick();
    return p;
  }

  kick(): void {
    if (this.ring!.push()) this.dom.evtchn.notify(this.port); // SAFETY: connected
  }

  /** Write `data` (whole sectors) at `sector`; the response status. */
  async write(sector: number, data: Uint8Array, op = BLKIF_OP_WRITE): Promise<number> {
    const { segs, grants } = this._pages(data.length, false, data);
    const id = this._nextId++;
    return this.submitRaw(this.request(op, sector, segs, id), id, grants);
  }

  /** Read `count` sectors; the data, or the failing status. */
  async read(sector: number, count: number): Promise<Uint8Array | number> {
    const { segs, grants } = this._pages(count * 512, true);
    const kept = this._kept;
    const id = this._nextId++;
    const st = await this.submitRaw(this.request(BLKIF_OP_READ, sector, segs, id), id, grants, true);
    if (st !== 0) return st;
    const out = new Uint8Array(count * 512);
    let at = 0;
    segs.forEach((s, i) => {
      const n = (s.last - s.first + 1) * 512;
      out.set(kept[i]!.subarray(s.first * 512, s.first * 512 + n), at);
      at += n;
    });
    return out;
  }

  /** Indirect request of `count` sectors (WRITE with data, or READ). */
  async indirect(op: number, sector: number, count: number, data?: Uint8Array): Promise<Uint8Array | number> {
    const { segs, grants } = this._pages(count * 512, op === BLKIF_OP_READ, data);
    const desc = this.dom.gnt.share(this.backId, false);
    const dv = new DataView(desc.bytes.buffer, desc.bytes.byteOffset, 4096);
    segs.forEach((s, i) => {
      dv.setUint32(i * 8, s.gref, true);
      dv.setUint8(i * 8 + 4, s.first);
      dv.setUint8(i * 8 + 5, s.last);
    });
    this.dom.gnt.written(desc);
    const L = this._L;
    const b = new Uint8Array(L.size);
    const v = new DataView(b.buffer);
    const id = this._nextId++;
    v.setUint8(0, BLKIF_OP_INDIRECT);
    v.setUint8(1, op);
    v.setUint16(2, segs.length, true);
    v.setUint32(L.id, id, true);
    const secOff = L.size === 108 ? 12 : 16, handleOff = L.size === 108 ? 20 : 24, grefOff = L.size === 108 ? 24 : 28;
    v.setUint32(secOff, sector, true);
    v.setUint16(handleOff, this.devid & 0xffff, true);
    v.setUint32(grefOff, desc.ref, true);
    const kept = this._kept;
    const st = await this.submitRaw(b, id, [...grants, desc]);
    if (st !== 0 || op !== BLKIF_OP_READ) return st;
    const out = new Uint8Array(count * 512);
    segs.forEach((s, i) => out.set(kept[i]!.subarray(0, 4096), i * 4096));
    return out;
  }

  /** Data of the last _pages() call, kept past the grant's end (read results). */
  private _kept: Uint8Array[] = [];

  private _pages(bytes: number, writable: boolean, data?: Uint8Array): { segs: Array<{ gref: number; first: number; last: number }>; grants: SharedPage[] } {
    const segs: Array<{ gref: number; first: number; last: number }> = [];
    const grants: SharedPage[] = [];
    this._kept = [];
    for (let off = 0; off < bytes; off += 4096) {
      const n = Math.min(4096, bytes - off);
      const g = this.dom.gnt.share(this.backId, writable);
      if (data) {
        g.bytes.set(data.subarray(off, off + n));
        this.dom.gnt.written(g);
      }
      grants.push(g);
      this._kept.push(g.bytes);
      segs.push({ gref: g.ref, first: 0, last: n / 512 - 1 });
    }
    return { segs, grants };
  }

  /** Consume responses. */
  private _poll(): void {
    const ring = this.ring;
    if (ring === null) return;
    while (ring.pending() > 0) {
      const r = ring.take(this._L.rsp);
      const v = new DataView(r.buffer);
      const id = v.getUint32(0, true);
      const status = v.getInt16(10, true);
      const p = this._pending.get(id);
      if (p === undefined) {
        this.stray.push({ id, status });
        continue;
      }
      this._pending.delete(id);
      for (const g of p.grants) if (!this.dom.gnt.end(g.ref)) this.leakedGrants++;
      p.resolve(status);
    }
  }

  /** Requests still waiting for a response. */
  get inflight(): number {
    return this._pending.size;
  }

  /** Backend-initiated unplug: fail what is pending, close, release the ring once the backend let go. */
  private _onBackendClosing(): void {
    this.closed = true;
    for (const [id, p] of this._pending) {
      this._pending.delete(id);
      p.resolve(-5);
    }
    this.dom.xs.write(`${this.fe}/state`, '6');
    void this.whenBackend((s) => s === 6 || s === 0).then(() => this._release());
  }

  /** Frontend-initiated close (Linux order: Closing, wait, Closed, wait). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dom.xs.write(`${this.fe}/state`, '5');
    await this.whenBackend((s) => s >= 5 || s === 0);
    this.dom.xs.write(`${this.fe}/state`, '6');
    await this.whenBackend((s) => s === 6 || s === 0);
    this._release();
  }

  private _release(): void {
    for (const p of this._ringPages) if (!this.dom.gnt.end(p.ref)) this.leakedGrants++;
    this._ringPages = [];
    this.ring = null;
    if (this.port >= 0) this.dom.evtchn.unbind(this.port);
    this.port = -1;
    try {
      this._unwatch?.();
    } catch { /* the device directory may be gone */ }
    this._unwatch = null;
  }
}
