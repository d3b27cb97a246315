import { describe, expect, it } from 'vitest';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { parseIpv4 } from './addr.ts';
import { completeL4Checksum, finish, pseudoSum, sum16 } from './checksum.ts';
import { writeEthHeader } from './ethernet.ts';
import { IPPROTO_TCP, IPPROTO_UDP, writeIpv4Header } from './ipv4.ts';
import { writeTcpHeader } from './tcp_wire.ts';
import { writeUdpHeader } from './udp.ts';

/** Straightforward reference: RFC 1071 section 4.1's C loop, word by word with end-around carry. */
function reference(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) { s += (b[i] << 8) | b[i + 1]; s = (s & 0xffff) + (s >>> 16); }
  if (b.length & 1) { s += b[b.length - 1] << 8; s = (s & 0xffff) + (s >>> 16); }
  return ~s & 0xffff;
}

describe('Internet checksum', () => {
  it('matches RFC 1071 section 3\'s worked example and a known IPv4 header', () => {
    expect(finish(sum16(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8))).toBe(0x220d);
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(finish(sum16(hdr, 0, 20))).toBe(0);
  });

  it('agrees with the word-at-a-time reference on seeded random data of every length and offset', () => {
    const seed = seedFromEnv(3);
    const rng = new SeededRng(seed);
    for (let i = 0; i < 3000; i++) {
      const b = rng.bytes(rng.int(200));
      const off = rng.int(Math.max(1, b.length));
      const sub = b.subarray(off);
      expect(finish(sum16(b, off, sub.length)), `seed ${seed} case ${i}`).toBe(reference(sub));
    }
  });

  it('completeL4Checksum fills a blank TCP/UDP checksum exactly as the writers compute it, and refuses what it cannot', () => {
    const rng = new SeededRng(5);
    const src = parseIpv4('10.0.2.15');
    const dst = parseIpv4('10.0.2.2');
    for (const proto of [IPPROTO_TCP, IPPROTO_UDP]) {
      const len = 14 + 20 + (proto === IPPROTO_TCP ? 20 : 8) + 333;
      const f = new Uint8Array(len);
      f.set(rng.bytes(333), len - 333);
      if (proto === IPPROTO_TCP) writeTcpHeader(f, 34, src, dst, 1, 2, 3, 4, 0x18, 5, 0, -1, 333);
      else writeUdpHeader(f, 34, src, dst, 1, 2, 333);
      writeIpv4Header(f, 14, proto, src, dst, len - 34, 1);
      writeEthHeader(f, 0 as never, 0 as never, 0x0800); // SAFETY: MACs are irrelevant to the checksum
      const want = f.slice();
      const field = proto === IPPROTO_TCP ? 34 + 16 : 34 + 6;
      f[field] = 0; f[field + 1] = 0;
      expect(completeL4Checksum(f)).toBe(true);
      expect(f).toEqual(want);
      expect(finish(pseudoSum(src, dst, proto, len - 34) + sum16(f, 34, len - 34))).toBe(0);
    }
    expect(completeL4Checksum(new Uint8Array(20))).toBe(false);
    const frag = new Uint8Array(60); frag[12] = 8; frag[14] = 0x45; frag[17] = 46; frag[20] = 0x20; frag[23] = 6;
    expect(completeL4Checksum(frag)).toBe(false);
  });
});
