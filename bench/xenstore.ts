/**
 * xenstored throughput: read, write, transaction and watch-fire operations per second,
 * in-process (XsLocalHandle), over a domain ring (loopback event channel) and over the
 * Unix socket host tools use. Baselines measured in the same run: a plain Map get/set of
 * the same keys (the cost of the store itself), and a raw socket echo of same-sized
 * messages with the same pipelining (the cost of the transport).
 *
 * Socket and ring clients keep a window of requests in flight, as a busy domain or a
 * toolstack would; a transaction is START + WRITE + END (3 messages), a watch-fire is one
 * write delivering one event to another connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XS_READ, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WRITE } from '../src/abi/io/xs_wire.ts';
import { asDomId } from '../src/abi/types.ts';
import { XenStored } from '../src/dom0/xenstored/xenstored.ts';
import { XsLocalHandle } from '../src/dom0/xenstored/local_handle.ts';
import { XsSocketServer } from '../src/dom0/xenstored/socket_server.ts';
import { XsClient } from '../src/dom0/xenstored/xs_client.ts';
import { RingFrontend } from '../src/dom0/xenstored/ring_frontend.ts';
import { encodeMessage, latin1Bytes, MessageReader, ReadState } from '../src/dom0/xenstored/wire.ts';
import type { XsEventChannel } from '../src/dom0/xenstored/domain_ring.ts';
import type { BenchSuite } from './index.ts';

const KEYS = 256;
const key = (i: number): string => `/local/domain/1/data/bench/k${i & (KEYS - 1)}`;
/**
 * Watch-fire writes cycle over many existing paths: identical events still queued would be
 * merged (as in Xen), and creating fresh nodes would measure directory growth instead.
 */
const WKEYS = 4096;
let wnext = 0;
const watchKey = (): string => `/local/domain/1/data/bench/w/${wnext++ & (WKEYS - 1)}`;

function rate(ops: number, ms: number): number {
  return (ops * 1000) / ms;
}

function fmt(opsPerSec: number): string {
  return opsPerSec >= 1e6 ? `${(opsPerSec / 1e6).toFixed(2)} M/s` : `${(opsPerSec / 1e3).toFixed(1)} k/s`;
}

/** Best of `repeats` timings of `fn(n)`, in ops/s. */
async function best(n: number, fn: (n: number) => Promise<void> | void, repeats = 3): Promise<number> {
  let top = 0;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn(n);
    top = Math.max(top, rate(n, performance.now() - t0));
  }
  return top;
}

/** Run `total` async ops with `window` in flight. */
async function pipelined(total: number, window: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await op(next++);
  };
  await Promise.all(Array.from({ length: window }, worker));
}

function loopbackEvtchn(): { server: XsEventChannel; guest: { notify(): void; onEvent(h: () => void): void } } {
  let toServer: (() => void) | undefined;
  let toGuest: (() => void) | undefined;
  return {
    server: { notify: () => queueMicrotask(() => toGuest?.()), onEvent: (h) => (toServer = h), close: () => (toServer = undefined) },
    guest: { notify: () => queueMicrotask(() => toServer?.()), onEvent: (h) => (toGuest = h) },
  };
}

function prepare(d: XenStored): XsLocalHandle {
  const dom0 = new XsLocalHandle(d);
  dom0.write('/local/domain/1/data/bench', '');
  dom0.setPerms('/local/domain/1/data', ['n1']);
  // Domain 1 owns the keys; domain 2 (the ring watcher) may read them.
  dom0.setPerms('/local/domain/1/data/bench', ['n1', 'r2']);
  for (let i = 0; i < KEYS; i++) dom0.write(key(i), 'value-0123456789');
  const t = dom0.transactionStart();
  for (let i = 0; i < WKEYS; i++) dom0.write(watchKey(), '', t);
  dom0.transactionEnd(t, true);
  return dom0;
}

interface Figures {
  read: number;
  write: number;
  tx: number;
  watch: number;
}

async function clientFigures(c: XsClient, watcher: XsClient, window: number, n: number): Promise<Figures> {
  const value = 'value-0123456789';
  const read = await best(n, (k) => pipelined(k, window, (i) => c.request(XS_READ, `${key(i)}\0`)));
  const write = await best(n, (k) => pipelined(k, window, (i) => c.request(XS_WRITE, `${key(i)}\0${value}`)));
  const tx = await best(n / 4, (k) =>
    pipelined(k, Math.max(1, window / 4), async (i) => {
      const t = Number.parseInt(new TextDecoder().decode((await c.request(XS_TRANSACTION_START, '\0')).payload), 10);
      await c.request(XS_WRITE, `${key(i)}\0${value}`, t);
      await c.request(XS_TRANSACTION_END, 'T\0', t);
    }));
  await watcher.watch('/local/domain/1/data/bench', 'w');
  let wake: (() => void) | undefined;
  watcher.onWatch(() => wake?.());
  const watch = await best(n, async (k) => {
    watcher.events.length = 0;
    const arrived = new Promise<void>((resolve) => {
      wake = (): void => (watcher.events.length >= k ? resolve() : void 0);
    });
    await pipelined(k, window, () => c.request(XS_WRITE, `${watchKey()}\0${value}`));
    await arrived;
  });
  await watcher.unwatch('/local/domain/1/data/bench', 'w');
  return { read, write, tx, watch };
}

