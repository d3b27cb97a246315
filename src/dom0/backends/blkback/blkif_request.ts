/**
 * Block requests off the ring: decoding both ring ABIs (x86_32 and x86_64, chosen by the
 * frontend's `protocol` key), checking them against the device, and encoding responses
 * (io/blkif.h; pv-devices.md §3).
 *
 * Every field is hostile. check() returns the status the request gets without doing any
 * I/O: BLKIF_RSP_ERROR for malformed requests (no or too many segments, a sector range
 * inside a page that is empty or past its end, a range past the end of the device, a write
 * to a read-only device, an unknown operation, an indirect request whose own op is not
 * READ/WRITE), BLKIF_RSP_EOPNOTSUPP for operations this backend did not advertise; or
 * BLKIF_RSP_OKAY: the request may proceed. Sector numbers are u64 on the wire: the high
 * word is kept so a "negative" or huge sector is out of range, never wrapped.
 *
 * Invariants: decode() fills every field of the BlkRequest it is given (no stale
 * segments from an earlier request survive: nsegs bounds what is read); no allocation.
 */
import {
  BLKIF_DISCARD_SECURE, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER,
  BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BLKIF_SEGS_PER_INDIRECT_FRAME,
} from '../../../abi/io/blkif.ts';
import { XEN_IO_PROTO_ABI_X86_32, XEN_IO_PROTO_ABI_X86_64 } from '../../../abi/io/protocols.ts';

export const enum BlkAbi {
  X86_32 = 0,
  X86_64 = 1,
}

/** Layout of one ring ABI (byte offsets in a request/response slot). */
export interface BlkLayout {
  readonly abi: BlkAbi;
  readonly entrySize: number;
  readonly reqId: number;
  readonly reqSector: number;
  readonly reqSeg: number;
  readonly discardNrSectors: number;
  readonly indSector: number;
  readonly indHandle: number;
  readonly indGrefs: number;
  readonly rspSize: number;
}

// Offsets from pv-devices.md §3.2 (pinned in src/abi/gen/io/blkif.ts).
export const LAYOUT_X86_32: BlkLayout = {
  abi: BlkAbi.X86_32, entrySize: 108, reqId: 4, reqSector: 12, reqSeg: 20, discardNrSectors: 20,
  indSector: 12, indHandle: 20, indGrefs: 24, rspSize: 12,
};
export const LAYOUT_X86_64: BlkLayout = {
  abi: BlkAbi.X86_64, entrySize: 112, reqId: 8, reqSector: 16, reqSeg: 24, discardNrSectors: 24,
  indSector: 16, indHandle: 24, indGrefs: 28, rspSize: 16,
};

/** The frontend's `protocol` key -> ring layout; undefined for an unknown protocol. */
export function layoutFor(protocol: string | undefined): BlkLayout | undefined {
  if (protocol === undefined || protocol === XEN_IO_PROTO_ABI_X86_32) return LAYOUT_X86_32;
  if (protocol === XEN_IO_PROTO_ABI_X86_64) return LAYOUT_X86_64;
  return undefined;
}

/** What the device supports (what we advertised). */
export interface BlkDeviceLimits {
  readonly sectors: number;
  readonly readonly: boolean;
  readonly flush: boolean;
  readonly barrier: boolean;
  readonly discard: boolean;
  /** feature-max-indirect-segments (0: no indirect requests). */
  readonly maxIndirectSegments: number;
}

