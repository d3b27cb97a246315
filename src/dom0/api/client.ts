/**
 * The control API client the CLI (and tests) use: one Unix-socket connection, calls that
 * resolve with the result or reject with ApiError (xl's message and exit status), and
 * streams that deliver events until they end or are cancelled.
 *
 * Invariant: when the connection drops, every pending call and stream rejects with an
 * ApiError saying the host went away (exit status 1), so no caller waits forever.
 */
import { connect, type Socket } from 'node:net';
import { ApiError, type ApiErrorBody } from './protocol.ts';

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: ApiError) => void;
  readonly onEvent?: (e: unknown) => void;
}

export interface ApiStream<T = unknown> {
  /** Resolves with the stream's final result (or rejects with its error). */
  readonly done: Promise<T>;
  cancel(): void;
}

export class ApiClient {
  private _nextId = 1;
  private readonly _pending = new Map<number, Pending>();
  private _buf = '';
  private _closed = false;

  private constructor(private readonly _s: Socket) {
    _s.setEncoding('utf8');
    _s.on('data', (chunk: string) => this._onData(chunk));
    _s.on('close', () => this._onClose());
    _s.on('error', () => undefined);
  }

  /** Connect; rejects with the socket error (ENOENT / ECONNREFUSED: no host there). */
  static connect(path: string): Promise<ApiClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new ApiClient(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this._closed;
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this._send(method, params, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  stream<T = unknown>(method: string, params: Record<string, unknown>, onEvent: (e: unknown) => void): ApiStream<T> {
    let id = 0;
    const done = new Promise<T>((resolve, reject) => {
      id = this._send(method, params, { resolve: resolve as (v: unknown) => void, reject, onEvent });
    });
    return {
      done,
      cancel: () => {
        if (!this._closed && this._pending.has(id)) this._write({ id: this._nextId++, method: 'cancel', params: { id } });
      },
    };
  }

  close(): void {
    this._s.end();
    this._s.destroy();
  }

  private _send(method: string, params: Record<string, unknown>, p: Pending): number {
    const id = this._nextId++;
    if (this._closed) {
      p.reject(new ApiError('the tsxen host closed the connection', 1));
      return id;
    }
    this._pending.set(id, p);
    this._write({ id, method, params });
    return id;
  }

  private _write(obj: unknown): void {
    this._s.write(`${JSON.stringify(obj)}\n`);
  }

  private _onData(chunk: string): void {
    this._buf += chunk;
    for (;;) {
      const nl = this._buf.indexOf('\n');
      if (nl < 0) return;
      const line = this._buf.slice(0, nl);
      this._buf = this._buf.slice(nl + 1);
      let msg: { id?: number; result?: unknown; error?: ApiErrorBody; event?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg; // the host's own framing; fields checked below
      } catch {
        continue;
      }
      const p = typeof msg.id === 'number' ? this._pending.get(msg.id) : undefined;
      if (p === undefined) continue;
      if ('event' in msg) {
        p.onEvent?.(msg.event);
        continue;
      }
      this._pending.delete(msg.id!); // id checked above
      if (msg.error !== undefined) p.reject(new ApiError(msg.error.message, msg.error.exitCode));
      else p.resolve(msg.result);
    }
  }

  private _onClose(): void {
    this._closed = true;
    for (const p of this._pending.values()) p.reject(new ApiError('the tsxen host went away', 1));
    this._pending.clear();
  }
}
