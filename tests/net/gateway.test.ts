/**
 * The user-mode gateway end to end on real host sockets (loopback only): a TS guest stack on
 * xenbr0 gets an address by DHCP, pings, resolves through the DNS forwarder, relays UDP and
 * TCP to loopback servers, is reached through port forwards, and cannot exhaust dom0
 * (per-guest limits, no leaked sockets, hostile frames absorbed).
 */
import { connect as tcpConnect } from 'node:net';
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ipv4ToString, parseIpv4, parseMac, readIpv4 } from '../../src/dom0/net/addr.ts';
import { createUserNet, NodeTimerDriver, type UserNet } from '../../src/dom0/net/node_net.ts';
import { TimerQueue } from '../../src/dom0/net/timers.ts';
import { DEFAULT_TCP_CONFIG } from '../../src/dom0/net/tcp_conn.ts';
import type { GatewayConfig } from '../../src/dom0/net/gateway.ts';
import { DNS, GuestStack, GW } from '../../src/dom0/net/guest_stack.ts';
import { SeededRng, seedFromEnv } from './seeded_rng.ts';
import { dnsQuery, startDnsResponder, startTcpEcho, startUdpEcho } from './test_servers.ts';

let net: UserNet;
let guest: GuestStack;
let guestDriver: NodeTimerDriver;
let dns: Awaited<ReturnType<typeof startDnsResponder>>;

async function setup(cfg: GatewayConfig = {}): Promise<void> {
  dns = await startDnsResponder([192, 0, 2, 44]);
  net = await createUserNet({ dnsUpstream: { ip: '127.0.0.1', port: dns.port }, ...cfg });
  const timers = new TimerQueue();
  guestDriver = new NodeTimerDriver(net.clock, timers);
  guest = new GuestStack(parseMac('52:54:00:12:34:56'), net.clock, timers).attach(net.bridge);
}

