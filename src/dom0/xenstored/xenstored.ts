/**
 * xenstored: the store daemon of dom0. Owns the store, the connections, the domains and the
 * scheduling of connection work; message semantics live in wire_funcs.ts.
 *
 * Scheduling: transports never do work inside the callback that signalled them (an event
 * channel upcall, a socket read that produced output for another connection). A connection
 * that has something to do is put on the ready set and gets a turn from `defer` (default:
 * a microtask; the host may pass setImmediate). A turn serves at most `budget` requests, and
 * connections are served round robin, so a busy domain cannot starve the others. Tests pass
 * a no-op `defer` and call `runPending()` to step deterministically.
 *
 * Invariants:
 * - `_conns` iterates in connection creation order; watch events are queued in that order.
 * - Every request gets exactly one reply (its type, or XS_ERROR with Xen's error name),
 *   with req_id and tx_id echoed from the request header.
 * - Watch events caused while serving a request are attributed to it (outstanding quota).
 */
import { XS_ERROR } from '../../abi/io/xs_wire.ts';
import type { DomId } from '../../abi/types.ts';
import { Connection, PendingRequest, type XsTransport } from './connection.ts';
import { DomainTable, type XsPlatform } from './domain.ts';
import { GlobalView, type ChangeSink, type NodeView } from './node_view.ts';
import type { XsPerms } from './perms.ts';
import { defaultQuotas, type XsQuotas } from './quota.ts';
import { setupStructure } from './standard_tree.ts';
import { Store } from './store.ts';
import type { Transaction } from './transaction.ts';
import { fireWatches } from './watch.ts';
import { dispatch } from './wire_funcs.ts';
import { encodeMessage, latin1Bytes, type XsMessage } from './wire.ts';
import { XsError } from './xs_error.ts';

export interface XenStoredOptions {
  /** Overrides of Xen's default quotas. */
  readonly quotas?: Partial<XsQuotas>;
  /** Hypervisor access for XS_INTRODUCE and domain-state scans. */
  readonly platform?: XsPlatform;
  /** How to run deferred connection work (default queueMicrotask). */
  readonly defer?: (run: () => void) => void;
  /** Requests served per connection per turn (default 16). */
  readonly budget?: number;
  /** Keep the nodes a released domain owned (Xen's --keep-orphans); default false. */
  readonly keepOrphans?: boolean;
  /** Diagnostics (XS_CONTROL print, ignored connections). */
  readonly log?: (line: string) => void;
}

export class XenStored implements ChangeSink {
  readonly store = new Store();
  readonly quotas: XsQuotas;
  readonly domains: DomainTable;
  readonly log: (line: string) => void;
  readonly keepOrphans: boolean;
  private readonly _conns = new Set<Connection>();
  private readonly _global: GlobalView;
  private readonly _defer: (run: () => void) => void;
  private readonly _budget: number;
  private readonly _ready = new Set<Connection>();
  private _scheduled = false;
  /** The request being served (events it causes are attributed to it). */
  private _current: PendingRequest | null = null;

  constructor(opts: XenStoredOptions = {}) {
    this.quotas = { ...defaultQuotas(), ...opts.quotas };
    this.log = opts.log ?? (() => {});
    this.keepOrphans = opts.keepOrphans ?? false;
    this._defer = opts.defer ?? ((run) => queueMicrotask(run));
    this._budget = opts.budget ?? 16;
    this._global = new GlobalView(this.store, this);
    this.domains = new DomainTable(this, opts.platform);
    setupStructure(this.store);
  }

  /** Open a connection; `transport` may be attached later (before any output matters). */
  connect(domid: DomId, privileged: boolean, transport?: XsTransport): Connection {
    const conn = new Connection(domid, privileged, this.quotas, (c) => this._wake(c));
    conn.transport = transport;
    this._conns.add(conn);
    return conn;
  }

  /** Forget a connection: its watches and transactions go, queued output is dropped. */
  disconnect(conn: Connection): void {
    if (conn.closed) return;
    this.resetConnection(conn, false);
    conn.closed = true;
    this._conns.delete(conn);
    this._ready.delete(conn);
    conn.transport?.shutdown();
  }

  /** Drop a connection's watches, transactions and output; `ignored` stops serving it. */
  resetConnection(conn: Connection, ignored: boolean): void {
    conn.watches.length = 0;
    conn.transactions.clear();
    conn.dropOutput();
    if (ignored && !conn.ignored) this.log(`xenstored: connection of domain ${conn.id} ignored (protocol violation)`);
    conn.ignored = ignored;
  }

  get connections(): ReadonlySet<Connection> {
    return this._conns;
  }

  /** Serve one complete request from `conn`. */
  handleMessage(conn: Connection, msg: XsMessage): void {
    const req = new PendingRequest(conn);
    this._current = req;
    try {
      dispatch(this, conn, msg, req);
    } catch (e) {
      if (!(e instanceof XsError)) throw e;
      this.sendError(conn, msg, req, e);
    } finally {
      this._current = null;
    }
  }

  /** Queue the reply of `msg` (same type, req_id and tx_id echoed). */
  sendReply(conn: Connection, msg: XsMessage, req: PendingRequest, payload: Uint8Array | string): void {
    const bytes = typeof payload === 'string' ? latin1Bytes(payload) : payload;
    conn.queueReply(req, msg.type, msg.reqId, msg.txId, bytes);
  }

  sendError(conn: Connection, msg: XsMessage, req: PendingRequest, e: XsError): void {
    conn.queueReply(req, XS_ERROR, msg.reqId, msg.txId, latin1Bytes(`${e.name}\0`));
  }

  /** The view requests of `tx` (or outside any transaction) read and write through. */
  viewFor(tx: Transaction | null): NodeView {
    return tx ?? this._global;
  }

  fireWatches(path: string, exact: boolean, oldPerms: XsPerms | undefined): void {
    fireWatches(this._conns, this.store, path, exact, oldPerms, this._current);
  }

  /** Fire a special watch (`@introduceDomain`, `@releaseDomain`). */
  fireSpecial(name: string): void {
    this.fireWatches(name, true, undefined);
  }

  /** Run deferred connection turns until nothing is ready (or `maxRounds` passes). */
  runPending(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds && this._ready.size > 0; i++) this._runReady();
  }

  /** An unsolicited message built by the daemon itself (tests, tools). */
  static encode(type: number, reqId: number, txId: number, payload: Uint8Array | string): Uint8Array {
    return encodeMessage(type, reqId, txId, typeof payload === 'string' ? latin1Bytes(payload) : payload);
  }

  private _wake(conn: Connection): void {
    if (conn.closed || conn.transport === undefined) return;
    this._ready.add(conn);
    this._schedule();
  }

  private _schedule(): void {
    if (this._scheduled) return;
    this._scheduled = true;
    this._defer(() => {
      this._scheduled = false;
      this._runReady();
      if (this._ready.size > 0) this._schedule();
    });
  }

  private _runReady(): void {
    const batch = [...this._ready];
    this._ready.clear();
    for (const conn of batch) {
      if (conn.closed || conn.transport === undefined) continue;
      if (conn.transport.service(this._budget)) this._ready.add(conn);
    }
  }
}
