/**
 * The frontend end of a shared ring (io/ring.h) over the granted pages of a native domU:
 * SHARED_RING_INIT, requests written at req_prod_pvt and published with the notify check,
 * responses consumed from rsp_cons. Multi-page rings are one logical byte range across
 * the pages (which need not be adjacent in the frontend's own space).
 *
 * It also lets a test break the rules on purpose: write any bytes into any slot, publish
 * any producer index.
 */
import type { SharedPage } from '../src/dom0/libs/gntshr.ts';
import type { XenGntshr } from '../src/dom0/libs/gntshr.ts';

export class FrontRing {
  reqProdPvt = 0;
  rspCons = 0;
  private _pushed = 0;

  constructor(private readonly _gnt: XenGntshr, readonly pages: readonly SharedPage[], readonly nrEnts: number,
    readonly entrySize: number) {
    this.setU32(0, 0);
    this.setU32(4, 1);
    this.setU32(8, 0);
    this.setU32(12, 1);
  }

  private _at(off: number): { page: SharedPage; o: number } {
    return { page: this.pages[Math.floor(off / 4096)]!, o: off % 4096 }; // SAFETY: offsets stay inside the ring
  }

  getU32(off: number): number {
    const { page, o } = this._at(off);
    return new DataView(page.bytes.buffer, page.bytes.byteOffset).getUint32(o, true);
  }

  setU32(off: number, v: number): void {
    const { page, o } = this._at(off);
    new DataView(page.bytes.buffer, page.bytes.byteOffset).setUint32(o, v >>> 0, true);
    this._gnt.written(page, o, 4);
  }

  /** Bytes of slot `idx` (copy). */
  readSlot(idx: number, len = this.entrySize): Uint8Array {
    const out = new Uint8Array(len);
    const base = 64 + (idx & (this.nrEnts - 1)) * this.entrySize;
    for (let i = 0; i < len; i++) {
      const { page, o } = this._at(base + i);
      out[i] = page.bytes[o]!;
    }
    return out;
  }

  writeSlot(idx: number, bytes: Uint8Array): void {
    const base = 64 + (idx & (this.nrEnts - 1)) * this.entrySize;
    for (let i = 0; i < bytes.length; i++) {
      const { page, o } = this._at(base + i);
      page.bytes[o] = bytes[i]!;
    }
    for (const p of this.pages) this._gnt.written(p);
  }

  /** Put a request at req_prod_pvt (not yet visible). */
  put(bytes: Uint8Array): number {
    const idx = this.reqProdPvt;
    this.writeSlot(idx, bytes);
    this.reqProdPvt = (this.reqProdPvt + 1) >>> 0;
    return idx;
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY. */
  push(): boolean {
    const old = this._pushed, now = this.reqProdPvt;
    this.setU32(0, now);
    this._pushed = now;
    const ev = this.getU32(4);
    return ((now - ev) >>> 0) < ((now - old) >>> 0);
  }

  /** Publish an arbitrary producer index (hostile). */
  setReqProd(v: number): void {
    this.setU32(0, v);
    this._pushed = v >>> 0;
  }

  /** Responses available. */
  pending(): number {
    return (this.getU32(8) - this.rspCons) >>> 0;
  }

  /** Take the next response (copy) and ask for an event at the one after. */
  take(len: number): Uint8Array {
    const r = this.readSlot(this.rspCons, len);
    this.rspCons = (this.rspCons + 1) >>> 0;
    this.setU32(12, this.rspCons + 1);
    return r;
  }
}