async function waitFor(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

describe('user-mode gateway', () => {
  beforeEach(async () => setup());
  afterEach(async () => {
    net.close();
    guestDriver.stop();
    await dns.close();
    await waitFor(() => net.host.openSockets === 0, 10_000, 'all host sockets closed');
  });

  it('DHCP leases 10.0.2.15 per MAC, ARP answers for the gateway, ping to the gateway echoes', async () => {
    expect(ipv4ToString(await guest.dhcp())).toBe('10.0.2.15');
    expect(ipv4ToString(await guest.dhcp())).toBe('10.0.2.15'); // same MAC, same address
    const second = new GuestStack(parseMac('52:54:00:00:00:02'), net.clock, new TimerQueue(), 'vif2').attach(net.bridge);
    expect(ipv4ToString(await second.dhcp())).toBe('10.0.2.16');
    await guest.resolveGateway();
    expect(guest.gwMac).toBe(net.gateway.mac);
    const payload = new SeededRng(1).bytes(56);
    guest.ping(GW, 7, 1, payload);
    guest.ping(DNS, 7, 2, payload);
    await guest.until(() => guest.icmpIn.length >= 2, 10_000, 'echo replies');
    expect(guest.icmpIn.map((m) => [ipv4ToString(m.src), m.type, m.data[7]])).toEqual([['10.0.2.2', 0, 1], ['10.0.2.3', 0, 2]]);
    expect(sameBytes(guest.icmpIn[0].data.subarray(8), payload)).toBe(true);
    // Outside addresses: Node has no ICMP socket, so the gateway says so at once.
    guest.ping(parseIpv4('192.0.2.1'), 7, 3, payload);
    await guest.until(() => guest.icmpIn.length >= 3, 10_000, 'unreachable');
    expect([guest.icmpIn[2].type, guest.icmpIn[2].code]).toEqual([3, 13]);
    expect(net.host.openSockets).toBe(0);
  });

  it('guests talk to each other directly over xenbr0; the gateway ignores flooded frames for others', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const b = new GuestStack(parseMac('52:54:00:00:00:0b'), net.clock, new TimerQueue(), 'vif2.0').attach(net.bridge);
    await b.dhcp(); // 10.0.2.16
    b.listen(7000, (c) => c.waiters.push(function echo() { if (c.received > 0) { c.conn.send(c.data()); c.conn.close(); } else c.waiters.push(echo); }));
    guest.gwMac = b.mac; // this test's stack sends everything to "the gateway" MAC: point it at B
    const c = guest.connect(b.ip, 7000);
    await c.until(() => c.established, 10_000, 'guest-to-guest connection');
    c.conn.send(new TextEncoder().encode('neighbour'));
    await c.until(() => c.peerFin, 10_000, 'echo and close');
    expect(new TextDecoder().decode(c.data())).toBe('neighbour');
    expect(net.gateway.tcp.flowCount).toBe(0);
    expect(net.gateway.tcp.counters.strays).toBe(0);
    // A frame for a MAC nobody has floods to every port; the gateway must not answer it.
    // B's leased address used from A's MAC: refused, so B's flows and ARP entry stay B's.
    const spoofed = net.gateway.counters.spoofed;
    guest.gwMac = net.gateway.mac;
    const myIp = guest.ip;
    guest.ip = b.ip;
    guest.ping(GW, 1, 1, new Uint8Array(8));
    guest.ip = myIp;
    expect(net.gateway.counters.spoofed).toBe(spoofed + 1);
    expect(net.gateway.arpTable()).toContainEqual({ ip: '10.0.2.16', mac: '52:54:00:00:00:0b' });
    const stranger = new GuestStack(parseMac('52:54:00:00:00:0c'), net.clock, new TimerQueue(), 'vif3.0').attach(net.bridge);
    stranger.ip = parseIpv4('10.0.2.30');
    stranger.gwMac = parseMac('52:54:00:00:00:99'); // a MAC nobody has: flooded everywhere
    const resets = guest.rawIn.length;
    stranger.sendTcp(parseIpv4('10.0.2.99'), 1234, 80, null, 0x02, 1, 0, 1000, 1460, -1, 0, 0);
    expect(net.gateway.counters.notForUs).toBeGreaterThan(0);
    expect(stranger.rawIn.length).toBe(0); // no RST from the gateway
    expect(guest.rawIn.length).toBe(resets + 1); // the flood reached the other guest, nothing else came back
  });

  it('relays UDP to the host loopback as 10.0.2.2 and forwards DNS to the host resolver', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startUdpEcho();
    try {
      const msg = new TextEncoder().encode('hello through the gateway');
      guest.sendUdp(GW, 5000, echo.port, msg);
      await guest.until(() => guest.udpIn.length > 0, 10_000, 'udp echo');
      expect(ipv4ToString(guest.udpIn[0].src)).toBe('10.0.2.2');
      expect([guest.udpIn[0].sport, guest.udpIn[0].dport]).toEqual([echo.port, 5000]);
      expect(new TextDecoder().decode(guest.udpIn[0].data)).toBe('hello through the gateway');
      guest.sendUdp(DNS, 5001, 53, dnsQuery(0x4242, 'xen.example'));
      await guest.until(() => guest.udpIn.length > 1, 10_000, 'dns answer');
      const r = guest.udpIn[1];
      expect([ipv4ToString(r.src), r.sport]).toEqual(['10.0.2.3', 53]);
      expect(ipv4ToString(readIpv4(r.data, r.data.length - 4))).toBe('192.0.2.44');
      expect(dns.queries).toEqual(['xen.example']);
      expect(net.gateway.udp.flowCount).toBe(2);
    } finally {
      await echo.close();
    }
  });

  it('relays TCP both ways with large transfers, then closes cleanly with no socket left', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    try {
      const c = guest.connect(GW, echo.port);
      await c.until(() => c.established, 10_000, 'established');
      const data = new SeededRng(seedFromEnv(5)).bytes(3 * 1024 * 1024);
      const sending = c.sendAll(data);
      await c.until(() => c.received >= data.length, 60_000, 'echoed data');
      await sending;
      expect(sameBytes(c.data(), data)).toBe(true);
      c.conn.close();
      await c.until(() => c.peerFin, 10_000, 'FIN from the relay');
      await waitFor(() => net.gateway.tcp.flowCount === 0, 5000, 'gateway flow closed');
      await waitFor(() => net.host.openSockets === 0, 10_000, 'relay socket closed');
      expect(echo.accepted).toBe(1);
    } finally {
      await echo.close();
    }
  });

  it('answers a connect to a closed host port with RST', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const srv = await startTcpEcho();
    const port = srv.port;
    await srv.close(); // now nothing listens there
    const c = guest.connect(GW, port);
    await c.until(() => c.closed !== null, 10_000, 'refusal');
    expect(c.closed).toBe('refused');
    expect(net.gateway.tcp.counters.refused).toBe(1);
    expect(net.gateway.tcp.flowCount).toBe(0);
  });

  it('forwards a host TCP port and a host UDP port into the guest', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    guest.listen(8080, (c) => {
      c.waiters.push(function echo() { if (c.received > 0) { c.conn.send(c.data()); c.conn.close(); } else c.waiters.push(echo); });
    });
    const tport = await net.gateway.addForward({ proto: 'tcp', hostPort: 0, guestIp: '10.0.2.15', guestPort: 8080 });
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tcpConnect({ host: '127.0.0.1', port: tport }, () => s.write('ping over a forward'));
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      s.on('end', () => { s.end(); resolve(got); });
      s.on('error', reject);
    });
    expect(reply).toBe('ping over a forward');
    const uport = await net.gateway.addForward({ proto: 'udp', hostPort: 0, guestIp: '10.0.2.15', guestPort: 5353 });
    const h = createSocket('udp4');
    try {
      const answer = new Promise<string>((resolve) => h.on('message', (m) => resolve(m.toString())));
      h.send('udp in', uport, '127.0.0.1');
      await guest.until(() => guest.udpIn.some((u) => u.dport === 5353), 10_000, 'forwarded datagram');
      const d = guest.udpIn.find((u) => u.dport === 5353)!;
      expect(ipv4ToString(d.src)).toBe('10.0.2.2');
      guest.sendUdp(GW, 5353, d.sport, new TextEncoder().encode('udp out'));
      expect(await answer).toBe('udp out');
    } finally {
      h.close();
    }
  });

  it('forwards to a statically configured guest, finding it by ARP', async () => {
    guest.ip = parseIpv4('10.0.2.40'); // no DHCP lease: the gateway must ask who has it
    await guest.resolveGateway();
    guest.listen(9000, (c) => c.waiters.push(function echo() { if (c.received > 0) { c.conn.send(c.data()); c.conn.close(); } else c.waiters.push(echo); }));
    const port = await net.gateway.addForward({ proto: 'tcp', hostPort: 0, guestIp: '10.0.2.40', guestPort: 9000 });
    net.gateway.detachGuest(guest.mac); // forget what the ARP request above taught it
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tcpConnect({ host: '127.0.0.1', port }, () => s.write('arp first'));
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      s.on('end', () => { s.end(); resolve(got); });
      s.on('error', reject);
    });
    expect(reply).toBe('arp first');
    expect(net.gateway.arpTable()).toContainEqual({ ip: '10.0.2.40', mac: '52:54:00:12:34:56' });
  });

  it('survives connection churn: 1000 short connections, every flow and socket released', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    try {
      for (let batch = 0; batch < 10; batch++) {
        const conns = Array.from({ length: 100 }, () => guest.connect(GW, echo.port));
        await Promise.all(conns.map(async (c) => {
          await c.until(() => c.established, 5000, 'established');
          c.conn.send(new Uint8Array([batch]));
          await c.until(() => c.received === 1, 5000, 'echo');
          c.conn.close();
          await c.until(() => c.peerFin, 5000, 'FIN');
        }));
      }
      await waitFor(() => net.gateway.tcp.flowCount === 0, 5000, 'flows released');
      await waitFor(() => net.host.openSockets === 0, 5000, 'sockets released');
      expect(echo.accepted).toBe(1000);
      expect(net.gateway.tcp.counters.opened).toBe(1000);
    } finally {
      await echo.close();
    }
  }, 60_000);

  it('the packet trace follows a connection through bridge, gateway and socket', async () => {
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    try {
      net.trace.enabled = true;
      const c = guest.connect(GW, echo.port);
      await c.until(() => c.established, 10_000, 'established');
      c.conn.send(new TextEncoder().encode('traced'));
      await c.until(() => c.received === 6, 10_000, 'echo');
      net.trace.enabled = false;
      const dump = net.trace.dump(`:${c.localPort}`);
      for (const stage of ['bridge-in', 'bridge-out', 'gateway-in', 'gateway-out']) expect(dump).toContain(stage);
      const all = net.trace.dump();
      expect(all).toMatch(/gateway-nat +tcp +10\.0\.2\.15:\d+ -> 127\.0\.0\.1:\d+ connect/);
      expect(all).toMatch(/socket-write +tcp .* 6B/);
      expect(all).toMatch(/socket-read +tcp .* 6B/);
      c.conn.abort();
    } finally {
      await echo.close();
    }
  });
});

