/**
 * vif: netback throughput and round trip (npm run bench vif), next to the host moving the
 * same datagrams over its own loopback in the same run:
 *
 *   host loopback     two node:dgram sockets: 1472-byte datagrams (a 1514-byte frame's
 *                     payload) as fast as they are taken; 64-byte ping-pong
 *   vif -> vif        a TypeScript netfront in one native domU sends 1514-byte frames to
 *                     another's MAC through the real hypervisor: tx grants mapped by
 *                     netback, xenbr0, delivered by rx-copy (GNTTABOP_copy) or rx-flip
 *                     (GNTTABOP_transfer); and a 64-byte frame bounced back and forth
 *   minios            two PV guests' UDP echo over the same path (their emulated CPUs
 *                     included): round trips per second of host time
 *
 * Each figure is the best of TSXEN_VIF_RUNS (default 3) runs (TSXEN_VIF_SECS, default 1,
 * per throughput run), the contenders interleaved (the development machine is shared).
 */
import { createSocket } from 'node:dgram';
import type { SharedPage } from '../src/dom0/libs/gntshr.ts';
import type { BenchSuite } from './index.ts';
import { IoHost } from './blk_io_host.ts';
import { NativeDomU } from './blk_native_domu.ts';
import { TsNetfront } from './vif_tsfront.ts';

const SECS = Number(process.env.TSXEN_VIF_SECS ?? 1);
const RUNS = Number(process.env.TSXEN_VIF_RUNS ?? 3);
const MAC_A = [0x00, 0x16, 0x3e, 0x10, 0x00, 0x0a];
const MAC_B = [0x00, 0x16, 0x3e, 0x10, 0x00, 0x0b];

function frame(len: number, dst: number[], src: number[]): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set(src, 6);
  f.set([0x08, 0x00], 12);
  for (let i = 14; i < len; i++) f[i] = i & 0xff;
  return f;
}

async function loopbackThroughput(): Promise<{ mbit: number; rttUs: number }> {
  const rx = createSocket('udp4'), tx = createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
  const port = rx.address().port;
  const payload = Buffer.alloc(1472, 0x5a);
  let got = 0, sent = 0;
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  // A window of 64 datagrams not yet received, refilled as they arrive (as the vif figure's
  // tx ring is refilled as frames are answered).
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (performance.now() >= end) {
        resolve();
        return;
      }
      while (sent - got / 1472 < 64) {
        sent++;
        tx.send(payload, port, '127.0.0.1');
      }
    };
    rx.on('message', (m) => {
      got += m.length;
      pump();
    });
    pump();
  });
  const ms = performance.now() - t0;
  const mbit = ((got + got / 1472 * 42) * 8) / (ms / 1000) / 1e6;
  // Round trip: 64-byte ping-pong.
  rx.removeAllListeners('message');
  rx.on('message', (m, r) => rx.send(m, r.port, r.address));
  const n = 2000;
  const small = Buffer.alloc(64 - 42, 1);
  const t1 = performance.now();
  await new Promise<void>((resolve) => {
    let left = n;
    tx.on('message', () => { if (--left === 0) resolve(); else tx.send(small, port, '127.0.0.1'); });
    tx.send(small, port, '127.0.0.1');
  });
  const rttUs = ((performance.now() - t1) * 1000) / n;
  rx.close();
  tx.close();
  return { mbit, rttUs };
}

