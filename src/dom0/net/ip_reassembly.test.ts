import { describe, expect, it } from 'vitest';
import { SeededRng, seedFromEnv } from '../../../tests/net/seeded_rng.ts';
import { parseIpv4, parseMac } from './addr.ts';
import { IPPROTO_UDP, Ipv4Error, Ipv4Header, writeIpv4Header } from './ipv4.ts';
import { Reassembler } from './ip_reassembly.ts';

const G1 = parseMac('52:54:00:00:00:01');
const G2 = parseMac('52:54:00:00:00:02');

/** Cut `data` into IPv4 fragments of at most `step` payload bytes (a multiple of 8). */
function fragments(data: Uint8Array, step: number, id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += step) {
    const n = Math.min(step, data.length - off);
    const f = new Uint8Array(20 + n);
    writeIpv4Header(f, 0, IPPROTO_UDP, parseIpv4('10.0.2.15'), parseIpv4('10.0.2.2'), n, id, false);
    const fo = (off >> 3) | (off + n < data.length ? 0x2000 : 0);
    f[6] = fo >> 8; f[7] = fo & 0xff;
    f[10] = 0; f[11] = 0;
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (f[i] << 8) | f[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    f[10] = (~s >> 8) & 0xff; f[11] = ~s & 0xff;
    f.set(data.subarray(off, off + n), 20);
    out.push(f);
  }
  return out;
}

function feed(r: Reassembler, f: Uint8Array, guest = G1, now = 0): boolean {
  const h = new Ipv4Header();
  expect(h.parse(f, 0, f.length)).toBe(Ipv4Error.Ok);
  return r.add(h, f, guest, now);
}

describe('IPv4 reassembly', () => {
  it('reassembles fragments in any order, duplicates included (seeded)', () => {
    const seed = seedFromEnv(8);
    const rng = new SeededRng(seed);
    for (let t = 0; t < 50; t++) {
      const data = rng.bytes(1 + rng.int(20000));
      const frags = fragments(data, 8 * (1 + rng.int(180)), t);
      for (let i = frags.length - 1; i > 0; i--) { const j = rng.int(i + 1); [frags[i], frags[j]] = [frags[j], frags[i]]; }
      // A duplicate of a fragment other than the last to arrive, before it (a duplicate arriving
      // after completion would open a new datagram, which then times out).
      if (frags.length > 1) frags.splice(rng.int(frags.length - 1), 0, frags[rng.int(frags.length - 1)]);
      const r = new Reassembler();
      const done = frags.map((f) => feed(r, f));
      expect(done.filter(Boolean).length, `seed ${seed} case ${t}`).toBe(1);
      expect(Buffer.from(r.payload).equals(Buffer.from(data)), `seed ${seed} case ${t}`).toBe(true);
      expect(r.pending).toBe(0);
    }
  });

  it('discards a datagram on overlapping fragments and on timeout', () => {
    const r = new Reassembler();
    const a = fragments(new Uint8Array(100).fill(1), 48, 1);
    const b = fragments(new Uint8Array(100).fill(2), 32, 1);
    feed(r, a[0]);
    feed(r, b[1]); // bytes 32..63 overlap 0..47
    expect(r.counters.overlap).toBe(1);
    expect(r.pending).toBe(0);
    feed(r, a[0], G1, 0);
    expect(feed(r, a[1], G1, 31e9)).toBe(false); // the first fragment expired at 30 s
    expect(r.counters.timeout).toBe(1);
  });

  it('limits incomplete datagrams per guest and in total, so one flooding guest starves only itself', () => {
    const r = new Reassembler({ maxPerGuest: 4, maxTotal: 6, timeoutNs: 30e9 });
    for (let id = 0; id < 100; id++) feed(r, fragments(new Uint8Array(64), 32, id)[0], G1);
    expect(r.pending).toBe(4);
    expect(r.counters.limit).toBe(96);
    const mine = fragments(new Uint8Array(64).fill(7), 32, 500);
    feed(r, mine[0], G2);
    expect(feed(r, mine[1], G2)).toBe(true);
    r.dropGuest(G1);
    expect(r.pending).toBe(0);
  });

  it('rejects fragments past 64 KiB and non-final fragments not a multiple of 8', () => {
    const r = new Reassembler();
    const f = fragments(new Uint8Array(16), 8, 1)[0];
    f[6] = 0x3f; f[7] = 0xff; // offset 65528 + 8 bytes > 65515
    f[10] = 0; f[11] = 0;
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (f[i] << 8) | f[i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    f[10] = (~s >> 8) & 0xff; f[11] = ~s & 0xff;
    feed(r, f);
    expect(r.counters.oversize).toBe(1);
    const odd = fragments(new Uint8Array(30), 8, 2)[0].slice(0, 25); // MF with 5 bytes
    odd[3] = 25; odd[10] = 0; odd[11] = 0;
    let t = 0;
    for (let i = 0; i < 20; i += 2) t += (odd[i] << 8) | odd[i + 1];
    while (t > 0xffff) t = (t & 0xffff) + (t >>> 16);
    odd[10] = (~t >> 8) & 0xff; odd[11] = ~t & 0xff;
    feed(r, odd);
    expect(r.counters.malformed).toBe(1);
  });
});
