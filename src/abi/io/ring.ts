/**
 * Generic shared I/O rings (io/ring.h; C header: xen/io/ring.h): the layout of a
 * `<name>_sring` page and the index arithmetic both ends follow.
 *
 * Layout of a shared ring page:
 *
 *     0   req_prod   (frontend)      8   rsp_prod   (backend)
 *     4   req_event  (backend)      12   rsp_event  (frontend)
 *    16   48 bytes padding (Xen 4.x: a 4-byte private union + 44 bytes)
 *    64   ring[RING_SIZE]: union { request; response } per slot
 *
 * Invariants:
 * - RING_IDX values are free-running u32 counters; slot of index i = i & (RING_SIZE - 1).
 * - RING_SIZE = (ring bytes - 64) / entry size, rounded down to a power of two, where the
 *   entry is max(sizeof request, sizeof response). One page: blkif 32, netif tx/rx 256.
 * - A producer publishes its index after the entries (write barrier), then re-reads the
 *   peer's event index (full barrier) and notifies iff event ∈ (old, new] (ringNeedsNotify).
 * - The frontend initialises the shared page (SHARED_RING_INIT: producers 0, events 1).
 * - A backend treats req_prod - rsp_prod_pvt > RING_SIZE as a protocol violation; a
 *   frontend likewise rsp_prod - rsp_cons > RING_SIZE.
 * - Source: shared/abi/pv-devices.md §1.
 */
import { alias, arr, f, struct, u32, u8, union, type StructDef } from '../layout.ts';

export * from '../gen/io/ring.ts';

/** `RING_IDX`: a free-running ring index. */
export const RING_IDX = alias('RING_IDX', u32);

/**
 * The 64-byte header every `<name>_sring` starts with.
 * @tsonly
 */
export const sring_header = struct('sring_header', [
  f('req_prod', RING_IDX, 'written by the frontend'),
  f('req_event', RING_IDX, 'written by the backend: notify when req_prod passes this'),
  f('rsp_prod', RING_IDX, 'written by the backend'),
  f('rsp_event', RING_IDX, 'written by the frontend: notify when rsp_prod passes this'),
  arr('__pad', u8, 48, 'zeroed by SHARED_RING_INIT'),
], { size: 64, typedef: null });

/** A ring type pair as DEFINE_RING_TYPES(name, request, response) declares it in C. */
export interface RingDef {
  readonly kind: 'ring';
  /** Ring name: C types `<name>_sring`, `<name>_front_ring`, `<name>_back_ring`. */
  readonly name: string;
  readonly req: StructDef;
  readonly rsp: StructDef;
  /** One slot: union of request and response. */
  readonly entry: StructDef;
  /** Bytes per slot. */
  readonly entrySize: number;
  /** RING_SIZE of a ring in one 4 KiB page. */
  readonly nrEnts: number;
}

/** __RING_SIZE: slots in a ring of `ringBytes` bytes with `entrySize`-byte entries (a power of two). */
export function __RING_SIZE(ringBytes: number, entrySize: number): number {
  const n = Math.floor((ringBytes - 64) / entrySize);
  if (n < 1) return 0;
  return 2 ** Math.floor(Math.log2(n));
}

/** Declare the ring of a split-driver protocol (DEFINE_RING_TYPES). */
export function ringTypes(name: string, req: StructDef, rsp: StructDef): RingDef {
  const entry = union(`${name}_sring_entry`, [f('req', req), f('rsp', rsp)], { typedef: null, abi: req.abi });
  return Object.freeze({ kind: 'ring', name, req, rsp, entry, entrySize: entry.size, nrEnts: __RING_SIZE(4096, entry.size) });
}

/** Byte offset of slot `idx` in a shared ring page of `nrEnts` slots. */
export function ringSlotOffset(ring: RingDef, nrEnts: number, idx: number): number {
  return 64 + (idx & (nrEnts - 1)) * ring.entrySize;
}

/**
 * The push-side notify check (RING_PUSH_*_AND_CHECK_NOTIFY): after moving the shared
 * producer from `oldProd` to `newProd`, notify iff the peer's event index lies in
 * (oldProd, newProd], computed in u32 arithmetic.
 */
export function ringNeedsNotify(oldProd: number, newProd: number, event: number): boolean {
  return ((newProd - event) >>> 0) < ((newProd - oldProd) >>> 0);
}

/** RING_FREE_REQUESTS: slots a frontend may still fill. */
export function ringFreeRequests(nrEnts: number, reqProdPvt: number, rspCons: number): number {
  return nrEnts - ((reqProdPvt - rspCons) >>> 0);
}

/**
 * RING_HAS_UNCONSUMED_REQUESTS (backend): requests available, never more than the slots
 * not yet answered — a hostile frontend's req_prod cannot make the backend overrun.
 */
export function ringUnconsumedRequests(nrEnts: number, reqProd: number, reqCons: number, rspProdPvt: number): number {
  const req = (reqProd - reqCons) >>> 0;
  const rsp = nrEnts - ((reqCons - rspProdPvt) >>> 0);
  return req < rsp ? req : rsp;
}

/** RING_REQUEST_PROD_OVERFLOW: the frontend claims more outstanding requests than slots. */
export function ringRequestProdOverflow(nrEnts: number, reqProd: number, rspProdPvt: number): boolean {
  return ((reqProd - rspProdPvt) >>> 0) > nrEnts;
}
