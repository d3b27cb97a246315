/**
 * Hot plug and unplug with two minios domUs while traffic runs (issue 6): the client
 * pings the server without pause; the server's vbd and vif are plugged in while it runs
 * (it booted without devices), used (disk write/verify with checksums, ping back), then
 * unplugged through the toolstack path (libxl's order: backend online 0 and Closing, the
 * frontend closes, the directories go) in the middle of a disk benchmark, and plugged in
 * again under new device ids. The unplug must complete without the forced teardown (detach
 * is called without a timeout, so only the frontend's Closed ends it), the guest must
 * report the close and give back every grant and event channel, and the backends'
 * counts, xenstore and the bridge must be as before the plug.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditMemory } from '../../src/xen/audit.ts';
import { ECS_INTERDOMAIN, ECS_UNBOUND } from '../../src/xen/common/event_channel.ts';
import { GNTTAB_NR_RESERVED_ENTRIES } from '../../src/abi/grant_table.ts';
import { diskPatternCrc, diskPatternSector, parseMiniosConsole } from '../minios/console_log.ts';
import { IoHost } from '../../bench/blk_io_host.ts';
import { createUserNet } from '../../src/dom0/net/node_net.ts';
import { FileDisk, type BlockDriver, type IoCallback } from '../../src/dom0/drivers/file_disk.ts';

const GUESTS = new URL('../../guests/', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'tsxen-hotplug-minios-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROMPT = 'minios> ';
const count = (text: string, s: string): number => text.split(s).length - 1;

/** Event channels of `domid` open towards dom0 (store, console, one per device). */
function portsToDom0(io: IoHost, domid: number): number {
  const e = io.host.xen.domain(domid)!.evtchn; // SAFETY: the guest is alive while we ask
  let n = 0;
  for (let p = 0; p < e.validPorts; p++) {
    if ((e.state[p] === ECS_INTERDOMAIN || e.state[p] === ECS_UNBOUND) && e.remoteDom[p] === 0) n++;
  }
  return n;
}

