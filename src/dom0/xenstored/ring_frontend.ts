/**
 * The domain side of a xenstore ring (what Linux's xenbus_comms or Mini-OS's xenbus do),
 * for native domains that reach xenstored through a ring page, and for the tests.
 *
 * It owns req_prod and rsp_cons: requests are copied into the free part of `req` (wrapping
 * at 1024), then req_prod moves and the event channel is notified; on every event the
 * available response bytes are consumed, rsp_cons moves, and the server is notified so it
 * can write more. Requests that do not fit wait in a queue until space frees up.
 *
 * Invariants: the frontend never moves an index past its peer (prod - cons <= 1024), and
 * reads the server's indexes from the page each time (the server may be restarted or
 * reset the ring on introduction).
 */
import {
  MASK_XENSTORE_IDX, XENSTORE_IF_REQ, XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD,
  XENSTORE_IF_RSP, XENSTORE_IF_RSP_CONS, XENSTORE_IF_RSP_PROD, XENSTORE_RING_SIZE,
} from '../../abi/io/xs_wire.ts';
import type { XsByteChannel } from './xs_client.ts';

/** The domain's end of its store event channel. */
export interface XsGuestEventChannel {
  notify(): void;
  onEvent(handler: () => void): void;
}

export class RingFrontend implements XsByteChannel {
  private readonly _view: DataView;
  private readonly _queue: Uint8Array[] = [];
  private _queueOffset = 0;
  private _handler: ((bytes: Uint8Array) => void) | undefined;

  constructor(readonly page: Uint8Array, private readonly _evtchn: XsGuestEventChannel) {
    this._view = new DataView(page.buffer, page.byteOffset, page.byteLength);
    _evtchn.onEvent(() => this.poll());
  }

  write(bytes: Uint8Array): void {
    this._queue.push(bytes);
    this._pumpRequests();
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this._handler = handler;
  }

  /** Move pending requests in and responses out (also called on every event). */
  poll(): void {
    this._pumpRequests();
    const v = this._view;
    const cons = v.getUint32(XENSTORE_IF_RSP_CONS, true);
    const prod = v.getUint32(XENSTORE_IF_RSP_PROD, true);
    const avail = (prod - cons) >>> 0;
    if (avail === 0 || avail > XENSTORE_RING_SIZE) return;
    const out = new Uint8Array(avail);
    for (let i = 0; i < avail; i++) out[i] = this.page[XENSTORE_IF_RSP + MASK_XENSTORE_IDX(cons + i)]!; // SAFETY: masked index
    v.setUint32(XENSTORE_IF_RSP_CONS, (cons + avail) >>> 0, true);
    this._evtchn.notify();
    this._handler?.(out);
  }

  private _pumpRequests(): void {
    const v = this._view;
    let moved = false;
    while (this._queue.length > 0) {
      const cons = v.getUint32(XENSTORE_IF_REQ_CONS, true);
      let prod = v.getUint32(XENSTORE_IF_REQ_PROD, true);
      const used = (prod - cons) >>> 0;
      if (used >= XENSTORE_RING_SIZE) break;
      const msg = this._queue[0]!; // SAFETY: length > 0
      const n = Math.min(XENSTORE_RING_SIZE - used, msg.length - this._queueOffset);
      for (let i = 0; i < n; i++) this.page[XENSTORE_IF_REQ + MASK_XENSTORE_IDX(prod + i)] = msg[this._queueOffset + i]!; // SAFETY: i < n
      prod = (prod + n) >>> 0;
      v.setUint32(XENSTORE_IF_REQ_PROD, prod, true);
      moved = true;
      this._queueOffset += n;
      if (this._queueOffset === msg.length) {
        this._queue.shift();
        this._queueOffset = 0;
      }
    }
    if (moved) this._evtchn.notify();
  }
}
