/**
 * IPv4, UDP, TCP, ARP and ICMP codecs: round trips, every rejection path, and seeded
 * truncation/mutation fuzz (parsers never throw, and reject what they must).
 */
import { describe, expect, it } from 'vitest';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { parseIpv4, parseMac } from './addr.ts';
import { ArpPacket, ARPOP_REQUEST, buildArp } from './arp.ts';
import { describeFrame } from './describe.ts';
import { IcmpError, parseIcmp, writeIcmpChecksum } from './icmp.ts';
import { IPPROTO_TCP, IPPROTO_UDP, Ipv4Error, Ipv4Header, writeIpv4Header } from './ipv4.ts';
import { TcpError, TcpSegment, TH_ACK, TH_SYN, writeTcpHeader } from './tcp_wire.ts';
import { UdpError, UdpHeader, writeUdpHeader } from './udp.ts';

const SRC = parseIpv4('10.0.2.15');
const DST = parseIpv4('10.0.2.2');

function ipPacket(proto: number, l4len: number): Uint8Array {
  const b = new Uint8Array(20 + l4len);
  writeIpv4Header(b, 0, proto, SRC, DST, l4len, 0x1234);
  return b;
}

describe('IPv4 header', () => {
  it('round-trips and names every rejection', () => {
    const b = ipPacket(IPPROTO_UDP, 8);
    const h = new Ipv4Header();
    expect(h.parse(b, 0, b.length)).toBe(Ipv4Error.Ok);
    expect([h.src, h.dst, h.protocol, h.id, h.dontFragment, h.payloadLen, h.ttl]).toEqual([SRC, DST, 17, 0x1234, true, 8, 64]);
    expect(h.parse(b, 0, 19)).toBe(Ipv4Error.Truncated);
    const v = b.slice(); v[0] = 0x65;
    expect(h.parse(v, 0, v.length)).toBe(Ipv4Error.Version);
    const hl = b.slice(); hl[0] = 0x44;
    expect(h.parse(hl, 0, hl.length)).toBe(Ipv4Error.HeaderLength);
    const tl = b.slice(); tl[3] = 200;
    expect(h.parse(tl, 0, tl.length)).toBe(Ipv4Error.TotalLength);
    const cs = b.slice(); cs[8] = 1;
    expect(h.parse(cs, 0, cs.length)).toBe(Ipv4Error.Checksum);
    const lo = new Uint8Array(28); writeIpv4Header(lo, 0, IPPROTO_UDP, parseIpv4('127.0.0.1'), DST, 8, 1);
    expect(h.parse(lo, 0, lo.length)).toBe(Ipv4Error.Source);
  });

  it('excludes link padding past the total length and skips options', () => {
    const b = new Uint8Array(24 + 8 + 10); // 4 bytes of options, 8 of payload, 10 of padding
    writeIpv4Header(b, 0, IPPROTO_UDP, SRC, DST, 8 + 4, 1);
    b[0] = 0x46; b.set([1, 1, 1, 0], 20); // NOPs, EOL
    b[10] = 0; b[11] = 0;
    let s = 0;
    for (let i = 0; i < 24; i += 2) s += (b[i] << 8) | b[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    b[10] = (~s >> 8) & 0xff; b[11] = ~s & 0xff;
    const h = new Ipv4Header();
    expect(h.parse(b, 0, b.length)).toBe(Ipv4Error.Ok);
    expect([h.headerLen, h.payloadOff, h.payloadLen]).toEqual([24, 24, 8]);
  });
});

describe('UDP, TCP, ICMP, ARP', () => {
  it('UDP: round trip, zero checksum accepted, bad length and checksum rejected', () => {
    const b = new Uint8Array(8 + 5);
    b.set([1, 2, 3, 4, 5], 8);
    writeUdpHeader(b, 0, SRC, DST, 68, 67, 5);
    const u = new UdpHeader();
    expect(u.parse(b, 0, b.length, SRC, DST)).toBe(UdpError.Ok);
    expect([u.srcPort, u.dstPort, u.payloadLen]).toEqual([68, 67, 5]);
    expect(u.parse(b, 0, b.length, SRC, parseIpv4('10.0.2.3'))).toBe(UdpError.Checksum); // pseudo-header matters
    const z = b.slice(); z[6] = 0; z[7] = 0;
    expect(u.parse(z, 0, z.length, SRC, DST)).toBe(UdpError.Ok);
    const l = b.slice(); l[5] = 100;
    expect(u.parse(l, 0, l.length, SRC, DST)).toBe(UdpError.Length);
    expect(u.parse(b, 0, 7, SRC, DST)).toBe(UdpError.Truncated);
  });

  it('TCP: round trip with MSS and window scale; malformed options and data offsets rejected', () => {
    const b = new Uint8Array(28 + 3);
    b.set([7, 8, 9], 28);
    writeTcpHeader(b, 0, SRC, DST, 40000, 80, 0xfffffff0, 5, TH_SYN | TH_ACK, 1234, 1460, 7, 3);
    const s = new TcpSegment();
    expect(s.parse(b, 0, b.length, SRC, DST)).toBe(TcpError.Ok);
    expect([s.srcPort, s.dstPort, s.seq, s.ack, s.flags, s.window, s.mss, s.wscale, s.payloadLen]).toEqual([40000, 80, 0xfffffff0, 5, TH_SYN | TH_ACK, 1234, 1460, 7, 3]);
    const bad = b.slice(); bad[20] = 2; bad[21] = 0; // option length 0
    bad[16] = 0; bad[17] = 0;
    writeTcpHeader(bad, 0, SRC, DST, 40000, 80, 1, 5, TH_SYN, 1, 1460, 7, 3);
    bad[21] = 0; // corrupt after checksum: the checksum catches it first
    expect(s.parse(bad, 0, bad.length, SRC, DST)).toBe(TcpError.Checksum);
    // Malformed option with a valid checksum: build the header by hand.
    const o = new Uint8Array(24);
    writeTcpHeader(o, 0, SRC, DST, 1, 2, 3, 4, TH_ACK, 5, 0, -1, 4); // 4 "payload" bytes = where options go
    o[12] = 6 << 4; o.set([2, 9, 0, 0], 20); // MSS option claiming 9 bytes
    o[16] = 0; o[17] = 0;
    let sum = 0x0006 + 24 + (SRC >>> 16) + (SRC & 0xffff) + (DST >>> 16) + (DST & 0xffff);
    for (let i = 0; i < 24; i += 2) sum += (o[i] << 8) | o[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    o[16] = (~sum >> 8) & 0xff; o[17] = ~sum & 0xff;
    expect(s.parse(o, 0, o.length, SRC, DST)).toBe(TcpError.Options);
    const d = b.slice(); d[12] = 0x40;
    expect(s.parse(d, 0, d.length, SRC, DST)).toBe(TcpError.DataOffset);
  });

  it('ICMP checksum and ARP parsing', () => {
    const m = Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 2, 9, 9, 9]);
    writeIcmpChecksum(m, 0, m.length);
    expect(parseIcmp(m, 0, m.length)).toBe(IcmpError.Ok);
    m[9] ^= 1;
    expect(parseIcmp(m, 0, m.length)).toBe(IcmpError.Checksum);
    expect(parseIcmp(m, 0, 7)).toBe(IcmpError.Truncated);
    const f = new Uint8Array(60);
    const n = buildArp(f, parseMac('ff:ff:ff:ff:ff:ff'), ARPOP_REQUEST, parseMac('52:54:00:00:00:01'), SRC, parseMac('00:00:00:00:00:00'), DST);
    expect(n).toBe(60);
    const a = new ArpPacket();
    expect(a.parse(f)).toBe(true);
    expect([a.op, a.spa, a.tpa]).toEqual([1, SRC, DST]);
    expect(describeFrame(f)).toBe('ARP who-has 10.0.2.2 tell 10.0.2.15');
    f[16] = 0x86; // ptype not IPv4
    expect(a.parse(f)).toBe(false);
    expect(a.parse(f.subarray(0, 41))).toBe(false);
  });

  it('seeded truncation and mutation fuzz: parsers never throw and always reject truncations', () => {
    const seed = seedFromEnv(4242);
    const rng = new SeededRng(seed);
    const ip = new Ipv4Header();
    const udp = new UdpHeader();
    const tcp = new TcpSegment();
    const arp = new ArpPacket();
    const valid = ipPacket(IPPROTO_TCP, 24 + 100);
    writeTcpHeader(valid, 20, SRC, DST, 1, 2, 3, 4, TH_SYN, 5, 1460, 2, 100);
    for (let i = 0; i < 20_000; i++) {
      const f = valid.slice(0, rng.int(valid.length + 1));
      for (let k = rng.int(4); k > 0 && f.length; k--) f[rng.int(f.length)] = rng.u32() & 0xff;
      const ctx = `seed ${seed} case ${i}`;
      const r = ip.parse(f, 0, f.length);
      if (f.length < valid.length && r === Ipv4Error.Ok) expect(ip.totalLen, ctx).toBeLessThanOrEqual(f.length);
      if (r === Ipv4Error.Ok) {
        tcp.parse(f, ip.payloadOff, ip.payloadLen, ip.src, ip.dst);
        udp.parse(f, ip.payloadOff, ip.payloadLen, ip.src, ip.dst);
        parseIcmp(f, ip.payloadOff, ip.payloadLen);
      }
      expect(() => describeFrame(f), ctx).not.toThrow();
      expect(() => arp.parse(f), ctx).not.toThrow();
    }
    // Every strict prefix of a valid TCP segment is rejected by the TCP parser.
    for (let n = 0; n < 124; n++) expect(tcp.parse(valid, 20, n, SRC, DST), `prefix ${n}`).not.toBe(TcpError.Ok);
  });
});