/** One decoded request (preallocated; reused). */
export class BlkRequest {
  /** The ring's operation byte (echoed in the response). */
  op = 0;
  /** READ/WRITE/BARRIER for I/O, the indirect request's own op for INDIRECT. */
  ioOp = 0;
  nsegs = 0;
  handle = 0;
  idLo = 0;
  idHi = 0;
  sectorLo = 0;
  sectorHi = 0;
  /** DISCARD: sectors and flag. */
  nrSectorsLo = 0;
  nrSectorsHi = 0;
  flag = 0;
  /** INDIRECT: the pages holding the segment descriptors. */
  nIndirect = 0;
  readonly indirectGrefs = new Uint32Array(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
  /** Segments (direct ones now; indirect ones once their pages were read). */
  readonly gref: Uint32Array;
  readonly first: Uint8Array;
  readonly last: Uint8Array;

  constructor(readonly maxSegs: number) {
    this.gref = new Uint32Array(maxSegs);
    this.first = new Uint8Array(maxSegs);
    this.last = new Uint8Array(maxSegs);
  }

  /** Start sector (exact below 2^53; larger values are out of range anyway). */
  get sector(): number {
    return this.sectorLo + this.sectorHi * 0x100000000;
  }

  /** Sectors of a READ/WRITE (sum over the segments; valid after check). */
  get totalSectors(): number {
    let n = 0;
    for (let i = 0; i < this.nsegs; i++) n += this.last[i]! - this.first[i]! + 1;
    return n;
  }
}

/** Decode the request in `slot` (one ring entry) into `r`. */
export function decodeRequest(slot: DataView, L: BlkLayout, r: BlkRequest): void {
  const op = slot.getUint8(0);
  r.op = op;
  r.ioOp = op;
  r.nsegs = 0;
  r.nIndirect = 0;
  r.flag = 0;
  r.nrSectorsLo = 0;
  r.nrSectorsHi = 0;
  r.handle = slot.getUint16(2, true);
  r.idLo = slot.getUint32(L.reqId, true);
  r.idHi = slot.getUint32(L.reqId + 4, true);
  r.sectorLo = slot.getUint32(L.reqSector, true);
  r.sectorHi = slot.getUint32(L.reqSector + 4, true);
  switch (op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE: {
      const n = slot.getUint8(1);
      r.nsegs = n;
      const m = Math.min(n, BLKIF_MAX_SEGMENTS_PER_REQUEST);
      for (let i = 0; i < m; i++) {
        const o = L.reqSeg + i * 8;
        r.gref[i] = slot.getUint32(o, true);
        r.first[i] = slot.getUint8(o + 4);
        r.last[i] = slot.getUint8(o + 5);
      }
      return;
    }
    case BLKIF_OP_DISCARD:
      r.flag = slot.getUint8(1);
      r.nrSectorsLo = slot.getUint32(L.discardNrSectors, true);
      r.nrSectorsHi = slot.getUint32(L.discardNrSectors + 4, true);
      return;
    case BLKIF_OP_INDIRECT: {
      r.ioOp = slot.getUint8(1);
      r.nsegs = slot.getUint16(2, true);
      r.handle = slot.getUint16(L.indHandle, true);
      r.sectorLo = slot.getUint32(L.indSector, true);
      r.sectorHi = slot.getUint32(L.indSector + 4, true);
      r.nIndirect = Math.min(Math.ceil(r.nsegs / BLKIF_SEGS_PER_INDIRECT_FRAME), BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
      for (let i = 0; i < r.nIndirect; i++) r.indirectGrefs[i] = slot.getUint32(L.indGrefs + i * 4, true);
      return;
    }
    default:
      return;
  }
}

/** Read the segment descriptors of an indirect request from its page bytes. */
export function decodeIndirectSegments(pages: DataView, r: BlkRequest): void {
  const n = Math.min(r.nsegs, r.maxSegs);
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    r.gref[i] = pages.getUint32(o, true);
    r.first[i] = pages.getUint8(o + 4);
    r.last[i] = pages.getUint8(o + 5);
  }
}

/**
 * The status a request gets before any I/O (BLKIF_RSP_OKAY: go ahead). For INDIRECT the
 * segment checks run in checkSegments() once the descriptors were read.
 */
export function checkRequest(r: BlkRequest, dev: BlkDeviceLimits): number {
  switch (r.op) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
      if (r.op === BLKIF_OP_WRITE && dev.readonly) return BLKIF_RSP_ERROR;
      if (r.nsegs < 1 || r.nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST) return BLKIF_RSP_ERROR;
      return checkSegments(r, dev);
    case BLKIF_OP_WRITE_BARRIER:
      if (!dev.barrier) return BLKIF_RSP_EOPNOTSUPP;
      if (dev.readonly) return BLKIF_RSP_ERROR;
      // A barrier may carry data (1..11 segments) or none (an ordering point only).
      if (r.nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST) return BLKIF_RSP_ERROR;
      return r.nsegs === 0 ? BLKIF_RSP_OKAY : checkSegments(r, dev);
    case BLKIF_OP_FLUSH_DISKCACHE:
      if (!dev.flush) return BLKIF_RSP_EOPNOTSUPP;
      // Linux blkfront may send flushes with data; we treat the segments as absent only
      // when there are none, and otherwise check them like a write.
      if (r.nsegs === 0) return BLKIF_RSP_OKAY;
      if (r.nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST || dev.readonly) return BLKIF_RSP_ERROR;
      return checkSegments(r, dev);
    case BLKIF_OP_DISCARD: {
      if (!dev.discard) return BLKIF_RSP_EOPNOTSUPP;
      if (dev.readonly) return BLKIF_RSP_ERROR;
      if ((r.flag & ~BLKIF_DISCARD_SECURE) !== 0) return BLKIF_RSP_ERROR;
      const start = r.sector;
      const n = r.nrSectorsLo + r.nrSectorsHi * 0x100000000;
      if (r.sectorHi >= 0x200000 || r.nrSectorsHi >= 0x200000 || start + n > dev.sectors) return BLKIF_RSP_ERROR;
      return BLKIF_RSP_OKAY;
    }
    case BLKIF_OP_INDIRECT:
      if (dev.maxIndirectSegments === 0) return BLKIF_RSP_EOPNOTSUPP;
      if (r.ioOp !== BLKIF_OP_READ && r.ioOp !== BLKIF_OP_WRITE) return BLKIF_RSP_ERROR;
      if (r.ioOp === BLKIF_OP_WRITE && dev.readonly) return BLKIF_RSP_ERROR;
      if (r.nsegs < 1 || r.nsegs > dev.maxIndirectSegments || r.nsegs > r.maxSegs) return BLKIF_RSP_ERROR;
      return BLKIF_RSP_OKAY;
    default:
      return BLKIF_RSP_ERROR;
  }
}

/** Per-segment sector bounds and the device range. */
export function checkSegments(r: BlkRequest, dev: BlkDeviceLimits): number {
  let total = 0;
  for (let i = 0; i < r.nsegs; i++) {
    const f = r.first[i]!, l = r.last[i]!;
    if (l > 7 || l < f) return BLKIF_RSP_ERROR;
    total += l - f + 1;
  }
  if (r.sectorHi >= 0x200000 || r.sector + total > dev.sectors) return BLKIF_RSP_ERROR;
  return BLKIF_RSP_OKAY;
}

/** Encode a response for `r` with `status` into `out` (layout L); returns its length. */
export function encodeResponse(out: DataView, L: BlkLayout, idLo: number, idHi: number, op: number, status: number): number {
  out.setUint32(0, idLo, true);
  out.setUint32(4, idHi, true);
  out.setUint8(8, op);
  out.setUint8(9, 0);
  out.setInt16(10, status, true);
  if (L.rspSize > 12) out.setUint32(12, 0, true);
  return L.rspSize;
}

export { BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_EOPNOTSUPP };
