/**
 * The gateway against a real TCP/IP stack: this machine's Linux kernel in a network
 * namespace, attached to xenbr0 through a TAP device (tools/net/tap_relay). The kernel gets
 * its address from our DHCP server (busybox udhcpc), pings the gateway, resolves a name
 * through the DNS forwarder (answered by a loopback test responder), moves megabytes both
 * ways over TCP through the relay to a loopback server, sends UDP datagrams that need IP
 * fragmentation both ways, and serves a port forwarded from the host.
 *
 * Skipped with the reason when not root or without /dev/net/tun (CI runs as root).
 * Only loopback and the namespace's own addresses are ever contacted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserNet, type UserNet } from '../../src/dom0/net/node_net.ts';
import { NetnsGuest, netnsUnavailable } from './netns_env.ts';
import { startDnsResponder, startTcpEcho, startUdpEcho } from './test_servers.ts';

const why = netnsUnavailable();
const hasUdhcpc = ((): boolean => { try { execFileSync('busybox', ['udhcpc', '--help'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (why) console.warn(`tests/net/netns.test.ts skipped: ${why}`);

const CLIENT = `
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
const [host, port, size] = process.argv.slice(2);
const data = randomBytes(Number(size));
const got = [];
let n = 0;
const t0 = process.hrtime.bigint();
const s = connect({ host, port: Number(port) }, () => { s.end(data); });
s.on('data', (d) => { got.push(d); n += d.length; });
s.on('end', () => {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const a = createHash('sha256').update(data).digest('hex');
  const b = createHash('sha256').update(Buffer.concat(got)).digest('hex');
  console.log(JSON.stringify({ sent: data.length, received: n, same: a === b, ms }));
});
s.on('error', (e) => { console.error(String(e)); process.exit(2); });
`;

const SERVER = `
import { createServer } from 'node:net';
const srv = createServer({ allowHalfOpen: true }, (c) => { c.on('error', () => c.destroy()); c.pipe(c); });
srv.listen(Number(process.argv[2]), '0.0.0.0', () => console.log('listening'));
`;

const UDP = `
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
const [host, port, size] = process.argv.slice(2);
const s = createSocket('udp4');
const data = randomBytes(Number(size));
const t = setTimeout(() => { console.error('no reply'); process.exit(2); }, 5000);
s.on('message', (m) => { clearTimeout(t); console.log(JSON.stringify({ len: m.length, same: Buffer.compare(m, data) === 0 })); s.close(); });
s.send(data, Number(port), host);
`;

const DHCP_SCRIPT = `#!/bin/sh
# udhcpc event script: configure what our DHCP server handed out, and record it.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    ip route add default via "$router" dev "$interface"
    echo "ip=$ip mask=$mask router=$router dns=$dns lease=$lease" > "$(dirname "$0")/lease"
    ;;
esac
exit 0
`;

describe.skipIf(why !== null)('gateway against the Linux TCP/IP stack in a network namespace', () => {
  let net: UserNet;
  let guest: NetnsGuest;
  let dir: string;
  let dns: Awaited<ReturnType<typeof startDnsResponder>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsxen-netns-'));
    writeFileSync(join(dir, 'client.mjs'), CLIENT);
    writeFileSync(join(dir, 'server.mjs'), SERVER);
    writeFileSync(join(dir, 'udp.mjs'), UDP);
    writeFileSync(join(dir, 'dhcp.sh'), DHCP_SCRIPT);
    chmodSync(join(dir, 'dhcp.sh'), 0o755);
    dns = await startDnsResponder([192, 0, 2, 44]);
    net = await createUserNet({ dnsUpstream: { ip: '127.0.0.1', port: dns.port } });
    guest = await NetnsGuest.create(net.bridge, 'gw');
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await guest?.close();
    net?.close();
    await dns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the kernel gets 10.0.2.15 from our DHCP server (static if no DHCP client is installed)', async () => {
    if (hasUdhcpc) {
      await guest.exec(['busybox', 'udhcpc', '-i', guest.ifname, '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', join(dir, 'dhcp.sh')], { timeoutMs: 20_000 });
      const lease = execFileSync('cat', [join(dir, 'lease')], { encoding: 'utf8' });
      expect(lease).toContain('ip=10.0.2.15 mask=24 router=10.0.2.2 dns=10.0.2.3');
      expect(net.gateway.dhcp.counters.acks).toBeGreaterThanOrEqual(1);
    } else {
      console.warn('busybox udhcpc not installed: configuring 10.0.2.15 statically');
      await guest.exec(['ip', 'addr', 'add', '10.0.2.15/24', 'dev', guest.ifname]);
      await guest.exec(['ip', 'route', 'add', 'default', 'via', '10.0.2.2']);
    }
    expect(await guest.exec(['ip', '-4', 'addr', 'show', 'dev', guest.ifname])).toContain('10.0.2.15/24');
  });

  it('pings the gateway and the DNS address', async () => {
    const out = await guest.exec(['busybox', 'ping', '-c', '3', '-W', '2', '10.0.2.2']);
    expect(out).toContain('3 packets received');
    expect(await guest.exec(['busybox', 'ping', '-c', '1', '-W', '2', '10.0.2.3'])).toContain('1 packets received');
  });

  it('resolves a name through the DNS forwarder', async () => {
    const out = await guest.exec(['busybox', 'nslookup', 'xen.example', '10.0.2.3']);
    expect(out).toContain('192.0.2.44');
    expect(dns.queries).toContain('xen.example');
  });

  it('moves 16 MiB each way over TCP through the relay to a loopback server, byte-exact', async () => {
    const echo = await startTcpEcho();
    try {
      const out = JSON.parse(await guest.exec([process.execPath, join(dir, 'client.mjs'), '10.0.2.2', String(echo.port), String(16 << 20)], { timeoutMs: 120_000 }));
      expect(out).toMatchObject({ sent: 16 << 20, received: 16 << 20, same: true });
      console.log(`netns TCP echo 16 MiB each way: ${out.ms.toFixed(0)} ms (${((2 * 8 * (16 << 20)) / (out.ms / 1000) / 1e6).toFixed(0)} Mbit/s both directions together)`);
    } finally {
      await echo.close();
    }
  });

  it('UDP datagrams that need fragmentation cross the gateway both ways', async () => {
    const echo = await startUdpEcho();
    try {
      for (const size of [100, 1472, 1473, 4000, 20000]) {
        const out = JSON.parse(await guest.exec([process.execPath, join(dir, 'udp.mjs'), '10.0.2.2', String(echo.port), String(size)]));
        expect(out, `size ${size}`).toEqual({ len: size, same: true });
      }
      expect(net.gateway.reassembly.counters.reassembled).toBeGreaterThanOrEqual(3);
    } finally {
      await echo.close();
    }
  });

  it('serves a host port forwarded into the namespace (host 127.0.0.1:N -> 10.0.2.15:8080)', async () => {
    const srv = spawn('ip', ['netns', 'exec', guest.ns, process.execPath, join(dir, 'server.mjs'), '8080'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(srv);
    await new Promise<void>((resolve) => srv.stdout!.on('data', (d) => { if (String(d).includes('listening')) resolve(); }));
    const port = await net.gateway.addForward({ proto: 'tcp', hostPort: 0, guestIp: '10.0.2.15', guestPort: 8080 });
    const data = randomBytes(4 << 20);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      const s = tcpConnect({ host: '127.0.0.1', port }, () => s.end(data));
      s.on('data', (d) => parts.push(d));
      s.on('end', () => resolve(Buffer.concat(parts)));
      s.on('error', reject);
    });
    expect(got.length).toBe(data.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    srv.kill('SIGKILL');
  });

  it('leaves no relay socket open once the flows are done', async () => {
    const t0 = Date.now();
    while (net.gateway.tcp.flowCount > 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(net.gateway.tcp.flows()).toEqual([]);
  });
});
