import { describe, expect, it } from 'vitest';
import { BackRing, type DomainMemory } from './back_ring.ts';

/** One ring page in a plain buffer, with a frontend's view of it (io/ring.h's front ring). */
function page(): { mem: DomainMemory; v: DataView; bytes: Uint8Array } {
  const bytes = new Uint8Array(4096);
  const mem: DomainMemory = {
    read: (gpa, dst, len = dst.length) => {
      if (gpa < 0 || gpa + len > 4096) return false;
      dst.set(bytes.subarray(gpa, gpa + len));
      return true;
    },
    write: (gpa, src, len = src.length) => {
      if (gpa < 0 || gpa + len > 4096) return false;
      bytes.set(src.subarray(0, len), gpa);
      return true;
    },
  };
  const v = new DataView(bytes.buffer);
  // SHARED_RING_INIT
  v.setUint32(4, 1, true);
  v.setUint32(12, 1, true);
  return { mem, v, bytes };
}

const ENTRY = 8, N = 8;

function push(v: DataView, idx: number, value: number): void {
  v.setUint32(64 + (idx & (N - 1)) * ENTRY, value, true);
}

describe('BackRing', () => {
  it('consumes published requests in order, answers into the same slots, notifies per rsp_event', () => {
    const { mem, v } = page();
    const r = new BackRing(mem, 0, N, ENTRY);
    expect(r.unconsumed()).toBe(0);
    for (let i = 0; i < 3; i++) push(v, i, 100 + i);
    v.setUint32(0, 3, true);
    expect(r.unconsumed()).toBe(3);
    const buf = new Uint8Array(ENTRY);
    const got: number[] = [];
    while (r.unconsumed() > 0) {
      r.take(buf);
      got.push(new DataView(buf.buffer).getUint32(0, true));
    }
    expect(got).toEqual([100, 101, 102]);
    const rsp = new Uint8Array(ENTRY);
    new DataView(rsp.buffer).setUint32(0, 7, true);
    r.put(rsp, 4);
    // rsp_event = 1 (SHARED_RING_INIT): the first response must notify.
    expect(r.push()).toBe(true);
    expect(v.getUint32(8, true)).toBe(1);
    expect(v.getUint32(64, true)).toBe(7);
    r.put(rsp, 4);
    // The frontend did not move rsp_event: no second notification.
    expect(r.push()).toBe(false);
    v.setUint32(12, 3, true);
    r.put(rsp, 4);
    expect(r.push()).toBe(true);
  });

  it('final check sets req_event past what was consumed and sees late requests', () => {
    const { mem, v } = page();
    const r = new BackRing(mem, 0, N, ENTRY);
    push(v, 0, 1);
    v.setUint32(0, 1, true);
    r.take(new Uint8Array(ENTRY));
    expect(r.finalCheck()).toBe(false);
    expect(v.getUint32(4, true)).toBe(2);
    v.setUint32(0, 2, true);
    expect(r.finalCheck()).toBe(true);
  });

  it('never consumes a slot whose response is not written (at most RING_SIZE outstanding)', () => {
    const { mem, v } = page();
    const r = new BackRing(mem, 0, N, ENTRY);
    v.setUint32(0, N, true);
    const buf = new Uint8Array(ENTRY);
    for (let i = 0; i < N; i++) r.take(buf);
    v.setUint32(0, N + 3, true);
    // 8 taken, none answered: the 3 new slots overlay unanswered requests' slots... they
    // cannot exist for a correct frontend, and a hostile one is caught as overflow.
    expect(r.unconsumed()).toBe(0);
    expect(r.overflow).toBe(true);
  });

  it('a producer index far ahead is a protocol violation, also across the u32 wrap', () => {
    for (const prod of [N + 1, 0x80000000, 0xffffffff]) {
      const { mem, v } = page();
      const r = new BackRing(mem, 0, N, ENTRY);
      v.setUint32(0, prod, true);
      expect(r.unconsumed()).toBe(0);
      expect(r.overflow).toBe(true);
      expect(r.finalCheck()).toBe(false);
    }
  });

  it('indexes wrap at 2^32 without losing requests', () => {
    const { mem, v } = page();
    const r = new BackRing(mem, 0, N, ENTRY);
    r.reqCons = -2;
    r.rspProdPvt = -2;
    v.setUint32(8, 0xfffffffe, true);
    for (let i = 0; i < 4; i++) push(v, (0xfffffffe + i) >>> 0, i);
    v.setUint32(0, 2, true);
    expect(r.unconsumed()).toBe(4);
    expect(r.overflow).toBe(false);
  });
});
