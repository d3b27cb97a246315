/**
 * blkback end to end: minios guests (blkfront) on tsxen, disks in host image files.
 * Every run checks what the guest reported (result lines, CRCs) against the image on the
 * host, and that tearing the guests down leaves no grant mapping, event channel, xenstore
 * node or frame behind (the hypervisor's memory audit included).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditMemory } from '../../src/xen/audit.ts';
import { diskPatternCrc, diskPatternSector, parseMiniosConsole } from '../minios/console_log.ts';
import { IoHost } from '../../bench/blk_io_host.ts';

const GUESTS = new URL('../../guests/', import.meta.url).pathname;
let dir = '';

beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'tsxen-blk-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, mib: number, fill?: { sector: number; count: number; byte: number }): string {
  const p = join(dir, name);
  const fd = openSync(p, 'w');
  ftruncateSync(fd, mib * 1024 * 1024);
  if (fill) writeSync(fd, new Uint8Array(fill.count * 512).fill(fill.byte), 0, fill.count * 512, fill.sector * 512);
  closeSync(fd);
  return p;
}

function sectors(path: string, start: number, count: number): Buffer {
  return readFileSync(path).subarray(start * 512, (start + count) * 512);
}

function expectPattern(path: string, start: number, count: number, seed: number): void {
  const data = sectors(path, start, count);
  for (let s = 0; s < count; s++) {
    if (!data.subarray(s * 512, (s + 1) * 512).equals(diskPatternSector(seed, start + s))) {
      throw new Error(`${path}: sector ${start + s} does not hold pattern ${seed}`);
    }
  }
}

/** After teardown: nothing held by the backends, nothing left in xenstore, memory audit clean. */
function expectNoLeaks(io: IoHost): void {
  expect(io.drivers.errors).toEqual([]);
  expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
  expect(io.xs.tryRead('/local/domain/0/backend')).toBeUndefined();
  expect(io.xs.tryRead('/local/domain/0/error')).toBeUndefined();
  expect(auditMemory(io.host.xen)).toEqual([]);
}

describe.each(['copy', 'map'] as const)('blkback (%s segments)', (segmentIo) => {
  it('write, verify and read back with CRCs, flush, barrier, discard; the image holds it all', async () => {
    const img = image(`a-${segmentIo}.img`, 32, { sector: 8192, count: 2048, byte: 0xaa });
    const io = new IoHost({}, { blk: { config: { segmentIo } } });
    const g = io.create({
      name: 'disk', disks: [{ target: img, vdev: 'xvda' }],
      extra: 'cmd="disk info; disk write 0 1000 7; disk verify 0 1000 7; disk read 0 1000; disk write 5000 3 9; ' +
        'disk verify 5000 3 9; disk flush; disk barrier 6000 16 3; disk discard 8192 2048; disk read 8192 8"',
    });
    expect(await io.runAll()).toBe('done');
    const run = parseMiniosConsole(g.text);
    expect(run.verdict, g.text.slice(-2000)).toBe('SUCCESS');
    const info = run.results.find((r) => r.what === 'disk info')!; // present: SUCCESS ran it
    expect(info.fields).toMatchObject({ sectors: '65536', ring_pages: '2', indirect: '64', flush: '1', barrier: '1', discard: '1' });
    const crc = (what: string, n = 0): string => run.results.filter((r) => r.what === what)[n]!.fields.crc!; // SAFETY: present in a SUCCESS run
    const want = diskPatternCrc(0, 1000, 7).toString(16).padStart(8, '0');
    expect([crc('disk write'), crc('disk verify'), crc('disk read')]).toEqual([want, want, want]);
    expectPattern(img, 0, 1000, 7);
    expectPattern(img, 5000, 3, 9);
    expectPattern(img, 6000, 16, 3);
    expect(sectors(img, 8192, 2048).every((b) => b === 0)).toBe(true);
    expect(sectors(img, 1000, 1).every((b) => b === 0)).toBe(true);
    const vbd = io.drivers.blkback.vbd(g.domid, 51712);
    expect(vbd?.stats).toMatchObject({ flushes: 1, barriers: 1, discards: 1, errors: 0, overflows: 0 });
    io.teardown();
    expectNoLeaks(io);
  });
});

describe('blkback', () => {
  it('single-page ring with direct requests only (blkring=0 blkindirect=0)', async () => {
    const img = image('b.img', 8);
    const io = new IoHost();
    const g = io.create({
      name: 'direct', disks: [{ target: img, vdev: 'xvda' }],
      extra: 'blkring=0 blkindirect=0 cmd="disk info; disk write 100 300 5; disk verify 100 300 5; disk bench read 1 4"',
    });
    await io.runAll();
    const run = parseMiniosConsole(g.text);
    expect(run.verdict, g.text.slice(-2000)).toBe('SUCCESS');
    expect(run.results[0]!.fields).toMatchObject({ ring_pages: '1', slots: '32', indirect: '0' });
    expectPattern(img, 100, 300, 5);
    io.teardown();
    expectNoLeaks(io);
  });

  it('two guests, two disks at once; a read-only disk refuses writes and serves reads', async () => {
    const a = image('c1.img', 8);
    const ro = image('c2.img', 8);
    // Put a pattern on the read-only image through a writable attach first.
    const io = new IoHost();
    const w = io.create({ name: 'writer', disks: [{ target: ro, vdev: 'xvdb' }], extra: 'cmd="disk write 0 64 11"' });
    const g1 = io.create({ name: 'g1', disks: [{ target: a, vdev: 'xvda' }], extra: 'cmd="disk write 0 500 1; disk verify 0 500 1"' });
    await io.runAll();
    expect(parseMiniosConsole(w.text).verdict).toBe('SUCCESS');
    expect(parseMiniosConsole(g1.text).verdict).toBe('SUCCESS');
    const g2 = io.create({
      name: 'reader', disks: [{ target: ro, vdev: 'xvda', access: 'r' }],
      extra: 'cmd="disk info; disk verify 0 64 11; disk write 0 1 2"',
    });
    await io.runAll();
    const run = parseMiniosConsole(g2.text);
    expect(run.results.map((r) => `${r.status} ${r.what}`)).toEqual(['OK disk info', 'OK disk verify', 'FAIL disk write']);
    expect(run.results[0]!.fields.info).toBe('4');
    expectPattern(ro, 0, 64, 11);
    expectPattern(a, 0, 500, 1);
    io.teardown();
    expectNoLeaks(io);
  });

  it('a missing image fails the hotplug step; the guest runs on without the disk, nothing leaks', async () => {
    const io = new IoHost();
    const g = io.create({ name: 'nodisk', extra: 'cmd="echo up"', paused: true });
    const h = io.drivers.attachVbd(g.domid, { target: join(dir, 'does-not-exist.img'), vdev: 'xvda' });
    io.host.toolstack.unpause(g.domid);
    await expect(h.ready).rejects.toThrow(/cannot open image .*does-not-exist\.img: ENOENT/);
    expect(io.xs.read(`${h.backend}/hotplug-status`)).toBe('error');
    await io.runAll();
    expect(parseMiniosConsole(g.text).verdict).toBe('SUCCESS');
    io.teardown();
    expectNoLeaks(io);
  });
});
