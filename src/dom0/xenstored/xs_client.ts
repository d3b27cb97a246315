/**
 * A xenstore protocol client over any byte stream: a domain's ring (ring_frontend.ts), a
 * Unix socket, or anything else that carries xsd_sockmsg frames. Used by native domains
 * that talk to xenstored through a ring, and by the tests.
 *
 * Requests are pipelined: each gets a fresh req_id and its promise resolves with the reply
 * whose req_id matches (xenstored answers in order, but matching by id keeps the client
 * honest). Watch events go to the `onWatch` callbacks; replies never do.
 *
 * Invariants: a reply or event longer than XENSTORE_PAYLOAD_MAX is a broken server; the
 * client then fails every pending request with an Error and stops (it never hangs).
 */
import {
  XS_DIRECTORY, XS_ERROR, XS_GET_PERMS, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS,
  XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../../abi/io/xs_wire.ts';
import { XsRequestError } from './xs_error.ts';
import { encodeMessage, latin1, latin1Bytes, MessageReader, payloadStrings, ReadState } from './wire.ts';

/** A byte stream to xenstored. */
export interface XsByteChannel {
  write(bytes: Uint8Array): void;
  onData(handler: (bytes: Uint8Array) => void): void;
}

export interface XsReply {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  /** A copy: safe to keep. */
  readonly payload: Uint8Array;
}

interface Pending {
  resolve(r: XsReply): void;
  reject(e: Error): void;
}

export class XsClient {
  private readonly _reader = new MessageReader();
  private readonly _pending = new Map<number, Pending>();
  private readonly _watchers: Array<(path: string, token: string) => void> = [];
  private _nextReqId = 1;
  private _broken: Error | undefined;
  /** Every watch event received, in order (tests inspect it). */
  readonly events: Array<readonly [string, string]> = [];
  /** Sees every message from the server, header included, before it is dispatched. */
  onMessage: ((m: XsReply) => void) | undefined;

  constructor(private readonly _ch: XsByteChannel) {
    _ch.onData((b) => this._onData(b));
  }

  /** Send a raw request; resolves with the raw reply (XS_ERROR included). */
  request(type: number, payload: Uint8Array | string, txId = 0, reqId?: number): Promise<XsReply> {
    if (this._broken !== undefined) return Promise.reject(this._broken);
    const id = reqId ?? this._nextReqId++ >>> 0;
    const bytes = typeof payload === 'string' ? latin1Bytes(payload) : payload;
    const p = new Promise<XsReply>((resolve, reject) => this._pending.set(id, { resolve, reject }));
    this._ch.write(encodeMessage(type, id, txId, bytes));
    return p;
  }

  /** Send raw bytes (malformed traffic in tests). */
  sendRaw(bytes: Uint8Array): void {
    this._ch.write(bytes);
  }

  onWatch(cb: (path: string, token: string) => void): void {
    this._watchers.push(cb);
  }

  /** Request and return the payload, throwing XsRequestError on XS_ERROR. */
  async call(type: number, payload: Uint8Array | string, txId = 0, what = ''): Promise<Uint8Array> {
    const r = await this.request(type, payload, txId);
    if (r.type === XS_ERROR) throw new XsRequestError(latin1(r.payload, 0, Math.max(0, r.payload.length - 1)), `type ${type}`, what);
    return r.payload;
  }

  async read(path: string, tx = 0): Promise<string> {
    return latin1(await this.call(XS_READ, `${path}\0`, tx, path));
  }

  async write(path: string, value: string, tx = 0): Promise<void> {
    await this.call(XS_WRITE, `${path}\0${value}`, tx, path);
  }

  async mkdir(path: string, tx = 0): Promise<void> {
    await this.call(XS_MKDIR, `${path}\0`, tx, path);
  }

  async rm(path: string, tx = 0): Promise<void> {
    await this.call(XS_RM, `${path}\0`, tx, path);
  }

  async directory(path: string, tx = 0): Promise<string[]> {
    return payloadStrings(await this.call(XS_DIRECTORY, `${path}\0`, tx, path));
  }

  async getPerms(path: string, tx = 0): Promise<string[]> {
    return payloadStrings(await this.call(XS_GET_PERMS, `${path}\0`, tx, path));
  }

  async setPerms(path: string, perms: readonly string[], tx = 0): Promise<void> {
    await this.call(XS_SET_PERMS, `${path}\0${perms.map((p) => `${p}\0`).join('')}`, tx, path);
  }

  async watch(path: string, token: string): Promise<void> {
    await this.call(XS_WATCH, `${path}\0${token}\0`, 0, path);
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.call(XS_UNWATCH, `${path}\0${token}\0`, 0, path);
  }

  async transactionStart(): Promise<number> {
    return Number.parseInt(latin1(await this.call(XS_TRANSACTION_START, '\0')), 10);
  }

  /** false when the commit conflicted (EAGAIN). */
  async transactionEnd(tx: number, commit: boolean): Promise<boolean> {
    const r = await this.request(XS_TRANSACTION_END, commit ? 'T\0' : 'F\0', tx);
    if (r.type !== XS_ERROR) return true;
    const code = latin1(r.payload, 0, r.payload.length - 1);
    if (code === 'EAGAIN') return false;
    throw new XsRequestError(code, 'transaction_end', String(tx));
  }

  private _onData(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length && this._broken === undefined) {
      const state = this._reader.push(bytes, off, bytes.length - off);
      off += this._reader.consumed;
      if (state === ReadState.Oversized) {
        this._break(new Error('xenstore client: server sent an oversized message'));
        return;
      }
      if (state !== ReadState.Ready) continue;
      const m = this._reader.message();
      this.onMessage?.({ type: m.type, reqId: m.reqId, txId: m.txId, payload: m.payload.slice() });
      if (m.type === XS_WATCH_EVENT) {
        const [path = '', token = ''] = payloadStrings(m.payload);
        this.events.push([path, token]);
        for (const w of this._watchers) w(path, token);
        continue;
      }
      const p = this._pending.get(m.reqId);
      if (p === undefined) continue; // a reply to nobody: ignore it
      this._pending.delete(m.reqId);
      p.resolve({ type: m.type, reqId: m.reqId, txId: m.txId, payload: m.payload.slice() });
    }
  }

  private _break(e: Error): void {
    this._broken = e;
    for (const p of this._pending.values()) p.reject(e);
    this._pending.clear();
  }
}
