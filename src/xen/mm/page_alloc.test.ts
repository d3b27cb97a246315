import { describe, expect, it } from 'vitest';
import { PageAllocator } from './page_alloc.ts';

/** Seeded xorshift (replayable): the seed is printed on failure through the test name. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('buddy allocator', () => {
  it('hands out aligned blocks and merges buddies back', () => {
    const a = new PageAllocator(1024);
    a.addRange(0, 1024);
    expect(a.freePages).toBe(1024);
    const b = a.alloc(3);
    expect(b % 8).toBe(0);
    const c = a.alloc(0);
    expect(a.freePages).toBe(1024 - 9);
    a.free(b, 3);
    a.free(c, 0);
    expect(a.freePages).toBe(1024);
    expect(a.freeBlocks()).toEqual([[0, 10]]);
  });

  it('allocates a specific frame and refuses what is gone', () => {
    const a = new PageAllocator(64);
    a.addRange(0, 64);
    expect(a.allocExact(37)).toBe(true);
    expect(a.allocExact(37)).toBe(false);
    expect(a.isFree(37)).toBe(false);
    expect(a.isFree(36)).toBe(true);
    expect(a.freePages).toBe(63);
    a.free(37, 0);
    expect(a.freeBlocks()).toEqual([[0, 6]]);
  });

  it('returns -1 when nothing that large is free, and for bad orders', () => {
    const a = new PageAllocator(16);
    a.addRange(3, 10);
    expect(a.alloc(4)).toBe(-1);
    expect(a.alloc(-1)).toBe(-1);
    expect(a.alloc(99)).toBe(-1);
  });

  for (const seed of [1, 42, 0xdead]) {
    it(`random alloc/free never overlaps and conserves frames (seed ${seed})`, () => {
      const r = rng(seed);
      const a = new PageAllocator(4096);
      a.addRange(100, 3996);
      const live: Array<[number, number]> = [];
      const owner = new Int32Array(4096).fill(-1);
      for (let step = 0; step < 3000; step++) {
        if (live.length > 0 && r() < 0.45) {
          const [f, o] = live.splice(Math.floor(r() * live.length), 1)[0]!;
          for (let i = 0; i < 1 << o; i++) owner[f + i] = -1;
          a.free(f, o);
        } else {
          const o = Math.floor(r() * 5);
          const f = a.alloc(o);
          if (f < 0) continue;
          expect(f % (1 << o), `seed ${seed} step ${step}`).toBe(0);
          for (let i = 0; i < 1 << o; i++) {
            expect(owner[f + i], `seed ${seed} step ${step}: frame ${f + i} handed out twice`).toBe(-1);
            owner[f + i] = step;
          }
          live.push([f, o]);
        }
      }
      const used = live.reduce((s, [, o]) => s + (1 << o), 0);
      expect(a.freePages + used).toBe(3996);
    });
  }
});
