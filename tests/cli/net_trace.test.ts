/**
 * `tsxen net-trace` against a spawned host daemon: three minios guests on xenbr0, one
 * serving, one pinging it, one pinging the gateway. The stream must show one ICMP echo's
 * whole path in order — the event, the tx ring slot, netback-tx, the bridge, then netback-rx
 * and the rx ring slot of the other guest (or the gateway for the uplink) — the FILTER must
 * hold, and the trace must be on exactly while a client follows it: off again after the
 * client ends by count, by Ctrl-C and by being killed.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, eventually, MINIOS, TestHost } from './xl_host.ts';

const h = new TestHost();

interface Rec { seq: number; tNs: number; stage: string; where: string; text: string }
interface Status { enabled: boolean; followers: number; nextSeq: number; dropped: number }

function guest(name: string, mac: string, ip: string, cmd: string): string {
  return h.cfg(name, [
    `name = "${name}"`, `kernel = "${MINIOS}"`, 'memory = 32',
    `vif = [ 'mac=${mac}, bridge=xenbr0' ]`, `extra = "ip=${ip} gw=10.0.2.2 cmd=\\"${cmd}\\""`, '',
  ].join('\n'));
}

function status(): Status {
  const r = h.xl('net-trace', '--status', '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
}

function traceRecords(...args: string[]): Rec[] {
  const r = h.xl('net-trace', '--json', ...args);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec);
}

/**
 * The first run of `path` (stage@where, in seq order) among the records of frames whose text
 * starts with `frame`; the whole run of one packet (an echo every 200 ms: the records of one
 * request are not interleaved with the next one's).
 */
function findPath(recs: readonly Rec[], frame: string, path: readonly string[]): Rec[] | null {
  const mine = recs.filter((r) => r.text.startsWith(frame));
  for (let i = 0; i + path.length <= mine.length; i++) {
    const run = mine.slice(i, i + path.length);
    if (run.every((r, k) => `${r.stage}@${r.where}` === path[k])) return run;
  }
  return null;
}

beforeAll(async () => {
  await h.start('--memory', '192');
  const cfgs = [
    guest('ntsrv', '00:16:3e:7e:00:01', '10.0.2.41', 'net serve 900'),
    guest('ntcli', '00:16:3e:7e:00:02', '10.0.2.42', 'ping 10.0.2.41 100000'),
    guest('ntgw', '00:16:3e:7e:00:03', '10.0.2.43', 'ping 10.0.2.2 100000'),
  ];
  for (const c of cfgs) expect(h.xl('create', c)).toMatchObject({ status: 0 });
  await eventually(() => /PING reply from 10\.0\.2\.41 /.test(h.xl('console', '--dump', 'ntcli').stdout), 'ntcli to get replies');
  await eventually(() => /PING reply from 10\.0\.2\.2 /.test(h.xl('console', '--dump', 'ntgw').stdout), 'ntgw to get replies');
}, 180_000);

afterAll(async () => {
  await h.stop();
});

