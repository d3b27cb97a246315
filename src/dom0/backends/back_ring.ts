/**
 * The backend end of a shared I/O ring (io/ring.h; pv-devices.md §1) over ring pages the
 * backend has mapped at consecutive pseudo-physical frames of its own.
 *
 * Field order follows the spec so the frontend, running between our accesses, sees what
 * the protocol promises: requests are copied out before use (the frontend can still write
 * them); a response's bytes are in the slot before rsp_prod moves past it; after moving
 * rsp_prod we re-read rsp_event to decide on a notification; when out of requests we set
 * req_event = req_cons + 1 and look once more (the final check).
 *
 * Hostile frontends: `req_prod - rsp_prod_pvt > RING_SIZE` is a protocol violation
 * (`overflow` is set and nothing more is consumed: the owner disconnects the device);
 * otherwise at most the slots not yet answered are consumed, so a producer far ahead can
 * never make us read an unanswered slot twice.
 *
 * Invariants: req_cons - rsp_prod_pvt <= nrEnts; rsp_prod_pvt only moves forward; all
 * indexes are u32 (kept as int32 |0, compared with >>> 0 arithmetic).
 */
import { ringRequestProdOverflow, ringUnconsumedRequests } from '../../abi/io/ring.ts';

/** Reads and writes of the backend domain's own pseudo-physical memory. */
export interface DomainMemory {
  read(gpa: number, dst: Uint8Array, len?: number): boolean;
  write(gpa: number, src: Uint8Array, len?: number): boolean;
}

const REQ_PROD = 0;
const REQ_EVENT = 4;
const RSP_PROD = 8;
const RSP_EVENT = 12;
const HEADER = 64;

export class BackRing {
  reqCons = 0;
  rspProdPvt = 0;
  /** The frontend broke the protocol (producer too far ahead, unreadable ring). */
  overflow = false;
  private readonly _w = new Uint8Array(4);
  private readonly _wv = new DataView(this._w.buffer);
  private _lastPushed = 0;

  /**
   * @param gpa     pseudo-physical address of the first ring page (mapped)
   * @param nrEnts  RING_SIZE (a power of two)
   * @param entrySize bytes per slot
   */
  constructor(private readonly _mem: DomainMemory, readonly gpa: number, readonly nrEnts: number,
    readonly entrySize: number) {}

  private _get(off: number): number {
    if (!this._mem.read(this.gpa + off, this._w, 4)) {
      this.overflow = true;
      return 0;
    }
    return this._wv.getInt32(0, true);
  }

  private _set(off: number, v: number): void {
    this._wv.setInt32(0, v | 0, true);
    if (!this._mem.write(this.gpa + off, this._w, 4)) this.overflow = true;
  }

  /** Requests ready to consume now (0 on a protocol violation, with `overflow` set). */
  unconsumed(): number {
    if (this.overflow) return 0;
    const prod = this._get(REQ_PROD);
    if (ringRequestProdOverflow(this.nrEnts, prod, this.rspProdPvt)) {
      this.overflow = true;
      return 0;
    }
    return ringUnconsumedRequests(this.nrEnts, prod, this.reqCons, this.rspProdPvt);
  }

  /** Copy the request at req_cons into `dst` (at least entrySize bytes) and consume it. */
  take(dst: Uint8Array): boolean {
    const off = HEADER + (this.reqCons & (this.nrEnts - 1)) * this.entrySize;
    this.reqCons = (this.reqCons + 1) | 0;
    if (!this._mem.read(this.gpa + off, dst, this.entrySize)) {
      this.overflow = true;
      return false;
    }
    return true;
  }

  /** Put a response (`len` bytes of `src`) in the next response slot (not yet visible). */
  put(src: Uint8Array, len: number): void {
    const off = HEADER + (this.rspProdPvt & (this.nrEnts - 1)) * this.entrySize;
    if (!this._mem.write(this.gpa + off, src, len)) this.overflow = true;
    this.rspProdPvt = (this.rspProdPvt + 1) | 0;
  }

  /** Responses put but not yet published. */
  get unpublished(): number {
    return (this.rspProdPvt - this._lastPushed) >>> 0;
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish, then say whether the frontend wants an event. */
  push(): boolean {
    const old = this._lastPushed;
    const now = this.rspProdPvt;
    if (old === now) return false;
    this._set(RSP_PROD, now);
    this._lastPushed = now;
    const event = this._get(RSP_EVENT);
    return ((now - event) >>> 0) < ((now - old) >>> 0);
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: if nothing is waiting, ask for an event at the next
   * request and look again; true if there is work after all.
   */
  finalCheck(): boolean {
    if (this.unconsumed() > 0) return true;
    if (this.overflow) return false;
    this._set(REQ_EVENT, (this.reqCons + 1) | 0);
    return this.unconsumed() > 0;
  }

  /** Set req_event explicitly (netback rx: wake me when `n` more buffers are posted). */
  requestEventAt(idx: number): void {
    this._set(REQ_EVENT, idx);
  }

  /** The frontend's req_prod as last published (for rx: buffers available). */
  reqProd(): number {
    return this._get(REQ_PROD);
  }
}
