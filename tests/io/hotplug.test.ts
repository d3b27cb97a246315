/**
 * Hot plug and unplug while the guests run: a vbd and a vif of one domain are unplugged
 * (libxl's order: online 0, backend Closing, the frontend closes, directories removed) and
 * plugged in again, while two minios guests keep traffic going on xenbr0; nothing leaks
 * and the replugged devices work. Here the unplugged domain's frontends are the TypeScript
 * ones (bench/blk_tsfront.ts, vif_tsfront.ts: the backends against a second frontend
 * implementation, from a native domain); hotplug_minios.test.ts does the same with minios
 * frontends. A guest that cannot answer (paused) is torn down by force after a timeout,
 * and copes when it runs again.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditMemory } from '../../src/xen/audit.ts';
import { parseMiniosConsole } from '../minios/console_log.ts';
import { IoHost } from '../../bench/blk_io_host.ts';
import { NativeDomU } from '../../bench/blk_native_domu.ts';
import { TsBlkfront } from '../../bench/blk_tsfront.ts';
import { TsNetfront } from '../../bench/vif_tsfront.ts';

const GUESTS = new URL('../../guests/', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  execFileSync('make', ['-s', '-C', GUESTS, 'minios'], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'tsxen-hotplug-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function image(name: string, mib: number): string {
  const p = join(dir, name);
  const fd = openSync(p, 'w');
  ftruncateSync(fd, mib * 1024 * 1024);
  closeSync(fd);
  return p;
}

/** An ARP request for `ip` from `mac`. */
function arpWhoHas(mac: number[], myIp: number[], ip: number[]): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(mac, 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
  f.set(mac, 22);
  f.set(myIp, 28);
  f.set(ip, 38);
  return f;
}

