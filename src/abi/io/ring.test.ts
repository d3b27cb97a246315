import { describe, expect, it } from 'vitest';
import {
  __RING_SIZE, ringFreeRequests, ringNeedsNotify, ringRequestProdOverflow, ringSlotOffset, ringUnconsumedRequests,
} from './ring.ts';
import { blkif_ring, blkif_x86_64_ring } from './blkif.ts';
import { netif_rx_ring, netif_tx_ring } from './netif.ts';

/** Small seeded PRNG (xorshift32) so failures replay. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

describe('io/ring', () => {
  it('RING_SIZE of one page matches pv-devices.md (blkif 32, netif tx/rx 256)', () => {
    expect([blkif_ring.entrySize, blkif_ring.nrEnts]).toEqual([108, 32]);
    expect([blkif_x86_64_ring.entrySize, blkif_x86_64_ring.nrEnts]).toEqual([112, 32]);
    expect([netif_tx_ring.entrySize, netif_tx_ring.nrEnts]).toEqual([12, 256]);
    expect([netif_rx_ring.entrySize, netif_rx_ring.nrEnts]).toEqual([8, 256]);
  });

  it('multi-page blkif rings hold 64/128/256/512 entries in both ABIs', () => {
    for (const e of [108, 112]) {
      expect([2, 4, 8, 16].map((p) => __RING_SIZE(p * 4096, e))).toEqual([64, 128, 256, 512]);
    }
    expect(__RING_SIZE(64, 8)).toBe(0);
  });

  it('slots wrap at RING_SIZE after the 64-byte header', () => {
    expect(ringSlotOffset(blkif_ring, 32, 0)).toBe(64);
    expect(ringSlotOffset(blkif_ring, 32, 33)).toBe(64 + 108);
    expect(ringSlotOffset(blkif_ring, 32, 0xffffffff)).toBe(64 + 31 * 108);
  });

  it('ring: notify iff the event index lies in (old, new] modulo 2^32 (seeded)', () => {
    const seed = 0x5eed1;
    const r = rng(seed);
    for (let i = 0; i < 20000; i++) {
      const old = r();
      const n = (old + (r() % 40)) >>> 0;
      const ev = r() % 4 === 0 ? r() : (old + (r() % 50) - 5) >>> 0;
      let inRange = false;
      for (let k = 1; k <= ((n - old) >>> 0); k++) if (((old + k) >>> 0) === ev) inRange = true;
      if (ringNeedsNotify(old, n, ev) !== inRange) throw new Error(`seed ${seed}: old=${old} new=${n} event=${ev}`);
    }
  });

  it('nothing published: no notify, whatever the event index', () => {
    expect(ringNeedsNotify(5, 5, 5)).toBe(false);
    expect(ringNeedsNotify(5, 5, 6)).toBe(false);
  });

  it('free requests and the frontend-overflow check', () => {
    expect(ringFreeRequests(32, 10, 10)).toBe(32);
    expect(ringFreeRequests(32, 42, 10)).toBe(0);
    expect(ringFreeRequests(32, 5, 0xfffffff0)).toBe(11);
    expect(ringRequestProdOverflow(32, 42, 10)).toBe(false);
    expect(ringRequestProdOverflow(32, 43, 10)).toBe(true);
  });

  it('ring: a hostile req_prod never makes the backend consume more than the unanswered slots', () => {
    const r = rng(77);
    for (let i = 0; i < 5000; i++) {
      const rspProdPvt = r();
      const reqCons = (rspProdPvt + (r() % 33)) >>> 0;
      const reqProd = r();
      const n = ringUnconsumedRequests(32, reqProd, reqCons, rspProdPvt);
      expect(n).toBeLessThanOrEqual(32 - ((reqCons - rspProdPvt) >>> 0));
      expect(n).toBeGreaterThanOrEqual(0);
    }
    expect(ringUnconsumedRequests(32, 15, 10, 10)).toBe(5);
  });
});
