/**
 * The xenstore operations a backend needs, as an interface: dom0's in-process handle
 * (xenstored/local_handle.ts XsLocalHandle) satisfies it structurally, and a driver domain
 * brings its own. Backends never import the daemon (only its dependency-free transaction
 * loop, with_transaction.ts).
 *
 * Watch routing: a handle delivers every watch event to every callback registered with
 * onWatch (and offers no way to unregister one). WatchRouter registers once per handle and
 * dispatches by token, so devices can come and go without leaking callbacks. Tokens carry
 * a per-router prefix, so two routers on one handle never see each other's events.
 *
 * Invariants: watch callbacks never run inside a request (the handle's contract), so a
 * callback may issue requests; a callback of an unsubscribed token never runs again.
 */
import { withTransaction } from '../xenstored/with_transaction.ts';

/** A refused request: `code` is Xen's error name (ENOENT, EACCES, EAGAIN, ...). */
export interface XsErrorLike {
  readonly code: string;
}

export interface XsHandle {
  read(path: string, tx?: number): string;
  /** The value, or undefined if the node does not exist. */
  tryRead(path: string, tx?: number): string | undefined;
  write(path: string, value: string | Uint8Array, tx?: number): void;
  rm(path: string, tx?: number): void;
  directory(path: string, tx?: number): string[];
  setPerms(path: string, perms: readonly string[], tx?: number): void;
  transactionStart(): number;
  /** False if the commit conflicted (EAGAIN): run the transaction again. */
  transactionEnd(tx: number, commit: boolean): boolean;
  watch(path: string, token: string): void;
  unwatch(path: string, token: string): void;
  onWatch(cb: (path: string, token: string) => void): void;
}

/** The error code of a refused request, or undefined for anything else. */
export function xsErrorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && typeof (e as XsErrorLike).code === 'string') {
    return (e as XsErrorLike).code; // SAFETY: checked to be a string just above
  }
  return undefined;
}

/** directory(), or [] when the node is missing or unreadable. */
export function tryDirectory(xs: XsHandle, path: string, tx = 0): string[] {
  try {
    return xs.directory(path, tx);
  } catch (e) {
    if (xsErrorCode(e) !== undefined) return [];
    throw e;
  }
}

/** rm() that ignores a missing node. */
export function tryRm(xs: XsHandle, path: string, tx = 0): void {
  try {
    xs.rm(path, tx);
  } catch (e) {
    if (xsErrorCode(e) !== 'ENOENT') throw e;
  }
}

/** Run `fn` in a transaction until it commits (EAGAIN retries the whole body). */
export function inTransaction<T>(xs: XsHandle, fn: (tx: number) => T): T {
  return withTransaction(xs, fn);
}

let routerSeq = 0;

/** Watch subscriptions on one handle, routed by token. */
export class WatchRouter {
  private readonly _subs = new Map<string, { path: string; cb: (path: string) => void }>();
  private readonly _prefix: string;
  private _next = 0;

  constructor(readonly xs: XsHandle) {
    this._prefix = `tsxen-be${routerSeq++}:`;
    xs.onWatch((path, token) => {
      const s = this._subs.get(token);
      if (s !== undefined) s.cb(path);
    });
  }

  /** Watch `path`; `cb` gets the event path (it fires once at registration, as Xen's do). */
  subscribe(path: string, cb: (path: string) => void): () => void {
    const token = `${this._prefix}${this._next++}`;
    this._subs.set(token, { path, cb });
    try {
      this.xs.watch(path, token);
    } catch (e) {
      this._subs.delete(token);
      throw e;
    }
    return () => {
      if (!this._subs.delete(token)) return;
      try {
        this.xs.unwatch(path, token);
      } catch (e) {
        if (xsErrorCode(e) === undefined) throw e;
      }
    };
  }

  get size(): number {
    return this._subs.size;
  }
}