export async function vifToVif(mode: 'copy' | 'flip'): Promise<{ mbit: number; rttUs: number; drops: number }> {
  const io = await IoHost.withNet();
  const da = new NativeDomU(io, `vif-a-${mode}`, 2048, 4), db = new NativeDomU(io, `vif-b-${mode}`, 2048, 4);
  io.drivers.attachVif(da.domid, { mac: MAC_A.map((b) => b.toString(16).padStart(2, '0')).join(':'), devid: 0 });
  io.drivers.attachVif(db.domid, { mac: MAC_B.map((b) => b.toString(16).padStart(2, '0')).join(':'), devid: 0 });
  const a = new TsNetfront(da, 0, 128, 'copy'), b = new TsNetfront(db, 0, 256, mode);
  await io.until(Promise.all([a.connect(), b.connect()]));
  // Throughput: 128 tx pages granted once, each holding the frame.
  const big = frame(1514, MAC_B, MAC_A);
  const pages: SharedPage[] = Array.from({ length: 128 }, () => {
    const g = da.gnt.share(0, false);
    g.bytes.set(big);
    da.gnt.written(g);
    return g;
  });
  let got = 0;
  b.onFrame = (f) => { got += f.length; };
  let stop = false;
  const free: number[] = pages.map((_, i) => i);
  const pump = (): void => {
    if (stop) return;
    while (free.length > 0) {
      const i = free.pop()!; // SAFETY: length checked
      a.tx!.put(a.txSlot(pages[i]!.ref, 0, 0, i, 1514)); // SAFETY: connected
    }
    a.kick();
  };
  a.onTxDone = (id) => { free.push(id); };
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  pump();
  await io.run(() => {
    if (performance.now() >= end) return true;
    pump();
    return false;
  }, { untilIdle: false, timeoutMs: SECS * 1000 + 30_000 });
  stop = true;
  const ms = performance.now() - t0;
  const sent = io.drivers.netback!.vif(da.domid, 0)!.counters.txPackets;
  const mbit = (got * 8) / (ms / 1000) / 1e6;
  const drops = io.drivers.netback!.vif(db.domid, 0)!.counters.rxDropped;
  void sent;
  // Round trip: b bounces a 64-byte frame back from a page of its own.
  const small = frame(64, MAC_A, MAC_B);
  const back = db.gnt.share(0, false);
  back.bytes.set(small);
  db.gnt.written(back);
  const fwd = da.gnt.share(0, false);
  fwd.bytes.set(frame(64, MAC_B, MAC_A));
  da.gnt.written(fwd);
  b.onFrame = () => {
    b.tx!.put(b.txSlot(back.ref, 0, 0, 900, 64)); // SAFETY: connected
    b.kick();
  };
  let rounds = 0;
  a.onFrame = () => {
    rounds++;
    a.tx!.put(a.txSlot(fwd.ref, 0, 0, 900, 64)); // SAFETY: connected
    a.kick();
  };
  a.onTxDone = null;
  const n = 2000;
  await io.until(io.drivers.settled());
  const t1 = performance.now();
  a.tx!.put(a.txSlot(fwd.ref, 0, 0, 900, 64)); // SAFETY: connected
  a.kick();
  await io.run(() => rounds >= n, { untilIdle: false, timeoutMs: 60_000 });
  const rttUs = ((performance.now() - t1) * 1000) / rounds;
  a.release();
  b.release();
  da.destroy();
  db.destroy();
  io.teardown();
  return { mbit, rttUs, drops };
}

async function miniosEcho(log: (l: string) => void): Promise<void> {
  const io = await IoHost.withNet();
  const count = 2000;
  io.create({ name: 'srv', vifs: [{ mac: '00:16:3e:10:01:01' }], extra: 'ip=10.0.2.15 gw=10.0.2.2 cmd="net serve 600"' });
  const c = io.create({
    name: 'cli', vifs: [{ mac: '00:16:3e:10:01:02' }],
    extra: `ip=10.0.2.16 gw=10.0.2.2 cmd="sleep 100ms; udp echo 10.0.2.15 7 10 64; udp echo 10.0.2.15 7 ${count} 64"`,
  });
  await io.run(() => c.text.includes(`> udp echo 10.0.2.15 7 ${count}`), { timeoutMs: 120_000 });
  const t0 = performance.now();
  await io.run(() => c.exited, { timeoutMs: 600_000 });
  const ms = performance.now() - t0;
  const m = new RegExp(`OK udp echo 10\\.0\\.2\\.15:7 count=${count} size=64 avg_us=(\\d+)`).exec(c.text);
  log(`  minios guest <-> guest UDP echo (64 B): ${(count / (ms / 1000)).toFixed(0)} round trips/s of host time` +
    ` (${((ms * 1000) / count).toFixed(0)} us each; the guest saw avg ${m?.[1] ?? '?'} us of virtual time)`);
  io.teardown();
}

export const vifSuite: BenchSuite = {
  name: 'vif',
  description: 'netback vif-to-vif throughput (Mbit/s) and round trip, rx-copy and rx-flip, next to host loopback UDP',
  async run(log) {
    type R = { mbit: number; rttUs: number; drops: number };
    const best = (a: R | null, b: R): R => (a === null ? b : { mbit: Math.max(a.mbit, b.mbit), rttUs: Math.min(a.rttUs, b.rttUs), drops: Math.max(a.drops, b.drops) });
    let host: R | null = null, copy: R | null = null, flip: R | null = null;
    for (let i = 0; i < RUNS; i++) {
      host = best(host, { ...(await loopbackThroughput()), drops: 0 });
      copy = best(copy, await vifToVif('copy'));
      flip = best(flip, await vifToVif('flip'));
    }
    if (host === null || copy === null || flip === null) throw new Error('vif bench: no runs');
    log(`  host loopback UDP        ${host.mbit.toFixed(0).padStart(6)} Mbit/s   round trip ${host.rttUs.toFixed(1).padStart(6)} us`);
    for (const [mode, r] of [['copy', copy], ['flip', flip]] as const) {
      log(`  vif -> vif (rx-${mode})   ${r.mbit.toFixed(0).padStart(6)} Mbit/s   round trip ${r.rttUs.toFixed(1).padStart(6)} us` +
        `   (x${(r.mbit / host.mbit).toFixed(2)} / x${(host.rttUs / r.rttUs).toFixed(2)} of the host; ${r.drops.toFixed(0)} frames dropped for want of rx buffers)`);
    }
    await miniosEcho(log);
  },
};
