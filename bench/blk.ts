/**
 * blk: blkback throughput (npm run bench blk), each figure next to the same I/O done
 * directly on the host, in the same run, on the same image file (fully written first, so
 * both read from the page cache):
 *
 *   host direct     FileDisk (the driver under blkback) on the image: readv/writev at the
 *                   same offsets and queue depth, without any hypervisor
 *   blkback copy    a TypeScript blkfront in a native domU (bench/blk_tsfront.ts) through
 *                   the real hypervisor: ring, event channels, GNTTABOP_copy
 *   blkback map     the same with GNTTABOP_map_grant_ref/unmap around the I/O
 *   minios          the PV guest's own `disk bench` (its emulated CPU included; IOPS over
 *                   virtual time, in which file waits are charged as they happened)
 *
 * Patterns: 4 KiB random reads and writes at queue depth 32, and sequential 256 KiB
 * requests (one indirect request of 64 segments each; 64 KiB direct for minios) at depth 4.
 * Each figure is the best of TSXEN_BLK_RUNS (default 3) runs of TSXEN_BLK_SECS (default 1)
 * seconds, the contenders interleaved (the development machine is shared and noisy).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE } from '../src/abi/io/blkif.ts';
import { FileDisk } from '../src/dom0/drivers/file_disk.ts';
import type { SharedPage } from '../src/dom0/libs/gntshr.ts';
import type { BenchSuite } from './index.ts';
import { IoHost } from './blk_io_host.ts';
import { NativeDomU } from './blk_native_domu.ts';
import { TsBlkfront } from './blk_tsfront.ts';

const SECS = Number(process.env.TSXEN_BLK_SECS ?? 1);
const RUNS = Number(process.env.TSXEN_BLK_RUNS ?? 3);
const IMAGE_MIB = 128;
const SECTORS = (IMAGE_MIB << 20) / 512;

interface Pattern {
  readonly name: string;
  readonly write: boolean;
  readonly kib: number;
  readonly random: boolean;
  readonly depth: number;
}

export const PATTERNS: readonly Pattern[] = [
  { name: '4K randread ', write: false, kib: 4, random: true, depth: 32 },
  { name: '4K randwrite', write: true, kib: 4, random: true, depth: 32 },
  { name: 'seq read 256K', write: false, kib: 256, random: false, depth: 4 },
  { name: 'seq write 256K', write: true, kib: 256, random: false, depth: 4 },
];

/** Seeded offsets: the same sequence for every contender. */
function offsets(p: Pattern): () => number {
  let s = 0x2545f491;
  let seq = 0;
  const step = p.kib * 2;
  const slots = Math.floor(SECTORS / step);
  return () => {
    if (!p.random) {
      const o = (seq % slots) * step;
      seq++;
      return o;
    }
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return ((s >>> 0) % slots) * step;
  };
}

interface Result { ops: number; ms: number }

function fmt(p: Pattern, r: Result): string {
  const iops = r.ops / (r.ms / 1000);
  const mbs = (r.ops * p.kib * 1024) / 1e6 / (r.ms / 1000);
  return p.random ? `${iops.toFixed(0).padStart(8)} IOPS` : `${mbs.toFixed(1).padStart(8)} MB/s`;
}

/** Host direct: FileDisk readv/writev at the same offsets and depth. */
export async function hostDirect(img: string, p: Pattern): Promise<Result> {
  const disk = await FileDisk.open(img);
  const next = offsets(p);
  const bufs = Array.from({ length: p.depth }, () => new Uint8Array(p.kib * 1024).fill(7));
  let ops = 0;
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  await new Promise<void>((resolve) => {
    let running = 0;
    const go = (i: number): void => {
      if (performance.now() >= end) {
        if (--running === 0) resolve();
        return;
      }
      const cb = (err: Error | null): void => {
        if (err) throw err;
        ops++;
        go(i);
      };
      if (p.write) disk.writev([bufs[i]!], next() * 512, cb);
      else disk.readv([bufs[i]!], next() * 512, cb);
    };
    for (let i = 0; i < p.depth; i++) {
      running++;
      go(i);
    }
  });
  const ms = performance.now() - t0;
  await disk.close();
  return { ops, ms };
}

