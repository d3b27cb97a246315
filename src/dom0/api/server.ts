/**
 * The control API server: a table of methods served over a Unix socket (NDJSON, see
 * protocol.ts) and, when asked, over HTTP on 127.0.0.1 (POST /api/<method> with a JSON
 * params body; streams answer as application/x-ndjson).
 *
 * Handlers run in the host's event loop, between the hypervisor's scheduler slices, never
 * inside one: a request is read, handled (synchronously, or awaiting its promise while the
 * machine runs on), and answered. A stream handler emits events until it returns or the
 * client cancels / disconnects (ctx.onCancel), so `top`, `trace` and consoles stream
 * without holding the machine.
 *
 * Invariants: every request gets exactly one final answer (result or error) unless its
 * connection is gone; a throwing handler never takes the server down (an error with an
 * `exitCode` is a user error sent as is; any other is "internal error" and logged); the
 * socket file is created 0600 in its directory, and a stale one (nobody listening) is
 * replaced; HTTP needs the bearer token written next to the socket and refuses requests
 * that carry a browser Origin, so a web page cannot drive the host.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { MAX_LINE, Params, parseRequest, type ApiErrorBody } from './protocol.ts';

export interface ApiContext {
  /** Send one stream event. */
  emit(event: unknown): void;
  readonly cancelled: boolean;
  /** Runs when the client cancels or disconnects (streams stop their work here). */
  onCancel(fn: () => void): void;
  /** Identifies the connection (a console's input must come on the connection that attached). */
  readonly connectionId: number;
}

export type ApiHandler = (params: Params, ctx: ApiContext) => unknown;

export interface ApiMethod {
  readonly handler: ApiHandler;
  /** The method streams events before its result. */
  readonly stream?: boolean;
}

export interface ApiServerOptions {
  /** Called when a request arrives (the host wakes its run loop). */
  readonly onActivity?: () => void;
  /** Where internal errors are logged. */
  readonly log?: (line: string) => void;
}

interface Call {
  cancelled: boolean;
  readonly cancels: Array<() => void>;
}

