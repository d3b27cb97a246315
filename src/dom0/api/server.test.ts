import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiServer, type ApiMethod } from './server.ts';
import { ApiClient } from './client.ts';
import { ApiError } from './protocol.ts';

class UserError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

let dir: string;
let server: ApiServer;
let cancelled = 0;

function methods(): Map<string, ApiMethod> {
  return new Map<string, ApiMethod>([
    ['echo', { handler: (p) => ({ said: p.str('text') }) }],
    ['slow', { handler: async (p) => new Promise((r) => setTimeout(() => r(p.int('n') * 2), 20)) }],
    ['fail', { handler: () => { throw new UserError('foo is an invalid domain identifier (rc=-6)', 1); } }],
    ['bug', { handler: () => { throw new TypeError('oops'); } }],
    ['count', {
      stream: true,
      handler: (p, ctx) => new Promise((resolve) => {
        let i = 0;
        const t = setInterval(() => {
          ctx.emit({ i: i++ });
          if (i === p.int('to')) {
            clearInterval(t);
            resolve('done');
          }
        }, 2);
        ctx.onCancel(() => {
          cancelled++;
          clearInterval(t);
          resolve(null);
        });
      }),
    }],
  ]);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsxen-api-'));
  cancelled = 0;
  server = new ApiServer(methods());
  await server.listenUnix(join(dir, 'run', 'control.sock'));
});

afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const sock = (): string => join(dir, 'run', 'control.sock');

function rawLines(lines: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const s = connect(sock());
    let buf = '';
    const want = lines.filter((l) => l.trim() !== '').length;
    s.on('data', (d) => {
      buf += String(d);
      const got = buf.split('\n').filter((x) => x !== '');
      if (got.length >= want) {
        s.destroy();
        resolve(got);
      }
    });
    s.write(lines.join('\n') + '\n');
  });
}

describe('control API over the Unix socket', () => {
  it('answers calls, in order, with results', async () => {
    const c = await ApiClient.connect(sock());
    expect(await c.call('echo', { text: 'hi' })).toEqual({ said: 'hi' });
    expect(await Promise.all([c.call('slow', { n: 2 }), c.call('echo', { text: 'x' })])).toEqual([4, { said: 'x' }]);
    c.close();
    expect(statSync(sock()).mode & 0o777).toBe(0o600);
  });

  it('carries user errors as they are and hides internal ones behind "internal error"', async () => {
    const c = await ApiClient.connect(sock());
    await expect(c.call('fail')).rejects.toMatchObject({ message: 'foo is an invalid domain identifier (rc=-6)', exitCode: 1 });
    await expect(c.call('bug')).rejects.toMatchObject({ message: 'internal error: oops', exitCode: 1 });
    await expect(c.call('nope')).rejects.toMatchObject({ message: "unknown method 'nope'", exitCode: 2 });
    await expect(c.call('echo', { text: 3 })).rejects.toMatchObject({ message: 'echo: parameter "text" must be a string', exitCode: 2 });
    expect(await c.call('echo', { text: 'still fine' })).toEqual({ said: 'still fine' });
    c.close();
  });

  it('answers malformed lines with errors and keeps the connection', async () => {
    const got = await rawLines(['not json', '[1]', '{"id":-1,"method":"echo"}', '{"id":5}', '{"id":6,"method":"echo","params":[]}',
      '{"id":7,"method":"echo","params":{"text":"ok"}}']);
    expect(got.map((l) => JSON.parse(l) as unknown)).toEqual([
      { id: 0, error: { message: 'malformed request: not JSON', exitCode: 2 } },
      { id: 0, error: { message: 'malformed request: not an object', exitCode: 2 } },
      { id: 0, error: { message: 'malformed request: "id" must be a positive integer', exitCode: 2 } },
      { id: 5, error: { message: 'malformed request: "method" must be a method name', exitCode: 2 } },
      { id: 6, error: { message: 'malformed request: "params" must be an object', exitCode: 2 } },
      { id: 7, result: { said: 'ok' } },
    ]);
  });

  it('streams events, stops a stream on cancel and on disconnect', async () => {
    const c = await ApiClient.connect(sock());
    const seen: unknown[] = [];
    expect(await c.stream('count', { to: 5 }, (e) => seen.push(e)).done).toBe('done');
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    const s = c.stream('count', { to: 1_000_000 }, () => undefined);
    await new Promise((r) => setTimeout(r, 10));
    s.cancel();
    expect(await s.done).toBeNull();
    expect(cancelled).toBe(1);
    c.stream('count', { to: 1_000_000 }, () => undefined).done.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    c.close();
    for (let i = 0; i < 50 && cancelled < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(cancelled).toBe(2);
  });

  it('rejects pending calls when the host goes away', async () => {
    const c = await ApiClient.connect(sock());
    const p = c.stream('count', { to: 1_000_000 }, () => undefined).done;
    await server.close();
    await expect(p).rejects.toBeInstanceOf(ApiError);
    await expect(c.call('echo', { text: 'x' })).rejects.toMatchObject({ message: 'the tsxen host closed the connection' });
  });

  it('replaces a stale socket file and refuses to start over a live host', async () => {
    const other = new ApiServer(methods());
    await expect(other.listenUnix(sock())).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await server.close();
    writeFileSync(join(dir, 'run', 'stale.sock'), '');
    await other.listenUnix(join(dir, 'run', 'stale.sock'));
    const c = await ApiClient.connect(join(dir, 'run', 'stale.sock'));
    expect(await c.call('echo', { text: 'new' })).toEqual({ said: 'new' });
    c.close();
    await other.close();
  });
});

describe('control API over HTTP', () => {
  it('needs the bearer token, refuses browser origins, serves calls and streams', async () => {
    const port = await server.listenHttp(0, 'sekret');
    const post = (method: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer sekret' }) =>
      fetch(`http://127.0.0.1:${port}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post('echo', { text: 'a' }, {})).status).toBe(401);
    expect((await post('echo', { text: 'a' }, { authorization: 'Bearer wrong!' })).status).toBe(401);
    expect((await post('echo', { text: 'a' }, { authorization: 'Bearer sekret', origin: 'http://evil.example' })).status).toBe(403);
    const ok = await post('echo', { text: 'a' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ result: { said: 'a' } });
    const bad = await post('fail', {});
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ error: { message: 'foo is an invalid domain identifier (rc=-6)', exitCode: 1 } });
    const stream = await post('count', { to: 3 });
    expect(stream.headers.get('content-type')).toBe('application/x-ndjson');
    expect((await stream.text()).trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: { i: 0 } }, { event: { i: 1 } }, { event: { i: 2 } }, { result: 'done' },
    ]);
    expect((await fetch(`http://127.0.0.1:${port}/api/echo`, { headers: { authorization: 'Bearer sekret' } })).status).toBe(404);
  });
});