function socketClient(path: string): Promise<{ client: XsClient; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.setNoDelay(true);
      const client = new XsClient({
        write: (b) => void socket.write(b),
        onData: (h) => void socket.on('data', (chunk: Buffer) => h(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
      });
      resolve({ client, socket });
    });
  });
}

/** Raw echo over a Unix socket: the transport's own cost for a message of the read's size. */
async function socketEcho(dir: string, n: number, window: number): Promise<number> {
  const path = join(dir, 'echo');
  const server = createServer((s) => s.on('data', (b) => s.write(b)));
  await new Promise<void>((r) => server.listen(path, r));
  const socket = connect(path);
  await new Promise<void>((r) => socket.once('connect', r));
  const reader = new MessageReader();
  const waiting: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    const b = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let off = 0; off < b.length;) {
      const st = reader.push(b, off, b.length - off);
      off += reader.consumed;
      if (st === ReadState.Ready) waiting.shift()?.();
    }
  });
  const msg = encodeMessage(XS_READ, 1, 0, latin1Bytes(`${key(7)}\0`));
  const ops = await best(n, (k) => pipelined(k, window, () => new Promise<void>((resolve) => {
    waiting.push(resolve);
    socket.write(msg);
  })));
  socket.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return ops;
}

export const xenstoreSuite: BenchSuite = {
  name: 'xenstore',
  description: 'xenstored read/write/transaction/watch-fire ops/s: in-process, ring, Unix socket (vs Map and socket-echo baselines)',
  async run(log) {
    const N = 20_000;
    // Baseline: the bare data structure.
    const map = new Map<string, Uint8Array>();
    const v = latin1Bytes('value-0123456789');
    for (let i = 0; i < KEYS; i++) map.set(key(i), v);
    let sink = 0;
    const mapGet = await best(N * 50, (k) => {
      for (let i = 0; i < k; i++) sink += map.get(key(i))!.length;
    });
    const mapSet = await best(N * 50, (k) => {
      for (let i = 0; i < k; i++) map.set(key(i), v);
    });
    log(`  baseline Map       get ${fmt(mapGet)}   set ${fmt(mapSet)}   (sink ${sink & 1})`);

    // In-process handle: full dispatch, no transport.
    {
      const d = new XenStored();
      const dom0 = prepare(d);
      const watcher = new XsLocalHandle(d);
      let events = 0;
      watcher.onWatch(() => events++);
      const read = await best(N, (k) => {
        for (let i = 0; i < k; i++) dom0.readBytes(key(i));
      });
      const write = await best(N, (k) => {
        for (let i = 0; i < k; i++) dom0.write(key(i), v);
      });
      const tx = await best(N / 4, (k) => {
        for (let i = 0; i < k; i++) {
          const t = dom0.transactionStart();
          dom0.write(key(i), v, t);
          dom0.transactionEnd(t, true);
        }
      });
      watcher.watch('/local/domain/1/data/bench', 'w');
      d.runPending();
      const watch = await best(N, async (k) => {
        events = 0;
        // Deliver between batches, as an event loop would: at most WKEYS/4 events queued.
        for (let i = 0; i < k; i += WKEYS / 4) {
          for (let j = i; j < Math.min(k, i + WKEYS / 4); j++) dom0.write(watchKey(), v);
          await new Promise<void>((r) => setImmediate(r));
        }
        if (events !== k) throw new Error(`watch bench: ${events} of ${k} events`);
      });
      log(`  in-process handle  read ${fmt(read)}   write ${fmt(write)}   transaction ${fmt(tx)}   watch-fire ${fmt(watch)}`);
      log(`                     read = ${(read / mapGet * 100).toFixed(1)}% of Map get`);
    }

    // Domain ring with a loopback event channel (microtask upcalls), unprivileged domain 1.
    {
      const d = new XenStored();
      prepare(d);
      const mk = (domid: number): XsClient => {
        const page = new Uint8Array(4096);
        const e = loopbackEvtchn();
        d.domains.introduce(asDomId(domid), page, e.server);
        return new XsClient(new RingFrontend(page, e.guest));
      };
      const c = mk(1);
      const watcher = mk(2);
      const f = await clientFigures(c, watcher, 8, N);
      log(`  domain ring (w=8)  read ${fmt(f.read)}   write ${fmt(f.write)}   transaction ${fmt(f.tx)}   watch-fire ${fmt(f.watch)}`);
    }

    // Unix socket, as xenstore-utils use it.
    {
      const dir = mkdtempSync(join(tmpdir(), 'tsxen-xsbench-'));
      try {
        const d = new XenStored({ defer: (run) => setImmediate(run) });
        prepare(d);
        const server = await XsSocketServer.listen(d, join(dir, 'socket'));
        const a = await socketClient(server.path);
        const b = await socketClient(server.path);
        const f = await clientFigures(a.client, b.client, 32, N);
        const echo = await socketEcho(dir, N, 32);
        log(`  unix socket (w=32) read ${fmt(f.read)}   write ${fmt(f.write)}   transaction ${fmt(f.tx)}   watch-fire ${fmt(f.watch)}`);
        log(`  baseline echo      ${fmt(echo)} round trips; socket read = ${(f.read / echo * 100).toFixed(0)}% of echo`);
        a.socket.destroy();
        b.socket.destroy();
        await server.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  },
};
