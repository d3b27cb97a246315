/**
 * The machine memory manager: the frame table, the heap of free frames, and the rules that
 * move a frame between them and the domains (alloc_domheap_pages / put_page /
 * free_domheap_pages in Xen).
 *
 * Invariants:
 *  - A frame is either in the heap (count 0) or owned (count >= 1); the two views agree
 *    (the audit checks every frame).
 *  - A domain's tot_pages counts its allocated, non-special frames, including frames it has
 *    given back (decrease_reservation) that are still referenced elsewhere: they leave its
 *    account only when their last reference goes, exactly when the heap gets them back.
 *  - tot_pages never exceeds max_pages through an allocation that checks it (guest
 *    requests); the builder and Xen's own special pages bypass the check as Xen's
 *    MEMF_no_refcount does.
 *  - Frames handed to the heap are zeroed first, so nothing of one domain leaks to another
 *    (Xen scrubs; we scrub eagerly).
 */
import type { MachineMemory } from '../../hw/memory/machine_memory.ts';
import { maddr } from '../../hw/memory/addr.ts';
import { DOMID_IO, DOMID_XEN } from '../../abi/xen.ts';
import { FrameTable, PGC_allocated, PGC_special, hex } from './frame_table.ts';
import { PageAllocator } from './page_alloc.ts';
import { assert } from '../util/assert.ts';

/** What the memory manager needs of a domain. */
export interface MemDomain {
  readonly domid: number;
  totPages: number;
  maxPages: number;
  /** Set once destruction started: no new allocations. */
  dying: boolean;
}

export interface MmOptions {
  /** Frames at the bottom of memory never given to the heap (the legacy I/O area of a PC). */
  reservedLowFrames?: number;
}

export class Mm {
  readonly ft: FrameTable;
  readonly heap: PageAllocator;
  readonly frames: number;
  private readonly _domains = new Map<number, MemDomain>();
  /** Called when a dying domain's last frame went back to the heap. */
  onDomainEmpty: (domid: number) => void = () => {};

  constructor(readonly mem: MachineMemory, opts: MmOptions = {}) {
    this.frames = mem.frames;
    this.ft = new FrameTable(this.frames);
    this.heap = new PageAllocator(this.frames);
    // Like Xen, the first MiB of RAM belongs to DOMID_IO: mapping it needs I/O privilege.
    const low = Math.min(opts.reservedLowFrames ?? 256, this.frames);
    for (let f = 0; f < low; f++) this.ft.assign(f, DOMID_IO, true);
    this.heap.addRange(low, this.frames - low);
  }

  registerDomain(d: MemDomain): void {
    assert(!this._domains.has(d.domid), () => `domain ${d.domid} registered twice`);
    this._domains.set(d.domid, d);
  }

  unregisterDomain(domid: number): void {
    this._domains.delete(domid);
  }

  domain(domid: number): MemDomain | undefined {
    return this._domains.get(domid);
  }

  get freePages(): number {
    return this.heap.freePages;
  }

  /**
   * 2^order contiguous frames for `d`, each holding its allocation reference; -1 if the
   * domain is dying, would exceed max_pages (unless `noRefcount`), or memory is exhausted.
   */
  allocDomainPages(d: MemDomain, order: number, noRefcount = false): number {
    if (d.dying) return -1;
    const n = 2 ** order;
    if (!noRefcount && d.totPages + n > d.maxPages) return -1;
    const mfn = this.heap.alloc(order);
    if (mfn < 0) return -1;
    for (let i = 0; i < n; i++) this.ft.assign(mfn + i, d.domid, false);
    d.totPages += n;
    return mfn;
  }

  /**
   * A zeroed page owned by `d` but not counted in its memory: Xen's xenheap page shared
   * with a guest (shared_info). Freed with freeSpecialPage when the domain dies.
   */
  allocSpecialPage(d: MemDomain): number {
    const mfn = this.heap.alloc(0);
    if (mfn < 0) return -1;
    this.ft.assign(mfn, d.domid, true);
    return mfn;
  }

  /** A zeroed frame for the hypervisor's own use (its tables, shadows, the M2P). */
  allocXenPage(): number {
    const mfn = this.heap.alloc(0);
    if (mfn < 0) return -1;
    this.ft.assignXen(mfn);
    return mfn;
  }

  /** 2^order contiguous, aligned hypervisor frames (the M2P's 2 MiB chunks); -1 if none. */
  allocXenPages(order: number): number {
    const mfn = this.heap.alloc(order);
    if (mfn < 0) return -1;
    for (let i = 0; i < 2 ** order; i++) this.ft.assignXen(mfn + i);
    return mfn;
  }

  freeXenPage(mfn: number): void {
    assert(this.ft.owner[mfn] === DOMID_XEN && this.ft.count[mfn] === 1, () => `freeing Xen page ${this.ft.describe(mfn)}`);
    this.ft.putPageRaw(mfn);
    this._release(mfn);
  }

  /** get_page: a general reference on a frame owned by `domid`. */
  getPage(mfn: number, domid: number): boolean {
    return this.ft.getPage(mfn, domid);
  }

  /** put_page: drop a general reference; the last one returns the frame to the heap. */
  putPage(mfn: number): void {
    if (this.ft.putPageRaw(mfn)) this._release(mfn);
  }

  /**
   * Drop the allocation reference of a domain frame (guest_remove_page / relinquish):
   * returns false if it was already dropped (the frame is only kept alive by mappings).
   */
  dropAllocation(mfn: number): boolean {
    const f = this.ft.flags[mfn]!;
    if ((f & PGC_allocated) === 0) return false;
    this.ft.flags[mfn] = f & ~PGC_allocated;
    this.putPage(mfn);
    return true;
  }

  zeroFrame(mfn: number): void {
    this.mem.fill(maddr(mfn * 4096), 4096, 0);
  }

  private _release(mfn: number): void {
    const ft = this.ft;
    const owner = ft.owner[mfn]!;
    const special = (ft.flags[mfn]! & PGC_special) !== 0;
    assert(ft.count[mfn] === 0, () => `releasing referenced ${ft.describe(mfn)}`);
    ft.clear(mfn);
    this.zeroFrame(mfn);
    this.heap.free(mfn, 0);
    if (owner === DOMID_XEN || special) return;
    const d = this._domains.get(owner);
    assert(d !== undefined, () => `freed mfn ${hex(mfn)} of unknown domain ${owner}`);
    d.totPages--;
    assert(d.totPages >= 0, () => `tot_pages of d${owner} below zero`);
    if (d.dying && d.totPages === 0) this.onDomainEmpty(owner);
  }
}
