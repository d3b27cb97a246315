/**
 * Network path benchmarks (npm run bench net). Each figure sits next to the same work done
 * directly on the host in the same run:
 *  - xenbr0 forwarding of 1514- and 64-byte frames between two ports, against copying each
 *    frame once (the least a copying switch does);
 *  - the user-mode gateway's TCP relay (a TypeScript guest stack on xenbr0 -> gateway ->
 *    node:net -> a loopback server), upload and download, against a node:net client talking
 *    to the same server directly;
 *  - TCP and UDP request/response round trips through the gateway against the same direct;
 *  - when run as root with /dev/net/tun: the Linux kernel's stack in a network namespace on
 *    xenbr0 through a TAP relay, against the same client program on the host's loopback.
 * The end-to-end vif-to-vif figure (netfront -> netback -> xenbr0 -> netback -> netfront)
 * belongs to the netback suite once netback exists; xenbr0's share of it is measured here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMac, writeMac } from '../src/dom0/net/addr.ts';
import { Bridge, type BridgePort } from '../src/dom0/net/bridge.ts';
import { GuestStack, GW } from '../src/dom0/net/guest_stack.ts';
import { createUserNet, MonotonicClock, NodeTimerDriver } from '../src/dom0/net/node_net.ts';
import { TapPort } from '../src/dom0/net/tap_port.ts';
import { TimerQueue } from '../src/dom0/net/timers.ts';
import type { BenchSuite } from './index.ts';

const now = (): number => Number(process.hrtime.bigint()) / 1e6; // ms
const mbit = (bytes: number, ms: number): number => (bytes * 8) / (ms / 1000) / 1e6;
const fmt = (x: number, d = 0): string => x.toFixed(d);

function benchBridge(log: (l: string) => void): void {
  for (const size of [1514, 64]) {
    const clock = new MonotonicClock();
    const br = new Bridge(clock);
    let got = 0;
    const rx: BridgePort = { name: 'rx', deliver: (f) => { got += f.length; } };
    const tx: BridgePort = { name: 'tx', deliver: () => {} };
    const hrx = br.attach(rx);
    const htx = br.attach(tx);
    const a = new Uint8Array(size); writeMac(a, 0, parseMac('52:54:00:00:00:02')); writeMac(a, 6, parseMac('52:54:00:00:00:01')); a[12] = 8;
    const b = new Uint8Array(size); writeMac(b, 0, parseMac('52:54:00:00:00:01')); writeMac(b, 6, parseMac('52:54:00:00:00:02')); b[12] = 8;
    hrx.send(b); // learn both
    htx.send(a);
    const N = size > 1000 ? 1_000_000 : 2_000_000;
    let best = Infinity, bestCopy = Infinity;
    const dst = new Uint8Array(size);
    let sink = 0;
    for (let r = 0; r < 5; r++) {
      let t0 = now();
      for (let i = 0; i < N; i++) htx.send(a);
      best = Math.min(best, now() - t0);
      t0 = now();
      for (let i = 0; i < N; i++) { dst.set(a); sink += dst[i & 15]; }
      bestCopy = Math.min(bestCopy, now() - t0);
    }
    if (got !== (5 * N + 1) * size || sink < 0) throw new Error('bridge bench: frames lost');
    log(`  xenbr0 forward ${String(size).padStart(4)} B  ${fmt(N / best / 1000, 2)} Mpps  ${fmt(mbit(N * size, best))} Mbit/s` +
      `   | host memcpy per frame ${fmt(N / bestCopy / 1000, 2)} Mpps  (xenbr0 at x${fmt(bestCopy / best, 2)} of it)`);
  }
}

interface Servers { sinkPort: number; sourcePort: number; echoPort: number; udpPort: number; sinkDone: (n: number) => Promise<void>; close(): Promise<void> }

async function startServers(sourceBytes: number): Promise<Servers> {
  const socks = new Set<Socket>();
  let sinkWaiter: { n: number; resolve: () => void } | null = null;
  const track = (s: Socket): void => { socks.add(s); s.on('close', () => socks.delete(s)); s.on('error', () => s.destroy()); };
  const sink = createServer((s) => {
    track(s);
    let n = 0;
    s.on('data', (d) => { n += d.length; if (sinkWaiter && n >= sinkWaiter.n) { const w = sinkWaiter; sinkWaiter = null; w.resolve(); } });
  });
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const source = createServer((s) => {
    track(s);
    let left = sourceBytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { s.once('drain', pump); return; }
      }
      s.end();
    };
    pump();
  });
  const echo = createServer((s) => { track(s); s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
  const udp = createSocket('udp4');
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  const listen = (srv: Server): Promise<number> => new Promise((res) => srv.listen(0, '127.0.0.1', () => res((srv.address() as { port: number }).port))); // SAFETY: TCP AddressInfo
  const [sinkPort, sourcePort, echoPort] = [await listen(sink), await listen(source), await listen(echo)];
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  return {
    sinkPort, sourcePort, echoPort, udpPort: udp.address().port,
    sinkDone: (n) => new Promise((resolve) => { sinkWaiter = { n, resolve }; }),
    async close() {
      for (const s of socks) s.destroy();
      await Promise.all([sink, source, echo].map((srv) => new Promise((r) => srv.close(r))));
      await new Promise<void>((r) => udp.close(() => r()));
    },
  };
}

async function benchGateway(log: (l: string) => void): Promise<void> {
  const BYTES = 64 << 20;
  const srv = await startServers(BYTES);
  const net = await createUserNet({ dnsUpstream: null });
  const timers = new TimerQueue();
  const driver = new NodeTimerDriver(net.clock, timers);
  const g = new GuestStack(parseMac('52:54:00:12:34:56'), net.clock, timers).attach(net.bridge);
  try {
    await g.dhcp();
    await g.resolveGateway();
    const payload = new Uint8Array(BYTES).fill(0x33);

    // Upload: guest -> gateway -> host sink, then direct.
    let t0 = now();
    let c = g.connect(GW, srv.sinkPort);
    await c.until(() => c.established, 5000, 'established');
    const done = srv.sinkDone(BYTES);
    await c.sendAll(payload, 256 * 1024);
    await done;
    const upGw = now() - t0;
    c.conn.abort();
    t0 = now();
    const done2 = srv.sinkDone(BYTES);
    const s = tcpConnect({ host: '127.0.0.1', port: srv.sinkPort }, () => s.write(payload));
    await done2;
    const upDirect = now() - t0;
    s.destroy();
    log(`  gateway TCP upload   ${fmt(mbit(BYTES, upGw))} Mbit/s   | direct loopback ${fmt(mbit(BYTES, upDirect))} Mbit/s  (gateway at x${fmt(upDirect / upGw, 2)})`);

    // Download: host source -> gateway -> guest, then direct.
    t0 = now();
    c = g.connect(GW, srv.sourcePort);
    await c.until(() => c.peerFin, 120_000, 'download');
    const downGw = now() - t0;
    if (c.received !== BYTES) throw new Error(`download got ${c.received}`);
    c.conn.close();
    t0 = now();
    await new Promise<void>((resolve) => {
      let n = 0;
      const d = tcpConnect({ host: '127.0.0.1', port: srv.sourcePort });
      d.on('data', (b) => { n += b.length; });
      d.on('end', () => { if (n !== BYTES) throw new Error('direct download short'); d.destroy(); resolve(); });
    });
    const downDirect = now() - t0;
    log(`  gateway TCP download ${fmt(mbit(BYTES, downGw))} Mbit/s   | direct loopback ${fmt(mbit(BYTES, downDirect))} Mbit/s  (gateway at x${fmt(downDirect / downGw, 2)})`);

    // TCP round trip: 1-byte ping-pong.
    const ROUNDS = 2000;
    c = g.connect(GW, srv.echoPort);
    await c.until(() => c.established, 5000, 'established');
    const one = new Uint8Array([1]);
    t0 = now();
    for (let i = 1; i <= ROUNDS; i++) { c.conn.send(one); await c.until(() => c.received >= i, 5000, 'echo'); }
    const rttGw = ((now() - t0) * 1000) / ROUNDS;
    c.conn.abort();
    const e = tcpConnect({ host: '127.0.0.1', port: srv.echoPort });
    e.setNoDelay(true);
    await new Promise((r) => e.once('connect', r));
    t0 = now();
    for (let i = 0; i < ROUNDS; i++) { e.write(one); await new Promise((r) => e.once('data', r)); }
    const rttDirect = ((now() - t0) * 1000) / ROUNDS;
    e.destroy();
    log(`  gateway TCP round trip ${fmt(rttGw, 1)} us  | direct loopback ${fmt(rttDirect, 1)} us  (x${fmt(rttGw / rttDirect, 2)})`);

    // UDP round trip.
    t0 = now();
    for (let i = 0; i < ROUNDS; i++) {
      const n = g.udpIn.length;
      g.sendUdp(GW, 7777, srv.udpPort, one);
      await g.until(() => g.udpIn.length > n, 5000, 'udp echo');
      if (g.udpIn.length > 100) g.udpIn.length = 0;
    }
    const udpGw = ((now() - t0) * 1000) / ROUNDS;
    const u = createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
    t0 = now();
    for (let i = 0; i < ROUNDS; i++) { u.send(one, srv.udpPort, '127.0.0.1'); await new Promise((r) => u.once('message', r)); }
    const udpDirect = ((now() - t0) * 1000) / ROUNDS;
    u.close();
    log(`  gateway UDP round trip ${fmt(udpGw, 1)} us  | direct loopback ${fmt(udpDirect, 1)} us  (x${fmt(udpGw / udpDirect, 2)})`);
  } finally {
    net.close();
    driver.stop();
    await srv.close();
  }
}

const CLIENT = `
import { connect } from 'node:net';
const [host, port, size] = process.argv.slice(2);
const data = Buffer.alloc(Number(size), 0x41);
const t0 = process.hrtime.bigint();
const s = connect({ host, port: Number(port) }, () => s.end(data));
s.on('data', () => {});
s.on('end', () => { console.log(Number(process.hrtime.bigint() - t0) / 1e6); });
s.on('error', (e) => { console.error(String(e)); process.exit(2); });
`;

async function benchNetns(log: (l: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) { log('  netns (Linux stack via TAP): skipped, not root'); return; }
  try { accessSync('/dev/net/tun', constants.R_OK | constants.W_OK); } catch { log('  netns: skipped, no /dev/net/tun'); return; }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const relay = join(root, 'build/net/tap_relay');
  mkdirSync(dirname(relay), { recursive: true });
  execFileSync('gcc', ['-O2', '-o', relay, join(root, 'tools/net/tap_relay.c')]);
  const dir = mkdtempSync(join(tmpdir(), 'tsxen-netbench-'));
  writeFileSync(join(dir, 'client.mjs'), CLIENT);
  const ns = `tsxen-bench-${process.pid}`;
  const ifn = `tsxb${process.pid % 10000}`;
  const BYTES = 64 << 20;
  const echoSrv = createServer({ allowHalfOpen: true }, (c) => { c.on('error', () => c.destroy()); c.pipe(c); });
  await new Promise<void>((r) => echoSrv.listen(0, '127.0.0.1', () => r()));
  const port = (echoSrv.address() as { port: number }).port; // SAFETY: TCP AddressInfo
  const net = await createUserNet({ dnsUpstream: null });
  let tap: TapPort | undefined;
  const run = (argv: string[]): Promise<string> => new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    tap = await TapPort.open(relay, ifn, net.bridge);
    execFileSync('ip', ['link', 'set', ifn, 'netns', ns]);
    for (const a of [['link', 'set', 'lo', 'up'], ['link', 'set', ifn, 'up'], ['addr', 'add', '10.0.2.15/24', 'dev', ifn], ['route', 'add', 'default', 'via', '10.0.2.2']]) execFileSync('ip', ['-n', ns, ...a]);
    await run(['ip', 'netns', 'exec', ns, process.execPath, join(dir, 'client.mjs'), '10.0.2.2', String(port), String(1 << 20)]); // warm up (ARP, JIT)
    const viaMs = Number(await run(['ip', 'netns', 'exec', ns, process.execPath, join(dir, 'client.mjs'), '10.0.2.2', String(port), String(BYTES)]));
    const directMs = Number(await run([process.execPath, join(dir, 'client.mjs'), '127.0.0.1', String(port), String(BYTES)]));
    log(`  Linux netns -> TAP -> xenbr0 -> gateway TCP echo ${fmt(mbit(2 * BYTES, viaMs))} Mbit/s (both ways)  | same client on host loopback ${fmt(mbit(2 * BYTES, directMs))} Mbit/s  (x${fmt(directMs / viaMs, 2)})`);
  } finally {
    await tap?.close();
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
    net.close();
    await new Promise((r) => echoSrv.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export const netSuite: BenchSuite = {
  name: 'net',
  description: 'xenbr0 forwarding and the user-mode gateway (TCP/UDP relay, round trips), each next to the host doing the same directly',
  async run(log) {
    benchBridge(log);
    await benchGateway(log);
    await benchNetns(log);
  },
};
