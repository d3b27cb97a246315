/**
 * An in-process xenstore connection for dom0's own TypeScript code (toolstack, backends):
 * the same messages and semantics as a socket client, without bytes on a wire.
 *
 * Requests are synchronous: the daemon serves them at once, so every call returns its reply
 * or throws XsRequestError with Xen's error name. Watch callbacks never run inside a call;
 * they run from a daemon turn (the `defer` of XenStored), in the order the events were
 * queued, so a callback may itself issue requests.
 *
 * Example:
 *   const xs = new XsLocalHandle(daemon);          // privileged, domid 0
 *   const t = xs.transactionStart();
 *   xs.write('/local/domain/5/name', 'guest', t);
 *   if (!xs.transactionEnd(t, true)) retry();      // false: EAGAIN, nothing applied
 */
import {
  XS_DIRECTORY, XS_ERROR, XS_GET_DOMAIN_PATH, XS_GET_PERMS, XS_INTRODUCE, XS_MKDIR, XS_READ,
  XS_RELEASE, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH,
  XS_WATCH, XS_WATCH_EVENT, XS_WRITE, XSD_SOCKMSG_SIZE,
} from '../../abi/io/xs_wire.ts';
import { asDomId, type DomId, type EvtchnPort, type Gfn } from '../../abi/types.ts';
import type { Connection, XsTransport } from './connection.ts';
import { latin1, latin1Bytes, payloadStrings, type XsMessage } from './wire.ts';
import type { XenStored } from './xenstored.ts';
import { XsRequestError } from './xs_error.ts';

export { XsRequestError };

export type XsWatchCallback = (path: string, token: string) => void;

export class XsLocalHandle implements XsTransport {
  readonly conn: Connection;
  private readonly _callbacks: XsWatchCallback[] = [];
  private readonly _events: Array<readonly [string, string]> = [];
  private _reqId = 0;

  /** A privileged handle for dom0 by default; pass a domid and false to act as a domain. */
  constructor(private readonly _d: XenStored, domid: DomId = asDomId(0), privileged = true) {
    this.conn = _d.connect(domid, privileged, this);
  }

  /** Send one raw request; returns the reply payload or throws XsRequestError. */
  request(type: number, payload: Uint8Array | string, txId = 0, what = ''): Uint8Array {
    const bytes = typeof payload === 'string' ? latin1Bytes(payload) : payload;
    const msg: XsMessage = { type, reqId: ++this._reqId >>> 0, txId, payload: bytes };
    this._d.handleMessage(this.conn, msg);
    for (;;) {
      const m = this.conn.takeMessage();
      if (m === undefined) throw new Error('xenstored queued no reply'); // daemon bug
      const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
      const rtype = v.getUint32(0, true);
      const body = m.subarray(XSD_SOCKMSG_SIZE);
      if (rtype === XS_WATCH_EVENT) {
        this._queueEvent(body);
        continue;
      }
      if (this._events.length > 0) this.conn.wake();
      if (rtype === XS_ERROR) throw new XsRequestError(latin1(body, 0, Math.max(0, body.length - 1)), opName(type), what);
      return body;
    }
  }

  read(path: string, tx = 0): string {
    return latin1(this.readBytes(path, tx));
  }

  readBytes(path: string, tx = 0): Uint8Array {
    return this.request(XS_READ, `${path}\0`, tx, path);
  }