/** The image file, with writes held back while a test holds them (then let go in order). */
class HeldWrites implements BlockDriver {
  static held: Array<() => void> | null = null;
  static release(): void {
    const h = HeldWrites.held ?? [];
    HeldWrites.held = null;
    for (const f of h) f();
  }
  constructor(private readonly d: BlockDriver) {}
  get sectors(): number { return this.d.sectors; }
  get readonly(): boolean { return this.d.readonly; }
  get path(): string { return this.d.path; }
  get inflight(): number { return this.d.inflight; }
  readv(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void { this.d.readv(bufs, pos, cb); }
  writev(bufs: readonly Uint8Array[], pos: number, cb: IoCallback): void {
    if (HeldWrites.held === null) this.d.writev(bufs, pos, cb);
    else HeldWrites.held.push(() => this.d.writev(bufs, pos, cb));
  }
  flush(cb: IoCallback): void { this.d.flush(cb); }
  discard(pos: number, len: number, cb: IoCallback): void { this.d.discard(pos, len, cb); }
  close(): Promise<void> { return this.d.close(); }
}

describe('hot plug with minios frontends', () => {
  it.each(['copy', 'flip'] as const)('two minios domUs: vbd and vif plugged, unplugged during traffic, replugged with new ids; nothing leaks (rx-%s)', async (mode) => {
    // blkback over the image with writes that can be held back, so the unplug finds the
    // guest's requests in flight (host file I/O is otherwise done before the guest runs).
    const io = new IoHost({}, { blk: { openDisk: async (p, ro) => new HeldWrites(await FileDisk.open(p, { readonly: ro })) } },
      await createUserNet({ dnsUpstream: null }));
    const img = join(dir, 'hot.img');
    const fd = openSync(img, 'w');
    ftruncateSync(fd, 8 << 20);
    closeSync(fd);
    // Interactive shells: the test types one command at a time.
    const server = io.create({ name: 'server', extra: `ip=10.0.2.15 gw=10.0.2.2 blkindirect=0 net=${mode}` }); // direct requests: 3 in flight per 128 KiB
    const client = io.create({ name: 'client', vifs: [{ mac: '00:16:3e:00:04:02' }], extra: 'ip=10.0.2.16 gw=10.0.2.2' });

    // Client traffic: a new `ping 10.0.2.15 2` at every prompt, for the whole test.
    let pumped = 0;
    const pump = (): void => {
      const p = count(client.text, PROMPT);
      if (p > pumped) {
        pumped = p;
        client.type('ping 10.0.2.15 2\r');
      }
    };
    const runUntil = async (what: string, cond: () => boolean, timeoutMs = 120_000): Promise<void> => {
      const end = await io.run(() => { pump(); return cond(); }, { untilIdle: false, timeoutMs });
      expect(end, `${what}\n--- server:\n${server.text.slice(-2500)}`).toBe('done');
    };
    const settle = async <T>(what: string, p: Promise<T>): Promise<T> => {
      let done = false;
      const q = p.finally(() => { done = true; });
      q.catch(() => undefined);
      await runUntil(what, () => done);
      return q;
    };
    /** Type a command on the server and run until its next prompt; the new output. */
    const cmd = async (line: string): Promise<string> => {
      const before = server.text.length, prompts = count(server.text, PROMPT);
      server.type(`${line}\r`);
      await runUntil(`server: ${line}`, () => count(server.text, PROMPT) > prompts);
      return server.text.slice(before);
    };
    const ok = (out: string, what: string): Record<string, string> => {
      const r = parseMiniosConsole(out).results.find((x) => x.what === what);
      expect(r?.status, `${what}:\n${out}`).toBe('OK');
      return r!.fields; // SAFETY: checked just above
    };
    /** Free grant entries, and whether every page is ours (rx-flip buffers taken back). */
    const grantsFree = async (): Promise<{ free: number; total: number; pages: string }> => {
      const m = ok(await cmd('mem'), 'mem');
      const [free, total] = m.grants_free!.split('/').map(Number); // SAFETY: mem prints it
      return { free: free!, total: total!, pages: `${m.current_pages}/${m.nr_pages} flipped_out=${m.flipped_out}` }; // SAFETY: two numbers
    };
    const imageSectors = (start: number, n: number): Uint8Array => {
      const b = new Uint8Array(n * 512);
      const f = openSync(img, 'r');
      readSync(f, b, 0, b.length, start * 512);
      closeSync(f);
      return b;
    };

    await runUntil('both shells up', () => server.text.includes(PROMPT) && client.text.includes(PROMPT));
    const base = io.drivers.counts();
    expect(portsToDom0(io, server.domid)).toBe(2);
    const g0 = await grantsFree();
    expect(g0.free).toBe(g0.total - GNTTAB_NR_RESERVED_ENTRIES);
    expect(g0.pages).toBe('8192/8192 flipped_out=0');
    expect(server.text).toContain('blkfront: no block devices');

    const rounds = [{ vdev: 'xvdb', devid: 51728, vif: 0, mac: '00:16:3e:00:04:01' }, { vdev: 'xvdc', devid: 51744, vif: 1, mac: '00:16:3e:00:04:03' }];
    for (const [i, r] of rounds.entries()) {
      // Plug: the server's watches on device/vbd and device/vif pick the devices up.
      const vbd = io.drivers.attachVbd(server.domid, { target: img, vdev: r.vdev });
      const vif = io.drivers.attachVif(server.domid, { mac: r.mac, devid: r.vif });
      await settle(`round ${i}: backends connected`, Promise.all([vbd.connected, vif.connected]));
      expect(ok(await cmd('disk wait 30'), 'disk wait').node).toBe(`device/vbd/${r.devid}`);
      ok(await cmd('net wait 30'), 'net wait');
      expect(server.text).toContain(`mode=${mode}`);
      expect(portsToDom0(io, server.domid)).toBe(4);
      // The devices work: a pattern written and verified with its CRC, also in the image;
      // ping back to the client.
      const seed = 11 + i;
      const start = 1000 * i;
      expect(ok(await cmd(`disk write ${start} 256 ${seed}`), 'disk write').crc).toBe(diskPatternCrc(start, 256, seed).toString(16).padStart(8, '0'));
      expect(ok(await cmd(`disk verify ${start} 256 ${seed}`), 'disk verify').crc).toBe(diskPatternCrc(start, 256, seed).toString(16).padStart(8, '0'));
      expect(imageSectors(start + 255, 1)).toEqual(diskPatternSector(seed, start + 255));
      expect(ok(await cmd('ping 10.0.2.16 3'), 'ping 10.0.2.16').received).toBe('3');
      // The client's pings reach us again.
      const replies = count(client.text, 'PING reply from 10.0.2.15');
      await runUntil(`round ${i}: the client's pings answered`, () => count(client.text, 'PING reply from 10.0.2.15') > replies);

      // Unplug both while the server's disk benchmark and the client's pings run: the disk
      // with some of the benchmark's writes in flight.
      const prompts = count(server.text, PROMPT);
      server.type('disk bench write 30 128\r');
      const t0 = io.host.xen.time.now();
      await runUntil('bench running', () => io.host.xen.time.now() > t0 + 500e6);
      // Hold the image's writes, so the unplug finds the benchmark's requests in flight;
      // step the machine ourselves meanwhile (the run loop would wait for the file I/O),
      // until the guest has seen the unplug, then let the writes go: the guest's drain
      // collects their responses before it closes.
      HeldWrites.held = [];
      await runUntil('writes held', () => HeldWrites.held!.length > 0); // SAFETY: set just above
      const replies0 = count(client.text, 'PING reply from 10.0.2.15');
      const tDetach = io.host.xen.time.now();
      const vbdGone = io.drivers.detach(server.domid, 'vbd', r.devid);
      for (let k = 0; k < 5000 && !/BLK device\/vbd\/\d+: closing/.test(server.text.slice(-400)); k++) {
        await new Promise<void>((res) => setImmediate(res));
        io.host.step(1_000_000);
      }
      HeldWrites.release();
      await settle(`round ${i}: vbd detach (no forced teardown)`, vbdGone);
      await settle(`round ${i}: vif detach (no forced teardown)`, io.drivers.detach(server.domid, 'vif', r.vif));
      const detachMs = (io.host.xen.time.now() - tDetach) / 1e6;
      await runUntil('bench ends', () => count(server.text, PROMPT) > prompts);
      const out = server.text;
      const inflight = [...out.matchAll(/BLK device\/vbd\/\d+: closing \(backend state 5\), (\d+) requests in flight/g)].at(-1)?.[1];
      console.log(`round ${i}: vbd ${r.devid} + vif ${r.vif} unplugged in ${detachMs.toFixed(1)} virtual ms (${inflight ?? '?'} disk requests in flight at the unplug)`);
      expect(detachMs, 'the frontends closed well before libxl would force (10 s)').toBeLessThan(10_000);
      expect(Number(inflight), `requests in flight when the guest saw the unplug\n${out.slice(-1200)}`).toBeGreaterThan(0);
      expect(out).toMatch(new RegExp(`BLK device/vbd/${r.devid}: closed \\(backend (state 6|gone)\\) failed=0`));
      expect(out).toMatch(new RegExp(`NET device/vif/${r.vif}: closed \\(backend (state 6|gone)\\)`));
      expect(parseMiniosConsole(out.slice(out.lastIndexOf('disk bench write 30 128'))).results.find((x) => x.what === 'disk bench')?.status).toBe('FAIL');
      expect(replies0, 'pings were answered until the unplug').toBeGreaterThan(0);
      // The guest gave everything back; the backends, xenstore and the bridge are as before.
      expect(portsToDom0(io, server.domid)).toBe(2);
      expect(await grantsFree()).toEqual(g0);
      // (ramFrames is the backends' reusable frame pool: it grows with I/O, it is no leak.)
      expect(io.drivers.counts()).toMatchObject({ devices: base.devices, grantMappings: base.grantMappings, ports: base.ports });
      expect(io.drivers.errors).toEqual([]);
      expect(io.xs.tryRead(`/local/domain/0/backend/vbd/${server.domid}`)).toBeUndefined();
      expect(io.xs.tryRead(`/local/domain/0/backend/vif/${server.domid}`)).toBeUndefined();
      expect(io.xs.tryRead(`/local/domain/${server.domid}/device/vbd`)).toBeUndefined();
      expect(io.xs.tryRead(`/local/domain/${server.domid}/device/vif`)).toBeUndefined();
      expect(io.net!.bridge.ports.map((p) => p.name)).not.toContain(`vif${server.domid}.${r.vif}`);
      const info = ok(await cmd('disk info'), 'disk info');
      expect(info.connected).toBe('0');
      // Meanwhile the client's pings go unanswered.
      const noReply0 = count(client.text, 'PING no reply from 10.0.2.15');
      await runUntil('client pings unanswered', () => count(client.text, 'PING no reply from 10.0.2.15') > noReply0);
    }

    // Done: both power off cleanly; the client kept running throughout.
    expect(client.exited).toBe(false);
    server.type('poweroff\r');
    await runUntil('server off', () => server.exited);
    const pingsOk = count(client.text, 'PING reply from 10.0.2.15');
    expect(pingsOk).toBeGreaterThan(4);
    pumped = Number.MAX_SAFE_INTEGER;
    client.type('poweroff\r');
    await io.run(() => client.exited, { untilIdle: false, timeoutMs: 60_000 });
    expect(client.exited).toBe(true);
    io.teardown();
    expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
    expect(io.drivers.errors).toEqual([]);
    expect(auditMemory(io.host.xen)).toEqual([]);
  }, 300_000);
});