describe('user-mode gateway limits and hostile guests', () => {
  afterEach(async () => {
    net.close();
    guestDriver.stop();
    await dns.close();
    await waitFor(() => net.host.openSockets === 0, 5000, 'all host sockets closed');
  });

  it('caps TCP flows per guest (RST past the cap) and releases them all on close', async () => {
    await setup({ limits: { tcpPerGuest: 20 } });
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    try {
      const conns = Array.from({ length: 30 }, () => guest.connect(GW, echo.port));
      await waitFor(() => conns.every((c) => c.established || c.closed !== null), 5000, 'all settled');
      expect(conns.filter((c) => c.established).length).toBe(20);
      expect(conns.filter((c) => c.closed === 'refused').length).toBe(10);
      expect(net.gateway.usage(guest.mac).tcp).toBe(20);
      expect(net.gateway.tcp.counters.limited).toBe(10);
      for (const c of conns) if (c.established) c.conn.close();
      await waitFor(() => net.gateway.tcp.flowCount === 0, 5000, 'flows released');
      expect(net.gateway.usage(guest.mac).tcp).toBe(0);
    } finally {
      await echo.close();
    }
  });

  it('a SYN flood that never completes costs bounded sockets, all reclaimed by the retry limit', async () => {
    await setup({ tcp: { ...DEFAULT_TCP_CONFIG, initialRtoNs: 50e6, minRtoNs: 50e6, maxRetries: 2 } });
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    try {
      // Raw SYNs from 2000 source ports; the guest never answers the SYN-ACKs.
      for (let i = 0; i < 2000; i++) guest.sendTcp(GW, 10000 + i, echo.port, null, 0x02, i * 7919, 0, 65535, 1460, -1, 0, 0);
      expect(net.gateway.tcp.flowCount).toBeLessThanOrEqual(256);
      expect(net.gateway.tcp.counters.limited).toBe(2000 - 256);
      await waitFor(() => net.gateway.tcp.flowCount === 0, 15_000, 'half-open flows to time out');
      await waitFor(() => net.host.openSockets === 0, 5000, 'every relay socket closed');
    } finally {
      await echo.close();
    }
  });

  it('absorbs seeded malformed frames (truncations, bad lengths, bad checksums, fragment floods) and keeps working', async () => {
    await setup();
    await guest.dhcp();
    await guest.resolveGateway();
    const seed = seedFromEnv(2024);
    const rng = new SeededRng(seed);
    // Valid templates to mutate: ping, UDP to the echo port, a TCP SYN, ARP, DHCP.
    const templates: Uint8Array[] = [];
    const capture = (fn: () => void): void => {
      const h = guest.handle!;
      const orig = h.send.bind(h);
      // SAFETY: a test-only interposer on the handle's send to record one frame.
      (h as { send: (f: Uint8Array) => void }).send = (f) => { templates.push(f.slice()); };
      try { fn(); } finally { (h as { send: (f: Uint8Array) => void }).send = orig; }
    };
    capture(() => guest.ping(GW, 1, 1, rng.bytes(40)));
    capture(() => guest.sendUdp(GW, 6000, 9, rng.bytes(30)));
    capture(() => guest.sendTcp(GW, 7000, 9, null, 0x02, 1, 0, 1000, 1460, 7, 0, 0));
    capture(() => guest.sendUdp(DNS, 6001, 53, dnsQuery(1, 'a.b')));
    let thrown = 0;
    for (let i = 0; i < 20_000; i++) {
      const t = templates[rng.int(templates.length)];
      let f: Uint8Array = t.slice();
      switch (rng.int(5)) {
        case 0: f = f.subarray(0, rng.int(f.length)); break; // truncation
        case 1: f[14 + rng.int(Math.min(40, f.length - 14))] ^= 1 << rng.int(8); break; // bit flip (bad checksum or bad field)
        case 2: f[16] = rng.int(256); f[17] = rng.int(256); break; // IP total length
        case 3: { // fragment: MF and a random offset, fixed-up header checksum so it gets to reassembly
          f[18] = rng.int(256); f[19] = rng.int(256); // a new datagram id each time: a flood of partial datagrams
          f[20] = 0x20 | rng.int(32); f[21] = rng.int(256); f[24] = 0; f[25] = 0;
          let s = 0;
          for (let k = 14; k < 34; k += 2) s += (f[k] << 8) | f[k + 1];
          while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
          f[24] = (~s >> 8) & 0xff; f[25] = ~s & 0xff;
          break;
        }
        default: f = rng.bytes(12 + rng.int(120)); f.set(t.subarray(0, 12)); break; // random body after valid MACs
      }
      try { guest.send(f); } catch { thrown++; }
    }
    expect(thrown, `seed ${seed}`).toBe(0);
    const g = net.gateway.counters;
    expect(Object.values(g.ipv4Errors).reduce((a, b) => a + b, 0), `seed ${seed}`).toBeGreaterThan(1000);
    expect(net.gateway.reassembly.pending).toBeLessThanOrEqual(8);
    expect(net.gateway.reassembly.counters.limit).toBeGreaterThan(0);
    // Still serving.
    guest.icmpIn.length = 0;
    guest.ping(GW, 9, 9, new Uint8Array(8));
    await guest.until(() => guest.icmpIn.some((m) => m.type === 0 && m.data[7] === 9), 10_000, 'ping after the storm');
  });

  it('caps UDP flows per guest and closes idle flows with their sockets', async () => {
    await setup({ limits: { udpPerGuest: 50 }, udpIdleNs: 300e6 });
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startUdpEcho();
    try {
      for (let i = 0; i < 80; i++) guest.sendUdp(GW, 20000 + i, echo.port, new Uint8Array([i]));
      expect(net.gateway.udp.flowCount).toBe(50);
      expect(net.gateway.udp.counters.limited).toBe(30);
      expect(net.gateway.usage(guest.mac).udp).toBe(50);
      await guest.until(() => guest.udpIn.length === 50, 10_000, 'echoes of the admitted flows');
      await waitFor(() => net.gateway.udp.flowCount === 0, 5000, 'idle flows to expire');
      await waitFor(() => net.host.openSockets === 0, 10_000, 'their sockets closed');
      expect(net.gateway.usage(guest.mac).udp).toBe(0);
    } finally {
      await echo.close();
    }
  });

  it('survives TCP state abuse: seeded random segments on live, closing and unknown connections', async () => {
    await setup({ limits: { tcpPerGuest: 64 } });
    await guest.dhcp();
    await guest.resolveGateway();
    const echo = await startTcpEcho();
    const seed = seedFromEnv(606);
    const rng = new SeededRng(seed);
    try {
      const conns = Array.from({ length: 8 }, () => guest.connect(GW, echo.port));
      await waitFor(() => conns.every((c) => c.established), 10_000, 'established');
      conns[0].conn.close(); // one half-closed
      for (let i = 0; i < 20_000; i++) {
        const c = conns[rng.int(conns.length)];
        const sport = rng.next() < 0.8 ? c.localPort : 30000 + rng.int(100);
        const flags = rng.int(64);
        const seq = rng.next() < 0.5 ? (c.conn.sndNxt + rng.int(400_000) - 200_000) >>> 0 : rng.u32();
        const ack = rng.next() < 0.5 ? (c.conn.rcvNxt + rng.int(400_000) - 200_000) >>> 0 : rng.u32();
        const len = rng.next() < 0.3 ? rng.int(1400) : 0;
        guest.sendTcp(GW, sport, echo.port, null, flags, seq, ack, rng.int(65536), rng.next() < 0.2 ? 1 + rng.int(2000) : 0, -1, 0, len);
      }
      expect(net.gateway.tcp.flowCount, `seed ${seed}`).toBeLessThanOrEqual(64);
      // Whatever the abuse did to these connections, closing everything returns every resource.
      for (const c of conns) c.conn.abort();
      net.gateway.detachGuest(guest.mac);
      await waitFor(() => net.gateway.tcp.flowCount === 0, 5000, 'flows gone');
      await waitFor(() => net.host.openSockets === 0, 10_000, 'sockets gone');
      // And the gateway still relays for a fresh connection.
      const fresh = guest.connect(GW, echo.port);
      await fresh.until(() => fresh.established, 10_000, 'fresh connection');
      fresh.conn.send(new TextEncoder().encode('still here'));
      await fresh.until(() => fresh.received === 10, 10_000, 'echo');
      fresh.conn.abort();
    } finally {
      await echo.close();
    }
  });

  it('restrict mode: only the host and the DNS forwarder are reachable; nothing is sent elsewhere', async () => {
    await setup({ restrict: true });
    await guest.dhcp();
    await guest.resolveGateway();
    const c = guest.connect(parseIpv4('192.0.2.1'), 80); // TEST-NET-1: refused before any host socket exists
    await c.until(() => c.closed !== null, 10_000, 'refusal');
    expect(c.closed).toBe('refused');
    guest.sendUdp(parseIpv4('192.0.2.1'), 5000, 53, new Uint8Array(10));
    expect(net.gateway.udp.counters.unmappable).toBe(1);
    const other = guest.connect(parseIpv4('10.0.2.99'), 80); // another address of the virtual network is not the gateway's
    await other.until(() => other.closed !== null, 10_000, 'refusal');
    expect(net.host.openSockets).toBe(0);
    guest.sendUdp(DNS, 5001, 53, dnsQuery(7, 'allowed.example'));
    await guest.until(() => guest.udpIn.length > 0, 10_000, 'dns answer');
    expect(dns.queries).toEqual(['allowed.example']);
  });
});
