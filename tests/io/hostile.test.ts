/**
 * Hostile frontends against blkback and netback, through the real hypervisor: TypeScript
 * frontends in native domUs (bench/blk_tsfront.ts, vif_tsfront.ts) write garbage to their rings on purpose. Every bad
 * request gets an error response or the device is disconnected with the reason; the
 * backend serves every other domain on; the host image is never grown or written outside
 * the device; a domain destroyed in the middle of I/O leaves nothing behind.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLKIF_OP_READ, BLKIF_OP_WRITE } from '../../src/abi/io/blkif.ts';
import { NETTXF_more_data } from '../../src/abi/io/netif.ts';
import { auditMemory } from '../../src/xen/audit.ts';
import { IoHost } from '../../bench/blk_io_host.ts';
import { NativeDomU } from '../../bench/blk_native_domu.ts';
import { TsBlkfront } from '../../bench/blk_tsfront.ts';
import { TsNetfront } from '../../bench/vif_tsfront.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsxen-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let imgNo = 0;
function image(mib = 4): string {
  const p = join(dir, `d${imgNo++}.img`);
  const fd = openSync(p, 'w');
  ftruncateSync(fd, mib * 1024 * 1024);
  closeSync(fd);
  return p;
}

async function blkDomain(io: IoHost, name: string, img = image()): Promise<{ dom: NativeDomU; f: TsBlkfront; img: string; backend: string }> {
  const dom = new NativeDomU(io, name);
  const h = io.drivers.attachVbd(dom.domid, { target: img, vdev: 'xvda' });
  const f = new TsBlkfront(dom, 51712);
  await io.until(f.connect());
  return { dom, f, img, backend: h.backend };
}

function expectClean(io: IoHost): void {
  expect(io.drivers.errors).toEqual([]);
  expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
  expect(auditMemory(io.host.xen)).toEqual([]);
}

const FULL = { first: 0, last: 7 };

describe('block frontends of every kind', () => {
  it.each([
    ['initialised', 'x86_32-abi', 0], ['connected', 'x86_64-abi', 1], ['early', null, 2],
  ] as const)('handshake "%s", protocol %s, ring order %i: connects and moves data', async (handshake, protocol, ringOrder) => {
    const io = new IoHost();
    const dom = new NativeDomU(io, `variant-${handshake}`);
    const img = image(2);
    io.drivers.attachVbd(dom.domid, { target: img, vdev: 'xvda' });
    const f = new TsBlkfront(dom, 51712, { handshake, protocol, ringOrder });
    await io.until(f.connect());
    const data = new Uint8Array(3 * 4096).map((_, i) => (i * 13) & 0xff);
    expect(await io.until(f.write(40, data))).toBe(0);
    expect(await io.until(f.read(40, 24))).toEqual(data);
    expect(readFileSync(img).subarray(40 * 512, 64 * 512)).toEqual(Buffer.from(data));
    await io.until(f.close());
    dom.destroy();
    expectClean(io);
  });
});

describe('hostile block frontends', () => {
  it('bad grants, bounds, sizes, operations and duplicate ids get error responses; the device goes on', async () => {
    const io = new IoHost();
    const { dom, f, img } = await blkDomain(io, 'bad-requests');
    const size = statSync(img).size;
    const ro = dom.gnt.share(0, false);
    const cases: Array<[string, number, number, Array<{ gref: number; first: number; last: number }>]> = [
      ['ungranted ref', BLKIF_OP_WRITE, 0, [{ gref: 4000, ...FULL }]],
      ['ref beyond the table', BLKIF_OP_READ, 0, [{ gref: 0x7fffffff, ...FULL }]],
      ['read into a read-only grant', BLKIF_OP_READ, 0, [{ gref: ro.ref, ...FULL }]],
      ['first after last', BLKIF_OP_WRITE, 0, [{ gref: ro.ref, first: 5, last: 2 }]],
      ['last past the page', BLKIF_OP_WRITE, 0, [{ gref: ro.ref, first: 0, last: 8 }]],
      ['past the end of the disk', BLKIF_OP_WRITE, f.sectors - 4, [{ gref: ro.ref, ...FULL }]],
      ['sector 2^40', BLKIF_OP_READ, 2 ** 40, [{ gref: ro.ref, ...FULL }]],
      ['no segments', BLKIF_OP_READ, 0, []],
      ['twelve segments', BLKIF_OP_READ, 0, Array.from({ length: 11 }, () => ({ gref: ro.ref, ...FULL }))],
      ['unknown operation 99', 99, 0, [{ gref: ro.ref, ...FULL }]],
      ['reserved operation 4', 4, 0, []],
    ];
    for (const [what, op, sector, segs] of cases) {
      const id = 5000 + cases.findIndex((c) => c[0] === what);
      const req = f.request(op, sector, segs, id);
      if (what === 'twelve segments') req[1] = 12;
      const st = await io.until(f.submitRaw(req, id));
      expect(st, what).toBe(-1);
    }
    // Duplicate ids: both answered (the id is the frontend's cookie); one is a stray.
    const data = new Uint8Array(4096).fill(0x5a);
    ro.bytes.set(data);
    dom.gnt.written(ro);
    const p1 = f.submitRaw(f.request(BLKIF_OP_WRITE, 16, [{ gref: ro.ref, ...FULL }], 77), 77, [], false);
    f.ring!.put(f.request(BLKIF_OP_WRITE, 24, [{ gref: ro.ref, ...FULL }], 77));
    f.kick();
    expect(await io.until(p1)).toBe(0);
    await io.run(() => f.stray.length > 0, { untilIdle: false, timeoutMs: 10_000 });
    expect(f.stray).toEqual([{ id: 77, status: 0 }]);
    // Still serving, and the image is exactly as big as before.
    expect(await io.until(f.write(0, new Uint8Array(8192).fill(3)))).toBe(0);
    const back = await io.until(f.read(0, 16));
    expect(back instanceof Uint8Array && back.every((b) => b === 3)).toBe(true);
    expect(statSync(img).size).toBe(size);
    expect(readFileSync(img).subarray(16 * 512, 32 * 512).every((b) => b === 0x5a)).toBe(true);
    expect(f.leakedGrants).toBe(0);
    expect(io.drivers.blkback.vbd(dom.domid, 51712)?.fault).toBeNull();
    dom.gnt.end(ro.ref);
    await io.until(f.close());
    dom.destroy();
    expectClean(io);
  });

  it('indirect requests at the limit work (64 segments), one more is refused', async () => {
    const io = new IoHost();
    const { dom, f } = await blkDomain(io, 'indirect', image(8));
    const data = new Uint8Array(64 * 4096).map((_, i) => (i * 7) & 0xff);
    expect(await io.until(f.indirect(BLKIF_OP_WRITE, 512, 512, data))).toBe(0);
    expect(await io.until(f.indirect(BLKIF_OP_READ, 512, 512))).toEqual(data);
    expect(await io.until(f.indirect(BLKIF_OP_READ, 512, 520))).toBe(-1);
    expect(f.leakedGrants).toBe(0);
    await io.until(f.close());
    dom.destroy();
    expectClean(io);
  });

  it('a producer index far ahead disconnects that device with the reason; another domain is served on', async () => {
    const io = new IoHost();
    const a = await blkDomain(io, 'runaway');
    const b = await blkDomain(io, 'bystander');
    a.f.ring!.setReqProd(a.f.ring!.reqProdPvt + 1000);
    a.dom.evtchn.notify(a.f.port);
    await io.run(() => io.xs.tryRead(`${a.backend}/state`) === '5', { untilIdle: false, timeoutMs: 10_000 });
    expect(io.xs.read(`/local/domain/0/error/backend/vbd/${a.dom.domid}/51712/error`)).toMatch(/^71 request producer index beyond the ring/);
    expect(io.drivers.blkback.vbd(a.dom.domid, 51712)?.stats.overflows).toBe(1);
    expect(await io.until(b.f.write(8, new Uint8Array(4096).fill(9)))).toBe(0);
    // Only the bystander's ring page and port are still held.
    expect(io.drivers.counts()).toMatchObject({ grantMappings: 1, ports: 1 });
    a.dom.destroy();
    await io.until(b.f.close());
    b.dom.destroy();
    expectClean(io);
  });

  it('seeded garbage in every ring slot: no throw, every slot answered or the device cut off, others unaffected', async () => {
    const seed = Number(process.env.HOSTILE_SEED ?? 0x1badb10c);
    let s = seed;
    const rnd = (): number => {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      return s >>> 0;
    };
    const io = new IoHost();
    const a = await blkDomain(io, 'garbage');
    const b = await blkDomain(io, 'bystander');
    for (let round = 0; round < 4; round++) {
      for (let k = 0; k < 32; k++) {
        const slot = new Uint8Array(108);
        for (let i = 0; i < 108; i++) slot[i] = rnd() & 0xff;
        slot[0] = rnd() % 8;
        if ((rnd() & 1) === 0) slot[1] = rnd() % 12;
        // Keep sectors small half of the time so some garbage is in range.
        if ((rnd() & 1) === 0) slot.fill(0, 13, 20);
        a.f.ring!.put(slot);
      }
      a.f.kick();
      const want = (round + 1) * 32;
      await io.run(() => a.f.stray.length >= want || io.drivers.blkback.vbd(a.dom.domid, 51712)?.fault != null,
        { untilIdle: false, timeoutMs: 20_000 });
      if (io.drivers.blkback.vbd(a.dom.domid, 51712)?.fault != null) break;
      expect(a.f.stray.length, `seed ${seed}`).toBe(want);
    }
    expect(await io.until(b.f.write(0, new Uint8Array(512 * 8).fill(1)))).toBe(0);
    a.dom.destroy();
    await io.until(b.f.close());
    b.dom.destroy();
    await io.until(io.drivers.settled());
    expectClean(io);
  });

  it('bad xenstore keys refuse the connection with the reason (Closing)', async () => {
    const io = new IoHost();
    for (const [key, value, why] of [
      ['ring-ref', 'abc', /bad or missing ring-ref/], ['event-channel', '99999999999', /event-channel/],
      ['protocol', 'arm-abi', /unknown protocol/], ['ring-page-order', '9', /ring-page-order 9 above 2/],
      ['ring-ref', '4000', /mapping ring-ref 4000 .* failed/], ['event-channel', '999', /binding event channel 999/],
    ] as const) {
      const dom = new NativeDomU(io, `keys-${key}`);
      const h = io.drivers.attachVbd(dom.domid, { target: image(1), vdev: 'xvda' });
      await io.until(h.ready);
      const page = dom.gnt.share(0, true);
      const port = dom.evtchn.bindUnbound(0, () => undefined);
      const fe = h.frontend;
      dom.xs.write(`${fe}/ring-ref`, String(page.ref));
      dom.xs.write(`${fe}/event-channel`, String(port));
      dom.xs.write(`${fe}/${key}`, value);
      dom.xs.write(`${fe}/state`, '3');
      await io.run(() => io.xs.tryRead(`${h.backend}/state`) === '5', { untilIdle: false, timeoutMs: 10_000 });
      expect(io.xs.read(`/local/domain/0/error/backend/vbd/${dom.domid}/51712/error`), key).toMatch(why);
      expect(io.drivers.counts()).toMatchObject({ grantMappings: 0, ports: 0 });
      // The frontend cannot redirect the backend to another file.
      expect(() => dom.xs.write(`${h.backend}/params`, '/etc/passwd')).toThrow(/EACCES/);
      dom.destroy();
    }
    expectClean(io);
  });

  it('a domain destroyed in the middle of I/O leaks nothing (grant mappings, ports, frames, the zombie)', async () => {
    const io = new IoHost();
    const { dom, f } = await blkDomain(io, 'doomed');
    const pending: Array<Promise<number>> = [];
    for (let i = 0; i < 30; i++) pending.push(f.write(i * 88, new Uint8Array(11 * 4096).fill(i)));
    // One turn: requests consumed, file I/O started, nothing answered yet.
    io.host.step(100_000);
    await Promise.resolve();
    expect(io.drivers.busy()).toBe(true);
    const id = dom.domid;
    dom.destroy();
    await io.until(io.drivers.settled());
    await io.run(() => false, { maxSystemNs: io.host.xen.time.now() + 1e6 });
    expect(io.host.xen.domain(id)).toBeUndefined();
    expectClean(io);
    void pending;
  });
});

describe('hostile network frontends', () => {
  it('bad tx slots get NETIF_RSP_ERROR, good frames still reach the bridge; bad rx buffers get errors', async () => {
    const io = await IoHost.withNet();
    const frames: Uint8Array[] = [];
    const cap = io.net!.bridge.attach({ name: 'capture', deliver: (fr) => frames.push(fr.slice()) });
    const dom = new NativeDomU(io, 'bad-tx');
    io.drivers.attachVif(dom.domid, { mac: '00:16:3e:11:22:33' });
    const n = new TsNetfront(dom, 0);
    n.badRxRefs = 1;
    await io.until(n.connect());
    const frame = new Uint8Array(100);
    frame.fill(0xff, 0, 6);
    frame.set([0x00, 0x16, 0x3e, 0x11, 0x22, 0x33], 6);
    frame.set([0x08, 0x06], 12);
    const page = dom.gnt.share(0, false);
    page.bytes.set(frame);
    dom.gnt.written(page);
    const bad: Array<[string, Uint8Array]> = [
      ['ungranted ref', n.txSlot(4000, 0, 0, 1, 100)],
      ['runt', n.txSlot(page.ref, 0, 0, 2, 10)],
      ['crosses its page', n.txSlot(page.ref, 4050, 0, 3, 100)],
      ['too big for the bridge', n.txSlot(page.ref, 0, 0, 4, 3000)],
    ];
    for (const [, slot] of bad) n.tx!.put(slot);
    n.kick();
    await io.run(() => n.txResponses >= 4, { untilIdle: false, timeoutMs: 10_000 });
    expect([1, 2, 3, 4].map((i) => n.txStatus.get(i))).toEqual([-1, -1, -1, -1]);
    n.send(frame);
    await io.run(() => frames.length > 0, { untilIdle: false, timeoutMs: 10_000 });
    expect(frames[0]).toEqual(frame);
    expect(io.drivers.netback!.vif(dom.domid, 0)!.counters).toMatchObject({ txErrors: 4, txPackets: 1, faults: 0 });
    // A frame sent by another MAC is dropped by the bridge (restrictSource).
    const spoof = frame.slice();
    spoof[11] = 0x99;
    n.send(spoof);
    await io.run(() => n.txResponses >= 6, { untilIdle: false, timeoutMs: 10_000 });
    expect(frames.length).toBe(1);
    // Receive: the first posted buffer names an ungranted ref: an error response, then the
    // next frame lands in a good buffer.
    const toGuest = new Uint8Array(80);
    toGuest.set([0x00, 0x16, 0x3e, 0x11, 0x22, 0x33], 0);
    toGuest.set([0x02, 0, 0, 0, 0, 1], 6);
    toGuest.set([0x08, 0x06], 12);
    cap.send(toGuest);
    cap.send(toGuest);
    await io.run(() => n.received.length > 0, { untilIdle: false, timeoutMs: 10_000 });
    expect(n.rxErrors).toBe(1);
    expect(n.received[0]).toEqual(toGuest);
    expect(io.drivers.netback!.vif(dom.domid, 0)!.counters).toMatchObject({ rxErrors: 1, rxPackets: 1 });
    dom.gnt.end(page.ref);
    cap.detach();
    n.release();
    dom.destroy();
    expectClean(io);
    io.teardown();
  });

  it('a fragment chain past the producer, or a producer far ahead, disconnects the vif; another vif goes on', async () => {
    const io = await IoHost.withNet();
    const frames: Uint8Array[] = [];
    const cap = io.net!.bridge.attach({ name: 'capture', deliver: (fr) => frames.push(fr.slice()) });
    for (const how of ['chain', 'producer'] as const) {
      const evil = new NativeDomU(io, `evil-${how}`);
      const h = io.drivers.attachVif(evil.domid, { mac: '00:16:3e:00:01:01' });
      const e = new TsNetfront(evil, 0);
      await io.until(e.connect());
      const good = new NativeDomU(io, `good-${how}`);
      io.drivers.attachVif(good.domid, { mac: '00:16:3e:00:01:02' });
      const g = new TsNetfront(good, 0);
      await io.until(g.connect());
      if (how === 'chain') {
        e.tx!.put(e.txSlot(1, 0, NETTXF_more_data, 1, 200));
        e.kick();
      } else {
        e.tx!.setReqProd(e.tx!.reqProdPvt + 5000);
        evil.evtchn.notify(e.port);
      }
      await io.run(() => io.xs.tryRead(`${h.backend}/state`) === '5', { untilIdle: false, timeoutMs: 10_000 });
      expect(io.xs.read(`/local/domain/0/error/backend/vif/${evil.domid}/0/error`)).toMatch(how === 'chain' ? /fragment chain runs past/ : /producer beyond the ring/);
      const fr = new Uint8Array(64).fill(0xff, 0, 6);
      fr.set([0x00, 0x16, 0x3e, 0x00, 0x01, 0x02], 6);
      fr.set([0x08, 0x06], 12);
      const before = frames.length;
      g.send(fr);
      await io.run(() => frames.length > before, { untilIdle: false, timeoutMs: 10_000 });
      e.release();
      evil.destroy();
      g.release();
      good.destroy();
    }
    cap.detach();
    expectClean(io);
    io.teardown();
  });
});
