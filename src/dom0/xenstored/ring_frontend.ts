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
import { asRingMemory, type XsRingMemory } from './ring_memory.ts';
import type { XsByteChannel } from './xs_client.ts';

/** The domain's end of its store event channel. */
export interface XsGuestEventChannel {
  notify(): void;
  onEvent(handler: () => void): void;
}

export class RingFrontend implements XsByteChannel {
  readonly mem: XsRingMemory;
  private readonly _queue: Uint8Array[] = [];
  private _queueOffset = 0;
  private _handler: ((bytes: Uint8Array) => void) | undefined;

  /** `page`: the ring page itself, or a way to reach it (a native domain's own memory). */
  constructor(page: Uint8Array | XsRingMemory, private readonly _evtchn: XsGuestEventChannel) {
    this.mem = asRingMemory(page);
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
    const m = this.mem;
    const cons = m.getU32(XENSTORE_IF_RSP_CONS);
    const prod = m.getU32(XENSTORE_IF_RSP_PROD);
    const avail = (prod - cons) >>> 0;
    if (avail === 0 || avail > XENSTORE_RING_SIZE) return;
    const out = new Uint8Array(avail);
    const idx = MASK_XENSTORE_IDX(cons);
    const first = Math.min(avail, XENSTORE_RING_SIZE - idx);
    m.read(XENSTORE_IF_RSP + idx, out, 0, first);
    if (first < avail) m.read(XENSTORE_IF_RSP, out, first, avail - first);
    m.setU32(XENSTORE_IF_RSP_CONS, (cons + avail) >>> 0);
    this._evtchn.notify();
    this._handler?.(out);
  }

  private _pumpRequests(): void {
    const m = this.mem;
    let moved = false;
    while (this._queue.length > 0) {
      const cons = m.getU32(XENSTORE_IF_REQ_CONS);
      let prod = m.getU32(XENSTORE_IF_REQ_PROD);
      const used = (prod - cons) >>> 0;
      if (used >= XENSTORE_RING_SIZE) break;
      const msg = this._queue[0]!; // SAFETY: length > 0
      const idx = MASK_XENSTORE_IDX(prod);
      const n = Math.min(XENSTORE_RING_SIZE - used, XENSTORE_RING_SIZE - idx, msg.length - this._queueOffset);
      m.write(XENSTORE_IF_REQ + idx, msg, this._queueOffset, n);
      prod = (prod + n) >>> 0;
      m.setU32(XENSTORE_IF_REQ_PROD, prod);
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
