/**
 * One client of xenstored: a domain's ring, a host-tool socket, or an in-process dom0 user.
 * Holds what Xen keeps per connection: identity and privilege, watches, open transactions,
 * and the queue of replies and watch events waiting for the transport.
 *
 * Output accounting (Xen 4.x "outstanding requests" quota):
 * - Each request is represented by a PendingRequest. Its reply counts as outstanding for the
 *   requester until the transport has taken all of its bytes, and the request stays
 *   outstanding until every watch event it caused (on any connection) has been taken or
 *   dropped. An unprivileged connection is not read while `outstanding` is at the quota, so a
 *   domain that does not consume its replies, or floods others with events, stalls itself.
 * - Watch events are dropped (never replies) when an unprivileged connection already has the
 *   memory quota of output queued, and an event identical to one still queued is dropped
 *   (Xen does both; watches may fire spuriously but a client must re-read anyway).
 *
 * Invariants:
 * - `queuedBytes` is the sum of the sizes of queued messages minus what was already taken.
 * - A connection marked `ignored` (protocol violation) has no watches, transactions or
 *   output and reads nothing until the transport resets it.
 */
import { XS_WATCH_EVENT } from '../../abi/io/xs_wire.ts';
import type { DomId } from '../../abi/types.ts';
import type { OpCaller } from './node_ops.ts';
import { domainPath } from './path.ts';
import type { XsQuotas } from './quota.ts';
import type { Transaction } from './transaction.ts';
import { encodeMessage, latin1Bytes } from './wire.ts';

/** What the daemon needs from whatever carries a connection's bytes. */
export interface XsTransport {
  /**
   * The connection has output, or may read again: do as much work as `budget` requests
   * allow. Returns true if more work remains (the daemon gives it another turn later).
   */
  service(budget: number): boolean;
  /** The daemon is done with this connection (release, or the transport's own close). */
  shutdown(): void;
}

export interface Watch {
  /** Canonical path or special `@name`. */
  readonly path: string;
  readonly token: string;
  /** Registered with a relative path: events are reported relative to the home. */
  readonly relative: boolean;
}

/** A request whose reply, or the watch events it caused, are not yet delivered. */
export class PendingRequest {
  /** Watch events caused by this request still queued somewhere. */
  events = 0;
  replyTaken = false;
  constructor(readonly conn: Connection) {}
}

interface OutMessage {
  readonly bytes: Uint8Array;
  /** `path\0token` of a watch event (for duplicate suppression), else null. */
  readonly eventKey: string | null;
  /** The request this reply answers, or that caused this event. */
  readonly req: PendingRequest | null;
}

export class Connection implements OpCaller {
  readonly home: string;
  target = -1;
  readonly watches: Watch[] = [];
  readonly transactions = new Map<number, Transaction>();
  ignored = false;
  closed = false;
  /** Outstanding requests (see the module comment). */
  outstanding = 0;
  queuedBytes = 0;
  transport: XsTransport | undefined;

  private _nextTxId = 1;
  private readonly _out: OutMessage[] = [];
  private _outHead = 0;
  /** Bytes of the head message already taken. */
  private _outOffset = 0;
  private readonly _pendingEvents = new Set<string>();

  /**
   * @param id the domain this connection speaks for (0 for dom0 and host tools)
   * @param privileged dom0 rights: no permission checks, no quotas, control messages
   * @param quotas the daemon's quota table (shared, mutable at run time)
   * @param _wake asks the daemon to give the transport a turn
   */
  constructor(
    readonly id: DomId,
    readonly privileged: boolean,
    readonly quotas: XsQuotas,
    private readonly _wake: (c: Connection) => void,
  ) {
    this.home = domainPath(id);
  }

  /** May the transport read another request now? */
  canRead(): boolean {
    if (this.ignored || this.closed) return false;
    if (this.privileged) return true;
    return this.outstanding < this.quotas.outstanding && this.queuedBytes < this.quotas.memory;
  }

  hasOutput(): boolean {
    return this._outHead < this._out.length;
  }

