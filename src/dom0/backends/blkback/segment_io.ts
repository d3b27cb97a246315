/**
 * How blkback reaches a frontend's data pages. Each device has an arena of `pages` page
 * slots in its own pseudo-physical space; every segment in flight owns one. File I/O runs
 * directly on zero-copy views of those slots (HypercallPort.view), so the only copy of the
 * data is the one the strategy makes (or none):
 *
 *  - GrantCopyIo: the slots are frames of blkback's own RAM. Writes: GNTTABOP_copy
 *    grant -> own frame before the I/O. Reads: the disk fills the own frame, then
 *    GNTTABOP_copy own frame -> grant. One hypercall per batch; the hypervisor copies.
 *  - GrantMapIo: the slots are empty; each segment's grant is mapped there
 *    (GNTTABOP_map_grant_ref, read-only for data going to disk) for the time of the I/O,
 *    which then reads or writes the frontend's page itself, and unmapped after (Xen 3.x
 *    blkback's way). Two hypercalls per batch, no copy at all.
 * bench/blk.ts measures both; BlkbackOptions picks one.
 *
 * Protocol: prepare(list, dir) before the I/O (batched for a whole round), view(page, off,
 * len) during it, finish(list, dir) after (batched for all completions of a turn). A
 * SegmentList entry with live = 0 is only released (unmapped), never delivered (a failed
 * request, or one from a ring that was disconnected meanwhile).
 *
 * Invariants: a slot holds at most one mapping; after finish() no grant of the list is
 * mapped; a failed element sets ok[i] = 0 and fails only its request; no allocation on
 * the copy path (views of own frames are made once).
 */
import { GNTST_okay } from '../../../abi/grant_table.ts';
import type { Xc } from '../../libxc/xc.ts';
import type { FramePool } from '../frame_pool.ts';
import { CopyBatch, MapBatch, UnmapBatch, type GrantAccounting } from '../grant_ops.ts';

const PAGE = 4096;

export class SegmentList {
  n = 0;
  readonly front: Uint16Array;
  readonly gref: Uint32Array;
  readonly page: Int32Array;
  readonly off: Uint16Array;
  readonly len: Uint16Array;
  /** 1: deliver the data (finish: copy out / mark written); 0: only release. */
  readonly live: Uint8Array;
  readonly ok: Uint8Array;

  constructor(readonly capacity: number) {
    this.front = new Uint16Array(capacity);
    this.gref = new Uint32Array(capacity);
    this.page = new Int32Array(capacity);
    this.off = new Uint16Array(capacity);
    this.len = new Uint16Array(capacity);
    this.live = new Uint8Array(capacity);
    this.ok = new Uint8Array(capacity);
  }

  add(front: number, gref: number, page: number, off: number, len: number, live = true): number {
    if (this.n >= this.capacity) return -1;
    const i = this.n++;
    this.front[i] = front;
    this.gref[i] = gref;
    this.page[i] = page;
    this.off[i] = off;
    this.len[i] = len;
    this.live[i] = live ? 1 : 0;
    this.ok[i] = 0;
    return i;
  }

  reset(): void {
    this.n = 0;
  }
}

/** 'in': frontend -> disk (writes); 'out': disk -> frontend (reads). */
export type SegmentDirection = 'in' | 'out';

export interface SegmentIo {
  readonly name: 'copy' | 'map';
  prepare(list: SegmentList, dir: SegmentDirection): void;
  /** The bytes of slot `page` at [off, off + len) (valid between prepare and finish). */
  view(page: number, off: number, len: number): Uint8Array;
  finish(list: SegmentList, dir: SegmentDirection): void;
  dispose(): void;
}

/** GNTTABOP_copy through frames of our own RAM. */
export class GrantCopyIo implements SegmentIo {
  readonly name = 'copy';
  private readonly _base: number;
  private readonly _copy: CopyBatch;
  private readonly _pages: Uint8Array[] = [];

  constructor(private readonly _xc: Xc, private readonly _pool: FramePool, acct: GrantAccounting, pages: number) {
    this._base = _pool.ram(pages);
    this._copy = new CopyBatch(_xc, _pool, acct);
    for (let p = 0; p < pages; p++) {
      const v = _xc.port.view((this._base + p) * PAGE, PAGE, true);
      if (v === null) throw new Error(`blkback: own frame ${this._base + p} has no view`);
      this._pages.push(v);
    }
  }

  view(page: number, off: number, len: number): Uint8Array {
    return this._pages[page]!.subarray(off, off + len);
  }

  prepare(list: SegmentList, dir: SegmentDirection): void {
    if (dir === 'out') {
      for (let i = 0; i < list.n; i++) list.ok[i] = 1;
      return;
    }
    this._run(list, false);
  }

