/**
 * The transport of a domain's connection: its xenstore ring page (struct
 * xenstore_domain_interface, shared with the guest) and its event channel.
 *
 * Ring rules (xenstore.md §1.3): indexes are free-running uint32 byte counts, byte x of a
 * stream is at ring[x & 1023], and `prod - cons <= 1024` always. The guest owns req_prod and
 * rsp_cons, we own req_cons and rsp_prod, but the whole page is guest-writable, so every
 * index is read from the page each time and checked; a violation is never trusted.
 *
 * Per turn (`service`): honour a reconnect request, write queued output into the free
 * response space, then read at most `budget` requests, each processed as soon as it is
 * complete. Reading stops when the connection may not read (outstanding quota), so the
 * unread requests stay in the guest's ring: that is the backpressure.
 *
 * Failure (Xen's ignore_connection): bad indexes (XENSTORE_ERROR_RINGIDX) or a header
 * announcing more than XENSTORE_PAYLOAD_MAX (XENSTORE_ERROR_PROTO) write the `error` field,
 * drop the connection's watches, transactions and output and stop serving it. Only this
 * domain is affected. The guest can recover with the reconnection protocol: it sets
 * `connection` = XENSTORE_RECONNECT and notifies; we reset the indexes and all state, clear
 * `error` and set `connection` = XENSTORE_CONNECTED. Both features are advertised in
 * `server_features`.
 */
import {
  MASK_XENSTORE_IDX, XENSTORE_CONNECTED, XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_IF_CONNECTION, XENSTORE_IF_ERROR,
  XENSTORE_IF_REQ, XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD, XENSTORE_IF_RSP,
  XENSTORE_IF_RSP_CONS, XENSTORE_IF_RSP_PROD, XENSTORE_IF_SERVER_FEATURES, XENSTORE_RECONNECT,
  XENSTORE_RING_SIZE, XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_RECONNECTION,
} from '../../abi/io/xs_wire.ts';
import type { Connection, XsTransport } from './connection.ts';
import type { XsRingMemory } from './ring_memory.ts';
import { MessageReader, ReadState, type XsMessage } from './wire.ts';

/**
 * The event channel xenstored binds to a domain's store port. The event-channel layer
 * provides it; `notify` sends an event to the guest, `onEvent` registers the one handler
 * called when the guest notifies, `close` unbinds.
 */
export interface XsEventChannel {
  notify(): void;
  onEvent(handler: () => void): void;
  close(): void;
}

/** What the ring transport needs from the daemon. */
export interface RingHost {
  handleMessage(conn: Connection, msg: XsMessage): void;
  /** Drop watches, transactions and output; `ignored` says whether to stop serving. */
  resetConnection(conn: Connection, ignored: boolean): void;
}

/** A fatal ring condition; `code` is what goes into the page's `error` field. */
class RingFault {
  constructor(readonly code: number) {}
}
const BAD_INDEX = new RingFault(XENSTORE_ERROR_RINGIDX);
const BAD_PROTOCOL = new RingFault(XENSTORE_ERROR_PROTO);

/** Features this server implements and advertises in server_features. */
export const XS_SERVER_FEATURES = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;

export class RingTransport implements XsTransport {
  private readonly _reader = new MessageReader();
  /** Staging for bytes moving between the page and the connection. */
  private readonly _buf = new Uint8Array(XENSTORE_RING_SIZE);
  private _closed = false;

  constructor(
    readonly mem: XsRingMemory,
    readonly evtchn: XsEventChannel,
    private readonly _conn: Connection,
    private readonly _host: RingHost,
  ) {
    mem.setU32(XENSTORE_IF_SERVER_FEATURES, XS_SERVER_FEATURES);
    evtchn.onEvent(() => this._conn.wake());
  }

  /** Zero the indexes and the error (introduction of a known domain, reconnection). */
  resetRing(): void {
    const m = this.mem;
    m.setU32(XENSTORE_IF_REQ_CONS, 0);
    m.setU32(XENSTORE_IF_REQ_PROD, 0);
    m.setU32(XENSTORE_IF_RSP_CONS, 0);
    m.setU32(XENSTORE_IF_RSP_PROD, 0);
    m.setU32(XENSTORE_IF_ERROR, XENSTORE_ERROR_NONE);
    this._reader.reset();
  }

  service(budget: number): boolean {
    if (this._closed) return false;
    const m = this.mem;
    let notify = false;
    if (m.getU32(XENSTORE_IF_CONNECTION) === XENSTORE_RECONNECT) {
      this._host.resetConnection(this._conn, false);
      this.resetRing();
      m.setU32(XENSTORE_IF_CONNECTION, XENSTORE_CONNECTED);
      notify = true;
    }
    if (this._conn.ignored) {
      if (notify) this.evtchn.notify();
      return false;
    }
    let more = false;
    try {
      if (this._writeOutput()) notify = true;
      while (this._conn.canRead()) {
        const cons = m.getU32(XENSTORE_IF_REQ_CONS);
        const avail = (m.getU32(XENSTORE_IF_REQ_PROD) - cons) >>> 0;
        if (avail > XENSTORE_RING_SIZE) throw BAD_INDEX;
        if (avail === 0) break;
        if (budget === 0) {
          more = true;
          break;
        }
        const idx = MASK_XENSTORE_IDX(cons);
        // Take no byte beyond the current message part: unread requests stay in the ring.
        const n = Math.min(avail, XENSTORE_RING_SIZE - idx, this._reader.needed());
        m.read(XENSTORE_IF_REQ + idx, this._buf, 0, n);
        const state = this._reader.push(this._buf, 0, n);
        if (state === ReadState.Oversized) throw BAD_PROTOCOL;
        m.setU32(XENSTORE_IF_REQ_CONS, (cons + this._reader.consumed) >>> 0);
        notify = true;
        if (state === ReadState.Ready) {
          budget--;
          this._host.handleMessage(this._conn, this._reader.message());
          if (this._closed || this._conn.ignored) return false;
          this._writeOutput();
        }
      }
    } catch (e) {
      if (!(e instanceof RingFault)) throw e;
      this._fail(e.code);
      return false;
    }
    if (notify) this.evtchn.notify();
    return more;
  }

  shutdown(): void {
    if (this._closed) return;
    this._closed = true;
    this.evtchn.close();
  }

  /** Copy queued output into the response ring; true if anything was written. */
  private _writeOutput(): boolean {
    if (!this._conn.hasOutput()) return false;
    const m = this.mem;
    const cons = m.getU32(XENSTORE_IF_RSP_CONS);
    let prod = m.getU32(XENSTORE_IF_RSP_PROD);
    const used = (prod - cons) >>> 0;
    if (used > XENSTORE_RING_SIZE) throw BAD_INDEX;
    let free = XENSTORE_RING_SIZE - used;
    const start = prod;
    while (free > 0 && this._conn.hasOutput()) {
      const idx = MASK_XENSTORE_IDX(prod);
      const n = this._conn.pullOutput(this._buf, 0, Math.min(free, XENSTORE_RING_SIZE - idx));
      m.write(XENSTORE_IF_RSP + idx, this._buf, 0, n);
      prod = (prod + n) >>> 0;
      free -= n;
    }
    // The data is in place before the producer index moves (the guest may look any time).
    m.setU32(XENSTORE_IF_RSP_PROD, prod);
    return prod !== start;
  }

  private _fail(error: number): void {
    this.mem.setU32(XENSTORE_IF_ERROR, error);
    this._reader.reset();
    this._host.resetConnection(this._conn, true);
    this.evtchn.notify();
  }
}