  /** A fresh non-zero transaction id not in use on this connection. */
  allocTxId(): number {
    for (;;) {
      const id = this._nextTxId;
      this._nextTxId = (this._nextTxId + 1) >>> 0 || 1;
      if (!this.transactions.has(id)) return id;
    }
  }

  queueReply(req: PendingRequest | null, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    if (this.closed) return;
    if (req !== null) this.outstanding++;
    this._push({ bytes: encodeMessage(type, reqId, txId, payload), eventKey: null, req });
  }

  /** Queue a watch event; returns false if it was dropped (duplicate or memory quota). */
  queueEvent(path: string, token: string, cause: PendingRequest | null): boolean {
    if (this.closed || this.ignored) return false;
    const key = `${path}\0${token}`;
    if (path.charCodeAt(0) !== 64 /* @ */ && this._pendingEvents.has(key)) return false;
    const bytes = encodeMessage(XS_WATCH_EVENT, 0, 0, latin1Bytes(`${key}\0`));
    if (!this.privileged && this.queuedBytes + bytes.length > this.quotas.memory) return false;
    this._pendingEvents.add(key);
    if (cause !== null) cause.events++;
    this._push({ bytes, eventKey: key, req: cause });
    return true;
  }

  /**
   * Copy up to `max` bytes of pending output into `dst` at `off`; returns the count.
   * Messages may be split across calls (the ring takes what fits).
   */
  pullOutput(dst: Uint8Array, off: number, max: number): number {
    let n = 0;
    while (n < max && this._outHead < this._out.length) {
      const m = this._out[this._outHead]!; // SAFETY: head < length
      const take = Math.min(max - n, m.bytes.length - this._outOffset);
      dst.set(m.bytes.subarray(this._outOffset, this._outOffset + take), off + n);
      n += take;
      this._outOffset += take;
      this.queuedBytes -= take;
      if (this._outOffset === m.bytes.length) this._finishHead();
    }
    return n;
  }

  /** Take the next whole message (transports that write complete messages). */
  takeMessage(): Uint8Array | undefined {
    if (this._outHead >= this._out.length) return undefined;
    const m = this._out[this._outHead]!; // SAFETY: head < length
    const bytes = this._outOffset === 0 ? m.bytes : m.bytes.subarray(this._outOffset);
    this.queuedBytes -= bytes.length;
    this._finishHead();
    return bytes;
  }

  /** Drop all queued output (reset, ignore, close), settling its accounting. */
  dropOutput(): void {
    while (this._outHead < this._out.length) {
      const m = this._out[this._outHead]!; // SAFETY: head < length
      this.queuedBytes -= m.bytes.length - this._outOffset;
      this._finishHead();
    }
    this.queuedBytes = 0;
  }

  /** Give the transport a turn soon (output queued, or reading unblocked). */
  wake(): void {
    if (!this.closed) this._wake(this);
  }

  private _push(m: OutMessage): void {
    this._out.push(m);
    this.queuedBytes += m.bytes.length;
    this.wake();
  }

  private _finishHead(): void {
    const m = this._out[this._outHead]!; // SAFETY: callers check head < length
    this._outHead++;
    this._outOffset = 0;
    if (this._outHead === this._out.length) {
      this._out.length = 0;
      this._outHead = 0;
    } else if (this._outHead > 64 && this._outHead * 2 > this._out.length) {
      this._out.splice(0, this._outHead);
      this._outHead = 0;
    }
    if (m.eventKey !== null) {
      this._pendingEvents.delete(m.eventKey);
      if (m.req !== null) settleEvent(m.req);
    } else if (m.req !== null) {
      m.req.replyTaken = true;
      if (m.req.events === 0) release(m.req.conn);
    }
  }
}

function settleEvent(req: PendingRequest): void {
  req.events--;
  if (req.events === 0 && req.replyTaken) release(req.conn);
}

function release(c: Connection): void {
  const wasBlocked = !c.canRead();
  c.outstanding--;
  if (wasBlocked && c.canRead()) c.wake();
}