  finish(list: SegmentList, dir: SegmentDirection): void {
    if (dir === 'in') return;
    const port = this._xc.port;
    for (let i = 0; i < list.n; i++) {
      if (list.live[i] !== 0) port.written((this._base + list.page[i]!) * PAGE + list.off[i]!, list.len[i]!);
    }
    this._run(list, true);
  }

  /** One GNTTABOP_copy per batch of the live entries (all entries going in). */
  private _run(list: SegmentList, out: boolean): void {
    const cb = this._copy;
    let i = 0;
    while (i < list.n) {
      cb.reset();
      const start = i;
      for (; i < list.n && !cb.full; i++) {
        if (out && list.live[i] === 0) continue;
        const gfn = this._base + list.page[i]!, off = list.off[i]!, len = list.len[i]!;
        if (out) cb.toGrant(gfn, off, list.front[i]!, list.gref[i]!, off, len);
        else cb.fromGrant(list.front[i]!, list.gref[i]!, off, gfn, off, len);
      }
      const rc = cb.submit();
      let j = 0;
      for (let k = start; k < i; k++) {
        if (out && list.live[k] === 0) continue;
        list.ok[k] = rc === 0 && cb.status(j) === GNTST_okay ? 1 : 0;
        j++;
      }
    }
  }

  dispose(): void {
    this._copy.dispose();
    this._pool.release(this._base);
  }
}

/** GNTTABOP_map_grant_ref into empty slots for the time of the I/O. */
export class GrantMapIo implements SegmentIo {
  readonly name = 'map';
  private readonly _base: number;
  private readonly _map: MapBatch;
  private readonly _unmap: UnmapBatch;
  /** Per slot: the grant handle mapped there, or -1. */
  private readonly _handle: Int32Array;
  private readonly _views: (Uint8Array | null)[];

  constructor(private readonly _xc: Xc, private readonly _pool: FramePool, acct: GrantAccounting, pages: number) {
    this._base = _pool.slots(pages);
    this._map = new MapBatch(_xc, _pool, acct);
    this._unmap = new UnmapBatch(_xc, _pool, acct);
    this._handle = new Int32Array(pages).fill(-1);
    this._views = new Array<Uint8Array | null>(pages).fill(null);
  }

  view(page: number, off: number, len: number): Uint8Array {
    const v = this._views[page];
    if (v === null || v === undefined) throw new Error(`blkback: slot ${page} is not mapped`);
    return v.subarray(off, off + len);
  }

  prepare(list: SegmentList, dir: SegmentDirection): void {
    const mb = this._map;
    const port = this._xc.port;
    const writable = dir === 'out';
    let i = 0;
    while (i < list.n) {
      mb.reset();
      const start = i;
      for (; i < list.n && !mb.full; i++) mb.add(list.gref[i]!, list.front[i]!, (this._base + list.page[i]!) * PAGE, !writable);
      const rc = mb.submit();
      for (let k = start; k < i; k++) {
        const j = k - start;
        const p = list.page[k]!;
        if (rc !== 0 || mb.status(j) !== GNTST_okay) {
          list.ok[k] = 0;
          continue;
        }
        this._handle[p] = mb.handle(j);
        this._views[p] = port.view((this._base + p) * PAGE, PAGE, writable);
        list.ok[k] = this._views[p] !== null ? 1 : 0;
      }
    }
  }

  finish(list: SegmentList, dir: SegmentDirection): void {
    const ub = this._unmap;
    const port = this._xc.port;
    ub.reset();
    for (let i = 0; i < list.n; i++) {
      const p = list.page[i]!;
      const h = this._handle[p]!;
      if (h < 0) continue;
      if (dir === 'out' && list.live[i] !== 0) port.written((this._base + p) * PAGE + list.off[i]!, list.len[i]!);
      list.ok[i] = 1;
      this._handle[p] = -1;
      this._views[p] = null;
      if (ub.add((this._base + p) * PAGE, h) < 0) {
        ub.submit();
        ub.reset();
        ub.add((this._base + p) * PAGE, h);
      }
    }
    ub.submit();
  }

  dispose(): void {
    // Anything still mapped (an I/O that never completed) is unmapped first.
    const ub = this._unmap;
    ub.reset();
    for (let p = 0; p < this._handle.length; p++) {
      const h = this._handle[p]!;
      if (h < 0) continue;
      this._handle[p] = -1;
      this._views[p] = null;
      if (ub.add((this._base + p) * PAGE, h) < 0) {
        ub.submit();
        ub.reset();
        ub.add((this._base + p) * PAGE, h);
      }
    }
    ub.submit();
    this._map.dispose();
    this._unmap.dispose();
    this._pool.release(this._base);
  }
}