describe('tsxen net-trace', () => {
  it('is off while nobody follows it', () => {
    const s = status();
    expect(s).toMatchObject({ enabled: false, followers: 0 });
    expect(h.xl('net-trace', '--help').stdout).toContain("(tsxen's own command; xl has none.)");
    expect(h.xl('net-trace', '-n', '0')).toMatchObject({ status: 2 });
    expect(h.xl('net-trace', 'a', 'b')).toMatchObject({ status: 2 });
  });

  it('shows a guest-to-guest echo request from netfront through the ring, netback and the bridge into the other guest', () => {
    const srv = `vif${h.xl('domid', 'ntsrv').stdout.trim()}.0`, cli = `vif${h.xl('domid', 'ntcli').stdout.trim()}.0`;
    const recs = traceRecords('-n', '60', '10.0.2.42');
    expect(recs).toHaveLength(60);
    for (const r of recs) expect(`${r.where} ${r.text}`).toContain('10.0.2.42');
    for (let i = 1; i < recs.length; i++) {
      expect(recs[i]!.seq).toBeGreaterThan(recs[i - 1]!.seq);
      expect(recs[i]!.tNs).toBeGreaterThanOrEqual(recs[i - 1]!.tNs);
    }
    const req = findPath(recs, '10.0.2.42 > 10.0.2.41 ICMP type 8', [
      `event@${cli}`, `ring@${cli}`, `netback-tx@${cli}`, `bridge-in@${cli}`, `bridge-out@${srv}`, `netback-rx@${srv}`, `ring@${srv}`,
    ]);
    expect(req, JSON.stringify(recs, null, 1)).not.toBeNull();
    expect(req![0]!.text).toMatch(/netfront d\d+ notified evtchn \d+/);
    expect(req![1]!.text).toMatch(/tx slot \d+ id \d+ gref \d+ size 98/);
    expect(req![5]!.text).toMatch(/GNTTABOP_copy into gref \d+/);
    expect(req![6]!.text).toMatch(/rx slot \d+ id \d+ status 98, notify evtchn \d+/);
    const reply = findPath(recs, '10.0.2.41 > 10.0.2.42 ICMP type 0', [
      `ring@${srv}`, `netback-tx@${srv}`, `bridge-in@${srv}`, `bridge-out@${cli}`, `netback-rx@${cli}`, `ring@${cli}`,
    ]);
    expect(reply, JSON.stringify(recs, null, 1)).not.toBeNull();
    expect(status()).toMatchObject({ enabled: false, followers: 0 });
  }, 60_000);

  it('shows the uplink: a ping to the gateway leaves through the bridge into the gateway and comes back', () => {
    const gw = `vif${h.xl('domid', 'ntgw').stdout.trim()}.0`;
    const r = h.xl('net-trace', '-n', '60', '10.0.2.43');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(60);
    for (const l of lines) expect(l).toMatch(/^t= +\d+\.\d{6} ms {2}\S+ +\S+ +.*10\.0\.2\.43/);
    const recs = traceRecords('-n', '60', '10.0.2.43');
    expect(findPath(recs, '10.0.2.43 > 10.0.2.2 ICMP type 8', [
      `ring@${gw}`, `netback-tx@${gw}`, `bridge-in@${gw}`, 'bridge-out@gateway', 'gateway-in@gateway',
    ]), JSON.stringify(recs, null, 1)).not.toBeNull();
    expect(findPath(recs, '10.0.2.2 > 10.0.2.43 ICMP type 0', [
      'gateway-out@gateway', 'bridge-in@gateway', `bridge-out@${gw}`, `netback-rx@${gw}`, `ring@${gw}`,
    ]), JSON.stringify(recs, null, 1)).not.toBeNull();
    expect(status()).toMatchObject({ enabled: false, followers: 0 });
  }, 60_000);

  it('a place filter keeps that vif only; the trace stays on while followers remain and goes off after Ctrl-C and a kill', async () => {
    const srv = `vif${h.xl('domid', 'ntsrv').stdout.trim()}.0`;
    for (const r of traceRecords('-n', '10', srv)) expect(`${r.where} ${r.text}`).toContain(srv);

    const follow = (): { out: () => string; proc: ReturnType<typeof spawn> } => {
      const proc = spawn(process.execPath, [BIN, 'net-trace', srv], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout!.on('data', (d) => (out += String(d))); // piped above
      return { out: () => out, proc };
    };
    const a = follow(), b = follow();
    await eventually(() => status().followers === 2, 'two followers');
    expect(status().enabled).toBe(true);
    await eventually(() => a.out().includes(srv) && b.out().includes(srv), 'both followers to print records');
    const aExit = new Promise<number | null>((r) => a.proc.once('exit', (code) => r(code)));
    a.proc.kill('SIGINT');
    expect(await aExit).toBe(0);
    await eventually(() => status().followers === 1, 'one follower left');
    expect(status().enabled).toBe(true);
    const bExit = new Promise((r) => b.proc.once('exit', r));
    b.proc.kill('SIGKILL'); // a client that disappears without cancelling
    await bExit;
    await eventually(() => status().followers === 0, 'no follower left');
    const s = status();
    expect(s.enabled).toBe(false);
    await new Promise((r) => setTimeout(r, 600)); // pings go on (200 ms apart): nothing is recorded any more
    expect(status().nextSeq).toBe(s.nextSeq);
  }, 90_000);
});
