import { describe, expect, it } from 'vitest';
import {
  BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER,
  BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY,
} from '../../../abi/io/blkif.ts';
import {
  BlkRequest, checkRequest, checkSegments, decodeIndirectSegments, decodeRequest, encodeResponse, layoutFor, LAYOUT_X86_32,
  LAYOUT_X86_64, type BlkDeviceLimits, type BlkLayout,
} from './blkif_request.ts';

const DEV: BlkDeviceLimits = { sectors: 1000, readonly: false, flush: true, barrier: true, discard: true, maxIndirectSegments: 64 };

function slot(L: BlkLayout, op: number, nsegs: number, sector: number, segs: Array<[number, number, number]>, id = 0x1234): DataView {
  const v = new DataView(new ArrayBuffer(L.entrySize));
  v.setUint8(0, op);
  v.setUint8(1, nsegs);
  v.setUint16(2, 51712, true);
  v.setUint32(L.reqId, id, true);
  v.setUint32(L.reqId + 4, 0xabcdef, true);
  v.setUint32(L.reqSector, sector % 0x100000000, true);
  v.setUint32(L.reqSector + 4, Math.floor(sector / 0x100000000), true);
  segs.forEach(([g, f, l], i) => {
    v.setUint32(L.reqSeg + i * 8, g, true);
    v.setUint8(L.reqSeg + i * 8 + 4, f);
    v.setUint8(L.reqSeg + i * 8 + 5, l);
  });
  return v;
}

function decoded(L: BlkLayout, v: DataView): BlkRequest {
  const r = new BlkRequest(64);
  decodeRequest(v, L, r);
  return r;
}

