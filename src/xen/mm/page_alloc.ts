/**
 * The heap of free machine frames: a binary buddy allocator (Xen's page_alloc.c idea,
 * our own code), handing out naturally aligned blocks of 2^order frames.
 *
 * State: for every frame that heads a free block, headOrder[f] = its order, else -1; each
 * order has a doubly linked list of its free heads (next/prev arrays, -1 terminated).
 *
 * Invariants:
 *  - Free blocks never overlap, are aligned to their size, and two free buddies of the same
 *    order never coexist (they are merged on free).
 *  - `freePages` equals the total size of the free blocks.
 *  - Allocation is deterministic: the lowest-addressed head of the smallest order that fits
 *    is split (lists are kept sorted only by insertion order, so "lowest" means "first
 *    inserted"; the initial population inserts in ascending address order).
 *  - The allocator knows nothing of owners; the memory manager (mm.ts) records ownership
 *    in the frame table after each allocation.
 */
import { assert } from '../util/assert.ts';

export const MAX_ORDER = 18;

export class PageAllocator {
  private readonly _headOrder: Int8Array;
  private readonly _next: Int32Array;
  private readonly _prev: Int32Array;
  private readonly _listHead = new Int32Array(MAX_ORDER + 1).fill(-1);
  private readonly _listTail = new Int32Array(MAX_ORDER + 1).fill(-1);
  private _free = 0;

  constructor(readonly frames: number) {
    this._headOrder = new Int8Array(frames).fill(-1);
    this._next = new Int32Array(frames).fill(-1);
    this._prev = new Int32Array(frames).fill(-1);
  }

  get freePages(): number {
    return this._free;
  }

  /** Give frames [first, first + n) to the heap (boot-time population). */
  addRange(first: number, n: number): void {
    assert(first >= 0 && n >= 0 && first + n <= this.frames, () => `heap range ${first}+${n}`);
    let f = first;
    const end = first + n;
    while (f < end) {
      let order = 0;
      while (order < MAX_ORDER && (f & ((2 << order) - 1)) === 0 && f + (2 << order) <= end) order++;
      this.free(f, order);
      f += 1 << order;
    }
  }

  /** A block of 2^order frames, or -1 when no block that large is free. */
  alloc(order: number): number {
    if (!(order >= 0 && order <= MAX_ORDER)) return -1;
    let o = order;
    while (o <= MAX_ORDER && this._listHead[o] === -1) o++;
    if (o > MAX_ORDER) return -1;
    const head = this._listHead[o]!;
    this._unlink(head, o);
    // Split down to the requested order, returning the upper halves to the heap.
    while (o > order) {
      o--;
      this._link(head + (1 << o), o);
    }
    this._free -= 1 << order;
    return head;
  }

  /** Allocate the specific frame `mfn` (used to reserve fixed frames at boot). */
  allocExact(mfn: number): boolean {
    for (let o = 0; o <= MAX_ORDER; o++) {
      const head = mfn & ~((1 << o) - 1);
      if (head < 0 || head >= this.frames) break;
      if (this._headOrder[head] === o) {
        this._unlink(head, o);
        // Split, keeping the halves that do not contain mfn.
        let h = head;
        let k = o;
        while (k > 0) {
          k--;
          const upper = h + (1 << k);
          if (mfn >= upper) {
            this._link(h, k);
            h = upper;
          } else {
            this._link(upper, k);
          }
        }
        this._free -= 1;
        return true;
      }
    }
    return false;
  }

  /** Return a block of 2^order frames starting at `mfn`, merging with free buddies. */
  free(mfn: number, order: number): void {
    assert(order >= 0 && order <= MAX_ORDER && (mfn & ((1 << order) - 1)) === 0, () => `free ${mfn} order ${order}`);
    assert(mfn + (1 << order) <= this.frames, () => `free ${mfn} order ${order} past the end`);
    this._free += 1 << order;
    let head = mfn;
    let o = order;
    while (o < MAX_ORDER) {
      const buddy = head ^ (1 << o);
      if (buddy + (1 << o) > this.frames || this._headOrder[buddy] !== o) break;
      this._unlink(buddy, o);
      head = Math.min(head, buddy);
      o++;
    }
    this._link(head, o);
  }

  /** True if `mfn` lies inside a free block (slow; audits and tests). */
  isFree(mfn: number): boolean {
    for (let o = 0; o <= MAX_ORDER; o++) {
      const head = mfn & ~((1 << o) - 1);
      if (this._headOrder[head] === o) return true;
    }
    return false;
  }

  /** Every free block as [head, order] (audits and tests). */
  freeBlocks(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let o = 0; o <= MAX_ORDER; o++) {
      for (let f = this._listHead[o]!; f !== -1; f = this._next[f]!) out.push([f, o]);
    }
    return out;
  }

  private _link(f: number, o: number): void {
    this._headOrder[f] = o;
    this._next[f] = -1;
    const tail = this._listTail[o]!;
    this._prev[f] = tail;
    if (tail === -1) this._listHead[o] = f;
    else this._next[tail] = f;
    this._listTail[o] = f;
  }

  private _unlink(f: number, o: number): void {
    const p = this._prev[f]!, n = this._next[f]!;
    if (p === -1) this._listHead[o] = n;
    else this._next[p] = n;
    if (n === -1) this._listTail[o] = p;
    else this._prev[n] = p;
    this._headOrder[f] = -1;
    this._next[f] = -1;
    this._prev[f] = -1;
  }
}