/** Through blkback, from a TypeScript frontend, grants made once per in-flight slot. */
export async function viaBlkback(img: string, p: Pattern, segmentIo: 'copy' | 'map'): Promise<Result> {
  const io = new IoHost({}, { blk: { config: { segmentIo } } });
  const dom = new NativeDomU(io, `bench-${segmentIo}`, 4096, 8);
  io.drivers.attachVbd(dom.domid, { target: img, vdev: 'xvda' });
  const f = new TsBlkfront(dom, 51712, { ringOrder: 1 });
  await io.until(f.connect());
  const pages = p.kib / 4;
  const slots: Array<{ data: SharedPage[]; desc: SharedPage | null }> = Array.from({ length: p.depth }, () => ({
    data: Array.from({ length: pages }, () => dom.gnt.share(0, true)),
    desc: pages > 11 ? dom.gnt.share(0, false) : null,
  }));
  for (const s of slots) {
    if (s.desc === null) continue;
    const dv = new DataView(s.desc.bytes.buffer, s.desc.bytes.byteOffset, 4096);
    s.data.forEach((g, i) => {
      dv.setUint32(i * 8, g.ref, true);
      dv.setUint8(i * 8 + 4, 0);
      dv.setUint8(i * 8 + 5, 7);
    });
    dom.gnt.written(s.desc);
  }
  const next = offsets(p);
  const op = p.write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
  let ops = 0, id = 1, bad = 0;
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  let running = 0;
  const done = new Promise<void>((resolve) => {
    const go = (i: number): void => {
      if (performance.now() >= end) {
        if (--running === 0) resolve();
        return;
      }
      const s = slots[i]!;
      const rid = id++;
      let req: Uint8Array;
      if (s.desc === null) req = f.request(op, next(), s.data.map((g) => ({ gref: g.ref, first: 0, last: 7 })), rid);
      else {
        req = new Uint8Array(108);
        const v = new DataView(req.buffer);
        v.setUint8(0, BLKIF_OP_INDIRECT);
        v.setUint8(1, op);
        v.setUint16(2, pages, true);
        v.setUint32(4, rid, true);
        v.setUint32(12, next(), true);
        v.setUint16(20, 51712 & 0xffff, true);
        v.setUint32(24, s.desc.ref, true);
      }
      void f.submitRaw(req, rid).then((st) => {
        if (st !== 0) bad++;
        ops++;
        go(i);
      });
    };
    for (let i = 0; i < p.depth; i++) {
      running++;
      go(i);
    }
  });
  await io.until(done, { timeoutMs: SECS * 1000 + 60_000 });
  const ms = performance.now() - t0;
  if (bad > 0) throw new Error(`blk bench: ${bad} requests failed`);
  io.drivers.detach(dom.domid, 'vbd', 51712, { force: true });
  dom.destroy();
  return { ops, ms };
}

/** minios's own disk bench: its IOPS/KiB/s over virtual time. */
async function minios(img: string, log: (l: string) => void): Promise<void> {
  const io = new IoHost();
  const secs = Math.max(1, Math.round(SECS * 2));
  const g = io.create({
    name: 'bench', disks: [{ target: img, vdev: 'xvda' }],
    extra: `cmd="disk bench read ${secs} 4; disk bench write ${secs} 4; disk bench read ${secs} 64; disk bench write ${secs} 64"`,
  });
  const t0 = performance.now();
  await io.runAll({ timeoutMs: 600_000 });
  const ms = performance.now() - t0;
  for (const line of g.text.split('\n')) {
    const m = /^OK disk bench (read|write) io_kib=(\d+) ios=(\d+) iops=(\d+) kib_per_s=(\d+)/.exec(line);
    if (m) log(`  minios in-guest ${m[1]!.padEnd(5)} ${m[2]!.padStart(2)} KiB   ${m[4]!.padStart(8)} IOPS ${(Number(m[5]) / 1024).toFixed(1).padStart(8)} MiB/s (virtual time)`);
  }
  log(`  minios run: ${(ms / 1000).toFixed(1)} s of host time for ${4 * secs} s of guest benchmarks`);
  io.teardown();
}

export const blkSuite: BenchSuite = {
  name: 'blk',
  description: 'blkback 4 KiB random IOPS and sequential MB/s (grant copy and grant map), next to the host doing the same I/O directly',
  async run(log) {
    const dir = mkdtempSync(join(tmpdir(), 'tsxen-blkbench-'));
    try {
      const img = join(dir, 'bench.img');
      const fd = openSync(img, 'w');
      const chunk = new Uint8Array(1 << 20).fill(0x5a);
      for (let i = 0; i < IMAGE_MIB; i++) writeSync(fd, chunk);
      closeSync(fd);
      const best = (a: Result | null, b: Result): Result => (a === null || b.ops / b.ms > a.ops / a.ms ? b : a);
      for (const p of PATTERNS) {
        let host: Result | null = null, copy: Result | null = null, map: Result | null = null;
        for (let r = 0; r < RUNS; r++) {
          host = best(host, await hostDirect(img, p));
          copy = best(copy, await viaBlkback(img, p, 'copy'));
          map = best(map, await viaBlkback(img, p, 'map'));
        }
        if (host === null || copy === null || map === null) throw new Error('blk bench: no runs');
        const h = host;
        const ratio = (x: Result): string => `x${((x.ops / x.ms) / (h.ops / h.ms)).toFixed(2)}`;
        log(`  ${p.name.padEnd(15)} host direct ${fmt(p, host)} | blkback copy ${fmt(p, copy)} (${ratio(copy)}) | map ${fmt(p, map)} (${ratio(map)})`);
      }
      await minios(img, log);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