  /** The value, or undefined if the node does not exist. */
  tryRead(path: string, tx = 0): string | undefined {
    try {
      return this.read(path, tx);
    } catch (e) {
      if (e instanceof XsRequestError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  write(path: string, value: string | Uint8Array, tx = 0): void {
    const v = typeof value === 'string' ? latin1Bytes(value) : value;
    const payload = new Uint8Array(path.length + 1 + v.length);
    payload.set(latin1Bytes(path));
    payload.set(v, path.length + 1);
    this.request(XS_WRITE, payload, tx, path);
  }

  mkdir(path: string, tx = 0): void {
    this.request(XS_MKDIR, `${path}\0`, tx, path);
  }

  rm(path: string, tx = 0): void {
    this.request(XS_RM, `${path}\0`, tx, path);
  }

  directory(path: string, tx = 0): string[] {
    return payloadStrings(this.request(XS_DIRECTORY, `${path}\0`, tx, path));
  }

  getPerms(path: string, tx = 0): string[] {
    return payloadStrings(this.request(XS_GET_PERMS, `${path}\0`, tx, path));
  }

  /** `perms` in wire form, owner first: e.g. ['n0', 'r5']. */
  setPerms(path: string, perms: readonly string[], tx = 0): void {
    this.request(XS_SET_PERMS, `${path}\0${perms.map((p) => `${p}\0`).join('')}`, tx, path);
  }

  transactionStart(): number {
    return Number.parseInt(latin1(this.request(XS_TRANSACTION_START, '\0', 0, 'transaction')), 10);
  }

  /** Commit (or abort); false if the commit conflicted (EAGAIN): retry the transaction. */
  transactionEnd(tx: number, commit: boolean): boolean {
    try {
      this.request(XS_TRANSACTION_END, commit ? 'T\0' : 'F\0', tx, 'transaction');
      return true;
    } catch (e) {
      if (e instanceof XsRequestError && e.code === 'EAGAIN') return false;
      throw e;
    }
  }

  watch(path: string, token: string): void {
    this.request(XS_WATCH, `${path}\0${token}\0`, 0, path);
  }

  unwatch(path: string, token: string): void {
    this.request(XS_UNWATCH, `${path}\0${token}\0`, 0, path);
  }

  /** Register a callback for every watch event of this handle. */
  onWatch(cb: XsWatchCallback): void {
    this._callbacks.push(cb);
  }

  getDomainPath(domid: number): string {
    return payloadStrings(this.request(XS_GET_DOMAIN_PATH, `${domid}\0`))[0] ?? '';
  }

  introduce(domid: DomId, gfn: Gfn, port: EvtchnPort): void {
    this.request(XS_INTRODUCE, `${domid}\0${gfn}\0${port}\0`, 0, `domain ${domid}`);
  }

  release(domid: DomId): void {
    this.request(XS_RELEASE, `${domid}\0`, 0, `domain ${domid}`);
  }

  close(): void {
    this._d.disconnect(this.conn);
  }

  /** Daemon turn: collect queued events and run the callbacks. */
  service(_budget: number): boolean {
    for (let m = this.conn.takeMessage(); m !== undefined; m = this.conn.takeMessage()) {
      if (new DataView(m.buffer, m.byteOffset).getUint32(0, true) === XS_WATCH_EVENT) this._queueEvent(m.subarray(XSD_SOCKMSG_SIZE));
    }
    const events = this._events.splice(0);
    for (const [path, token] of events) for (const cb of this._callbacks) cb(path, token);
    return false;
  }

  shutdown(): void {
    this._events.length = 0;
  }

  private _queueEvent(body: Uint8Array): void {
    const [path = '', token = ''] = payloadStrings(body);
    this._events.push([path, token]);
  }
}

const OP_NAMES: Record<number, string> = {
  [XS_READ]: 'read', [XS_WRITE]: 'write', [XS_MKDIR]: 'mkdir', [XS_RM]: 'rm',
  [XS_DIRECTORY]: 'directory', [XS_GET_PERMS]: 'get_perms', [XS_SET_PERMS]: 'set_perms',
  [XS_WATCH]: 'watch', [XS_UNWATCH]: 'unwatch', [XS_TRANSACTION_START]: 'transaction_start',
  [XS_TRANSACTION_END]: 'transaction_end', [XS_INTRODUCE]: 'introduce', [XS_RELEASE]: 'release',
  [XS_GET_DOMAIN_PATH]: 'get_domain_path',
};

function opName(type: number): string {
  return OP_NAMES[type] ?? `type ${type}`;
}
