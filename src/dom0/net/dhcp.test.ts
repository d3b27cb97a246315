import { describe, expect, it } from 'vitest';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { ipv4ToString, IPV4_BROADCAST, parseIpv4, parseMac, MAC_BROADCAST } from './addr.ts';
import { buildDhcpRequest, DHCPACK, DHCPDECLINE, DHCPDISCOVER, DHCPINFORM, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, DhcpServer, readDhcpReply } from './dhcp.ts';

const GW = parseIpv4('10.0.2.2');
const server = (poolSize = 3): DhcpServer => new DhcpServer({
  serverIp: GW, router: GW, dns: parseIpv4('10.0.2.3'), netmask: parseIpv4('255.255.255.0'),
  poolStart: parseIpv4('10.0.2.15'), poolSize, leaseSeconds: 3600, mtu: 1500,
});
const M1 = parseMac('52:54:00:00:00:01');
const M2 = parseMac('52:54:00:00:00:02');

function ask(s: DhcpServer, req: Uint8Array, now = 0): { type: number; ip: string; to: string } | null {
  const r = s.handle(req, 0, req.length, now);
  if (!r) return null;
  const p = readDhcpReply(r.payload)!;
  return { type: p.type, ip: ipv4ToString(p.yiaddr), to: r.dstIp === IPV4_BROADCAST ? 'broadcast' : ipv4ToString(r.dstIp) };
}

describe('DHCP server (RFC 2131)', () => {
  it('DISCOVER/OFFER/REQUEST/ACK, stable per MAC, unicast or broadcast as the client asks', () => {
    const s = server();
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 1, M1))).toEqual({ type: DHCPOFFER, ip: '10.0.2.15', to: '10.0.2.15' });
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 2, M2, { broadcast: true }))).toEqual({ type: DHCPOFFER, ip: '10.0.2.16', to: 'broadcast' });
    expect(ask(s, buildDhcpRequest(DHCPREQUEST, 1, M1, { requestedIp: parseIpv4('10.0.2.15'), serverId: GW }))).toEqual({ type: DHCPACK, ip: '10.0.2.15', to: '10.0.2.15' });
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 3, M1))).toMatchObject({ ip: '10.0.2.15' });
    // Renewing: ciaddr set, no requested-ip option; the reply goes to ciaddr.
    expect(ask(s, buildDhcpRequest(DHCPREQUEST, 4, M1, { ciaddr: parseIpv4('10.0.2.15') }))).toEqual({ type: DHCPACK, ip: '10.0.2.15', to: '10.0.2.15' });
    expect(s.leaseOf(M1)).toBe(parseIpv4('10.0.2.15'));
  });

  it('NAKs a request for an address that is not the client\'s, ignores requests for other servers', () => {
    const s = server();
    ask(s, buildDhcpRequest(DHCPREQUEST, 1, M1, { requestedIp: parseIpv4('10.0.2.15') }));
    expect(ask(s, buildDhcpRequest(DHCPREQUEST, 2, M2, { requestedIp: parseIpv4('10.0.2.15') }))).toEqual({ type: DHCPNAK, ip: '0.0.0.0', to: 'broadcast' });
    expect(ask(s, buildDhcpRequest(DHCPREQUEST, 3, M2, { requestedIp: parseIpv4('192.168.1.5') }))).toMatchObject({ type: DHCPNAK });
    expect(ask(s, buildDhcpRequest(DHCPREQUEST, 4, M2, { requestedIp: parseIpv4('10.0.2.16'), serverId: parseIpv4('10.0.2.99') }))).toBeNull();
    expect(s.counters.naks).toBe(2);
  });

  it('runs out of addresses without failing, and gets them back by RELEASE and DECLINE', () => {
    const s = server(2);
    for (const [i, m] of [M1, M2].entries()) ask(s, buildDhcpRequest(DHCPREQUEST, i, m, { requestedIp: parseIpv4(`10.0.2.${15 + i}`) }));
    const M3 = parseMac('52:54:00:00:00:03');
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 9, M3))).toBeNull();
    expect(s.counters.poolExhausted).toBe(1);
    ask(s, buildDhcpRequest(DHCPRELEASE, 10, M1, { ciaddr: parseIpv4('10.0.2.15') }));
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 11, M3))).toMatchObject({ ip: '10.0.2.15' });
    ask(s, buildDhcpRequest(DHCPDECLINE, 12, M2, { requestedIp: parseIpv4('10.0.2.16') }));
    expect(ask(s, buildDhcpRequest(DHCPDISCOVER, 13, M2))).toBeNull(); // .16 held back after the decline, .15 offered to M3
    expect(ask(s, buildDhcpRequest(DHCPINFORM, 14, M2, { ciaddr: parseIpv4('10.0.2.99') }))).toEqual({ type: DHCPACK, ip: '0.0.0.0', to: '10.0.2.99' });
  });

  it('ignores malformed and truncated requests (seeded)', () => {
    const seed = seedFromEnv(77);
    const rng = new SeededRng(seed);
    const s = server(16);
    const good = buildDhcpRequest(DHCPDISCOVER, 1, M1);
    for (let i = 0; i < 5000; i++) {
      const f = good.slice(0, rng.int(good.length + 1));
      for (let k = rng.int(6); k > 0 && f.length; k--) f[rng.int(f.length)] = rng.u32() & 0xff;
      expect(() => s.handle(f, 0, f.length, 0), `seed ${seed} case ${i}`).not.toThrow();
    }
    expect(s.handle(good.subarray(0, 239), 0, 239, 0)).toBeNull();
    const relay = good.slice(); relay[24] = 10; // giaddr set
    expect(s.handle(relay, 0, relay.length, 0)).toBeNull();
    expect(MAC_BROADCAST).toBe(parseMac('ff:ff:ff:ff:ff:ff'));
  });
});