describe('hot plug', () => {
  it('a vbd and a vif unplugged and replugged while minios guests keep their traffic going', async () => {
    const io = await IoHost.withNet();
    const img = image('hot.img', 8);
    const server = io.create({
      name: 'server', vifs: [{ mac: '00:16:3e:00:02:01' }], disks: [{ target: image('srv.img', 8), vdev: 'xvda' }],
      extra: 'ip=10.0.2.15 gw=10.0.2.2 cmd="net serve 120"',
    });
    const client = io.create({
      name: 'client', vifs: [{ mac: '00:16:3e:00:02:02' }],
      extra: 'ip=10.0.2.16 gw=10.0.2.2 cmd="sleep 100ms; udp echo 10.0.2.15 7 4000 200; ping 10.0.2.15 10"',
    });
    const dom = new NativeDomU(io, 'hotplug');
    const mac = [0x00, 0x16, 0x3e, 0x00, 0x02, 0x03];
    const plug = async (round: number): Promise<{ blk: TsBlkfront; net: TsNetfront }> => {
      io.drivers.attachVbd(dom.domid, { target: img, vdev: 'xvdb' });
      io.drivers.attachVif(dom.domid, { mac: '00:16:3e:00:02:03', devid: 0 });
      const blk = new TsBlkfront(dom, 51728);
      const net = new TsNetfront(dom, 0);
      await io.until(Promise.all([blk.connect(), net.connect()]));
      // The devices work: data to the image and back, an ARP answer from the server.
      const data = new Uint8Array(8 * 4096).fill(0x40 + round);
      expect(await io.until(blk.write(round * 64, data))).toBe(0);
      const back = await io.until(blk.read(round * 64, 64));
      expect(back).toEqual(data);
      net.send(arpWhoHas(mac, [10, 0, 2, 30], [10, 0, 2, 15]));
      await io.run(() => net.received.some((f) => f[12] === 0x08 && f[13] === 0x06 && f[21] === 2), { untilIdle: false, timeoutMs: 20_000 });
      return { blk, net };
    };
    await io.run(() => client.text.includes('> udp echo'), { timeoutMs: 60_000 });
    const base = io.drivers.counts();
    for (let round = 0; round < 2; round++) {
      const { blk, net } = await plug(round);
      expect(io.drivers.counts().devices).toBe(base.devices + 2);
      // Unplug both; the frontends close; the directories go.
      await io.until(Promise.all([io.drivers.detach(dom.domid, 'vbd', 51728), io.drivers.detach(dom.domid, 'vif', 0)]));
      expect(blk.closed && net.closed).toBe(true);
      expect(blk.leakedGrants + net.leakedGrants).toBe(0);
      expect(io.xs.tryRead(`/local/domain/0/backend/vbd/${dom.domid}`)).toBeUndefined();
      expect(io.xs.tryRead(`/local/domain/${dom.domid}/device/vbd`)).toBeUndefined();
      // (ramFrames is the backends' reusable frame pool: it may grow with traffic; no leak.)
      expect(io.drivers.counts(), JSON.stringify({ base })).toMatchObject({ devices: base.devices, grantMappings: base.grantMappings, ports: base.ports });
      expect(io.net!.bridge.ports.map((p) => p.name)).not.toContain(`vif${dom.domid}.0`);
    }
    expect(client.exited).toBe(false);
    expect(readFileSync(img).subarray(0, 8 * 4096).every((b) => b === 0x40)).toBe(true);
    await io.run(() => client.exited, { timeoutMs: 120_000 });
    const run = parseMiniosConsole(client.text);
    expect(run.verdict, client.text.slice(-1500)).toBe('SUCCESS');
    dom.destroy();
    io.destroy(server);
    io.teardown();
    expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
    expect(auditMemory(io.host.xen)).toEqual([]);
  });

  it('a paused minios guest loses a disk to the forced teardown; unpaused, it notices, gives its grants back, its other disk works on', async () => {
    const io = new IoHost();
    const a = image('a.img', 8), b = image('b.img', 8);
    const g = io.create({
      name: 'stubborn', disks: [{ target: a, vdev: 'xvda' }, { target: b, vdev: 'xvdb' }],
      extra: 'cmd="disk use 1; disk write 0 16 1; disk use 0; disk write 0 2000 2; disk use 1; disk verify 0 16 1; disk use 0; disk write 0 8 3; mem"',
    });
    await io.run(() => g.text.includes('> disk write 0 2000 2'), { timeoutMs: 60_000 });
    const before = io.drivers.counts();
    // A guest that cannot answer (paused) is torn down by force after the timeout.
    expect(io.host.xc.pauseDomain(g.domid)).toBe(0);
    // (Nothing of the machine needs to run meanwhile: the guest is paused, xenstored and the
    // backends are host code.)
    await io.drivers.detach(g.domid, 'vbd', 51712, { timeoutMs: 300 });
    expect(io.drivers.counts()).toMatchObject({ devices: before.devices - 1 });
    expect(io.xs.tryRead(`/local/domain/${g.domid}/device/vbd/51712`)).toBeUndefined();
    expect(io.host.xc.unpauseDomain(g.domid)).toBe(0);
    await io.runAll();
    const run = parseMiniosConsole(g.text);
    // The guest saw the backend gone: no handshake left to do, its requests failed, the
    // grants came back (only the other disk's ring remains granted); the other disk
    // kept working and the unplugged one's later I/O fails.
    expect(g.text).toMatch(/BLK device\/vbd\/51712: closing \((backend gone|directory removed)\)/);
    expect(g.text).toMatch(/BLK device\/vbd\/51712: closed \(backend gone\)/);
    expect(run.results.find((r) => r.what === 'disk verify')?.status).toBe('OK');
    expect(run.results.filter((r) => r.what === 'disk write').map((r) => r.status)).toEqual(['OK', 'FAIL', 'FAIL']);
    const [free, total] = run.results.find((r) => r.what === 'mem')!.fields.grants_free!.split('/').map(Number); // SAFETY: mem ran last
    expect(total! - 8 - free!).toBe(2); // SAFETY: two numbers; xvdb's 2-page ring
    expect(io.xs.tryRead(`/local/domain/${g.domid}/device/vbd/51712`), 'no state node written into the removed directory').toBeUndefined();
    io.teardown();
    expect(io.drivers.counts()).toMatchObject({ devices: 0, grantMappings: 0, ports: 0 });
    expect(auditMemory(io.host.xen)).toEqual([]);
  });
});