function errorBody(e: unknown, log?: (l: string) => void): ApiErrorBody {
  if (e instanceof Error && typeof (e as { exitCode?: unknown }).exitCode === 'number') {
    return { message: e.message, exitCode: (e as unknown as { exitCode: number }).exitCode }; // a user error (XlError, ApiError)
  }
  log?.(`api: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return { message: `internal error: ${e instanceof Error ? e.message : String(e)}`, exitCode: 1 };
}

export class ApiServer {
  private _unix: Server | null = null;
  private _http: HttpServer | null = null;
  private readonly _sockets = new Set<Socket>();
  private _nextConn = 1;
  private _httpToken: string | null = null;

  constructor(private readonly _methods: ReadonlyMap<string, ApiMethod>, private readonly _opts: ApiServerOptions = {}) {}

  /** Listen on a Unix socket; throws (EADDRINUSE) if another host answers there. */
  async listenUnix(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) {
      if (await answers(path)) throw Object.assign(new Error(`a tsxen host is already listening on ${path}`), { code: 'EADDRINUSE' });
      unlinkSync(path); // stale: its host died
    }
    const server = createNetServer((s) => this._serveSocket(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    this._unix = server;
  }

  /** Listen for HTTP on 127.0.0.1:port (0 picks one); returns the port. */
  async listenHttp(port: number, token: string): Promise<number> {
    this._httpToken = token;
    const server = createHttpServer((req, res) => void this._serveHttp(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this._http = server;
    const addr = server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : port;
  }

  async close(): Promise<void> {
    for (const s of this._sockets) s.destroy();
    const closing: Promise<void>[] = [];
    if (this._unix) closing.push(new Promise((r) => this._unix!.close(() => r()))); // non-null: checked
    if (this._http) {
      this._http.closeAllConnections();
      closing.push(new Promise((r) => this._http!.close(() => r()))); // non-null: checked
    }
    await Promise.all(closing);
    this._unix = null;
    this._http = null;
  }

  /** Run one request; answers through `send` (events and the final message). */
  private _dispatch(method: string, params: Record<string, unknown> | undefined, connectionId: number, call: Call,
    send: (msg: { result: unknown } | { error: ApiErrorBody } | { event: unknown }) => void): void {
    this._opts.onActivity?.();
    const m = this._methods.get(method);
    if (m === undefined) {
      send({ error: { message: `unknown method '${method}'`, exitCode: 2 } });
      return;
    }
    const ctx: ApiContext = {
      emit: (event) => {
        if (!call.cancelled) send({ event });
      },
      get cancelled() {
        return call.cancelled;
      },
      onCancel: (fn) => {
        if (call.cancelled) fn();
        else call.cancels.push(fn);
      },
      connectionId,
    };
    let out: unknown;
    try {
      out = m.handler(new Params(method, params), ctx);
    } catch (e) {
      send({ error: errorBody(e, this._opts.log) });
      return;
    }
    if (out instanceof Promise) {
      out.then((result: unknown) => send({ result: result ?? null }), (e: unknown) => send({ error: errorBody(e, this._opts.log) }));
    } else {
      send({ result: out ?? null });
    }
  }

  private _serveSocket(s: Socket): void {
    this._sockets.add(s);
    const connectionId = this._nextConn++;
    const calls = new Map<number, Call>();
    let buf = '';
    const write = (obj: unknown): void => {
      if (!s.destroyed) s.write(`${JSON.stringify(obj)}\n`);
    };
    const cancelAll = (): void => {
      for (const c of calls.values()) {
        c.cancelled = true;
        for (const fn of c.cancels.splice(0)) fn();
      }
      calls.clear();
    };
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) {
          if (buf.length > MAX_LINE) {
            write({ id: 0, error: { message: `request longer than ${MAX_LINE} bytes`, exitCode: 2 } });
            buf = '';
          }
          return;
        }
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        const req = parseRequest(line);
        if ('error' in req) {
          write(req);
          continue;
        }
        if (req.method === 'cancel') {
          const target = typeof req.params?.id === 'number' ? calls.get(req.params.id) : undefined;
          if (target !== undefined) {
            target.cancelled = true;
            for (const fn of target.cancels.splice(0)) fn();
          }
          write({ id: req.id, result: target !== undefined });
          continue;
        }
        const call: Call = { cancelled: false, cancels: [] };
        calls.set(req.id, call);
        this._dispatch(req.method, req.params, connectionId, call, (msg) => {
          if ('event' in msg) {
            write({ id: req.id, event: msg.event });
            return;
          }
          calls.delete(req.id);
          write({ id: req.id, ...msg });
        });
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      this._sockets.delete(s);
      cancelAll();
    });
  }

  private async _serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.headers.origin !== undefined) return reply(403, { error: { message: 'cross-origin requests are refused', exitCode: 1 } });
    const auth = req.headers.authorization ?? '';
    const want = `Bearer ${this._httpToken ?? ''}`;
    if (this._httpToken === null || auth.length !== want.length || !timingSafeEqual(Buffer.from(auth), Buffer.from(want))) {
      return reply(401, { error: { message: 'missing or wrong bearer token (see the host\'s http.token)', exitCode: 1 } });
    }
    const m = /^\/api\/([A-Za-z0-9.-]+)$/.exec(req.url?.split('?')[0] ?? '');
    if (!m || req.method !== 'POST') return reply(404, { error: { message: 'use POST /api/<method> with a JSON body', exitCode: 2 } });
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
      if (body.length > MAX_LINE) return reply(413, { error: { message: 'request too large', exitCode: 2 } });
    }
    let params: Record<string, unknown> | undefined;
    try {
      const v: unknown = body.trim() === '' ? {} : JSON.parse(body);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      params = v as Record<string, unknown>; // checked to be a plain object
    } catch {
      return reply(400, { error: { message: 'the body must be a JSON object of parameters', exitCode: 2 } });
    }
    const method = this._methods.get(m[1]!);
    const call: Call = { cancelled: false, cancels: [] };
    res.on('close', () => {
      call.cancelled = true;
      for (const fn of call.cancels.splice(0)) fn();
    });
    if (method?.stream === true) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    this._dispatch(m[1]!, params, 0, call, (msg) => {
      if (method?.stream === true) {
        res.write(`${JSON.stringify(msg)}\n`);
        if (!('event' in msg)) res.end();
        return;
      }
      if ('error' in msg) reply(msg.error.exitCode === 2 ? 400 : 422, msg);
      else if ('result' in msg) reply(200, msg);
    });
  }
}

/** Does something answer on this Unix socket? */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