describe('blkif requests', () => {
  it('protocol key picks the layout; an unknown one is refused', () => {
    expect(layoutFor(undefined)).toBe(LAYOUT_X86_32);
    expect(layoutFor('x86_32-abi')).toBe(LAYOUT_X86_32);
    expect(layoutFor('x86_64-abi')).toBe(LAYOUT_X86_64);
    expect(layoutFor('arm-abi')).toBeUndefined();
    expect(layoutFor('garbage')).toBeUndefined();
  });

  for (const L of [LAYOUT_X86_32, LAYOUT_X86_64]) {
    it(`decodes a read with its segments and 64-bit id/sector (${L.entrySize}-byte slots)`, () => {
      const r = decoded(L, slot(L, BLKIF_OP_READ, 2, 0x100000003, [[7, 0, 7], [8, 2, 3]]));
      expect([r.op, r.nsegs, r.idLo, r.idHi, r.sectorLo, r.sectorHi]).toEqual([BLKIF_OP_READ, 2, 0x1234, 0xabcdef, 3, 1]);
      expect([...r.gref.subarray(0, 2)]).toEqual([7, 8]);
      expect(r.totalSectors).toBe(10);
      // Sector 2^32 + 3 is past the device.
      expect(checkRequest(r, DEV)).toBe(BLKIF_RSP_ERROR);
    });
  }

  it('checks segment bounds, counts and the device end', () => {
    const L = LAYOUT_X86_32;
    const ok = decoded(L, slot(L, BLKIF_OP_WRITE, 1, 992, [[1, 0, 7]]));
    expect(checkRequest(ok, DEV)).toBe(BLKIF_RSP_OKAY);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_WRITE, 1, 993, [[1, 0, 7]])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_READ, 0, 0, [])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_READ, 12, 0, [])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_READ, 1, 0, [[1, 3, 2]])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_READ, 1, 0, [[1, 0, 8]])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_WRITE, 1, 0, [[1, 0, 0]])), { ...DEV, readonly: true })).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, 99, 1, 0, [[1, 0, 0]])), DEV)).toBe(BLKIF_RSP_ERROR);
    expect(checkRequest(decoded(L, slot(L, 4, 0, 0, [])), DEV)).toBe(BLKIF_RSP_ERROR);
  });

  it('flush and barrier: 0 segments allowed; unsupported ones are EOPNOTSUPP', () => {
    const L = LAYOUT_X86_32;
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, [])), DEV)).toBe(BLKIF_RSP_OKAY);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_WRITE_BARRIER, 1, 0, [[1, 0, 7]])), DEV)).toBe(BLKIF_RSP_OKAY);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, [])), { ...DEV, flush: false })).toBe(BLKIF_RSP_EOPNOTSUPP);
    expect(checkRequest(decoded(L, slot(L, BLKIF_OP_WRITE_BARRIER, 0, 0, [])), { ...DEV, barrier: false })).toBe(BLKIF_RSP_EOPNOTSUPP);
  });

  it('discard: range and flags checked', () => {
    for (const L of [LAYOUT_X86_32, LAYOUT_X86_64]) {
      const mk = (sector: number, n: number, flag = 0): BlkRequest => {
        const v = slot(L, BLKIF_OP_DISCARD, 0, sector, []);
        v.setUint8(1, flag);
        v.setUint32(L.discardNrSectors, n, true);
        return decoded(L, v);
      };
      expect(checkRequest(mk(100, 900), DEV)).toBe(BLKIF_RSP_OKAY);
      expect(checkRequest(mk(100, 901), DEV)).toBe(BLKIF_RSP_ERROR);
      expect(checkRequest(mk(0, 1, 1), DEV)).toBe(BLKIF_RSP_OKAY);
      expect(checkRequest(mk(0, 1, 2), DEV)).toBe(BLKIF_RSP_ERROR);
      expect(checkRequest(mk(0, 1), { ...DEV, discard: false })).toBe(BLKIF_RSP_EOPNOTSUPP);
    }
  });

  it('indirect: op, count and descriptor decoding', () => {
    for (const L of [LAYOUT_X86_32, LAYOUT_X86_64]) {
      const v = new DataView(new ArrayBuffer(L.entrySize));
      v.setUint8(0, BLKIF_OP_INDIRECT);
      v.setUint8(1, BLKIF_OP_WRITE);
      v.setUint16(2, 20, true);
      v.setUint32(L.reqId, 9, true);
      v.setUint32(L.indSector, 8, true);
      v.setUint16(L.indHandle, 51712, true);
      v.setUint32(L.indGrefs, 77, true);
      const r = decoded(L, v);
      expect([r.ioOp, r.nsegs, r.nIndirect, r.indirectGrefs[0], r.handle, r.sector]).toEqual([BLKIF_OP_WRITE, 20, 1, 77, 51712, 8]);
      expect(checkRequest(r, DEV)).toBe(BLKIF_RSP_OKAY);
      const pages = new DataView(new ArrayBuffer(4096));
      for (let i = 0; i < 20; i++) {
        pages.setUint32(i * 8, 100 + i, true);
        pages.setUint8(i * 8 + 4, 0);
        pages.setUint8(i * 8 + 5, 7);
      }
      decodeIndirectSegments(pages, r);
      expect(checkSegments(r, DEV)).toBe(BLKIF_RSP_OKAY);
      expect(r.gref[19]).toBe(119);
      v.setUint16(2, 65, true);
      expect(checkRequest(decoded(L, v), DEV)).toBe(BLKIF_RSP_ERROR);
      v.setUint16(2, 0, true);
      expect(checkRequest(decoded(L, v), DEV)).toBe(BLKIF_RSP_ERROR);
      v.setUint16(2, 4, true);
      v.setUint8(1, BLKIF_OP_FLUSH_DISKCACHE);
      expect(checkRequest(decoded(L, v), DEV)).toBe(BLKIF_RSP_ERROR);
      v.setUint8(1, BLKIF_OP_READ);
      expect(checkRequest(decoded(L, v), { ...DEV, maxIndirectSegments: 0 })).toBe(BLKIF_RSP_EOPNOTSUPP);
    }
  });

  it('responses echo the 64-bit id and the operation', () => {
    const v = new DataView(new ArrayBuffer(16));
    expect(encodeResponse(v, LAYOUT_X86_32, 5, 6, BLKIF_OP_WRITE, BLKIF_RSP_ERROR)).toBe(12);
    expect([v.getUint32(0, true), v.getUint32(4, true), v.getUint8(8), v.getInt16(10, true)]).toEqual([5, 6, 1, -1]);
    expect(encodeResponse(v, LAYOUT_X86_64, 5, 6, BLKIF_OP_READ, BLKIF_RSP_OKAY)).toBe(16);
  });

  it('random slots never throw and never pass a request past the device (seeded)', () => {
    let seed = 0x5eed1234;
    const rnd = (): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return seed >>> 0;
    };
    const r = new BlkRequest(64);
    for (let i = 0; i < 20000; i++) {
      const L = (rnd() & 1) === 0 ? LAYOUT_X86_32 : LAYOUT_X86_64;
      const v = new DataView(new ArrayBuffer(L.entrySize));
      for (let b = 0; b < L.entrySize; b++) v.setUint8(b, rnd() & 0xff);
      if ((rnd() & 3) !== 0) v.setUint8(0, rnd() % 7);
      if ((rnd() & 1) !== 0) v.setUint32(L.reqSector + 4, 0, true);
      decodeRequest(v, L, r);
      const st = checkRequest(r, DEV);
      if (st === BLKIF_RSP_OKAY && (r.op === BLKIF_OP_READ || r.op === BLKIF_OP_WRITE)) {
        expect(r.sector + r.totalSectors, `seed case ${i}`).toBeLessThanOrEqual(DEV.sectors);
      }
    }
  });
});
