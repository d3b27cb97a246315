/**
 * The frame table: Xen's `struct page_info` for every machine frame, as parallel typed
 * arrays indexed by MFN.
 *
 * Each frame has
 *   owner[f]     the owning domain id, OWNER_NONE for a free frame; DOMID_XEN for frames the
 *                hypervisor keeps for itself (M2P, its page-table pages, shadows).
 *   count[f]     the general reference count (Xen's count_info & PGC_count_mask): 0 means
 *                free; the PGC_allocated reference counts 1 while the frame belongs to its
 *                owner's memory; every mapping, pin or table use adds one.
 *   flags[f]     PGC_* bits (allocated, special).
 *   typeInfo[f]  Xen's type_info:
 *                  bits  0..19  type count (uses in the current type)
 *                  bit   20     PGT_validated (page-table/descriptor contents were checked)
 *                  bit   21     PGT_pinned (the owner pinned it: one extra type + general ref)
 *                  bit   22     PGT_pae_xen_l2 (an L2 under L3 slot 3 holding Xen's slots)
 *                  bits 24..27  the type: PGT_none, L1, L2, L3, L4, seg_desc, writable
 *
 * Invariants (the audit in audit.ts recomputes and checks them):
 *  - A frame with count 0 is free: owner OWNER_NONE, flags 0, typeInfo 0.
 *  - A frame's type can only change while its type count is 0; a frame can never be both
 *    a page table (or descriptor page) in use and mapped writable: writable mappings hold
 *    the PGT_writable type.
 *  - Reference and type counts never underflow: an underflow is a hypervisor bug (assert).
 *  - The frame table holds no references of its own: everything is accounted to the
 *    structure that took it (a PTE, a pin, a vCPU base pointer, a GDT frame, a foreign
 *    physmap slot).
 */
import { DOMID_XEN } from '../../abi/xen.ts';
import { assert } from '../util/assert.ts';

/** owner[] value of a frame that belongs to nobody. */
export const OWNER_NONE = -1;

// ---- type_info layout -------------------------------------------------------------------

export const PGT_count_mask = 0x000fffff;
export const PGT_validated = 1 << 20;
export const PGT_pinned = 1 << 21;
export const PGT_pae_xen_l2 = 1 << 22;
export const PGT_type_shift = 24;
export const PGT_type_mask = 0xf << PGT_type_shift;

/** Page types, pre-shifted into type_info position (Xen's numbering). */
export const PGT_none = 0 << PGT_type_shift;
export const PGT_l1_page_table = 1 << PGT_type_shift;
export const PGT_l2_page_table = 2 << PGT_type_shift;
export const PGT_l3_page_table = 3 << PGT_type_shift;
export const PGT_l4_page_table = 4 << PGT_type_shift;
export const PGT_seg_desc_page = 5 << PGT_type_shift;
export const PGT_writable_page = 7 << PGT_type_shift;

export type PageType =
  | typeof PGT_none | typeof PGT_l1_page_table | typeof PGT_l2_page_table | typeof PGT_l3_page_table
  | typeof PGT_l4_page_table | typeof PGT_seg_desc_page | typeof PGT_writable_page;

/** True for the page-table types (L1..L4), whose contents are validated. */
export function isPageTableType(t: number): boolean {
  const k = t & PGT_type_mask;
  return k >= PGT_l1_page_table && k <= PGT_l4_page_table;
}

export function pageTypeName(typeInfo: number): string {
  switch (typeInfo & PGT_type_mask) {
    case PGT_none: return 'none';
    case PGT_l1_page_table: return 'l1';
    case PGT_l2_page_table: return (typeInfo & PGT_pae_xen_l2) !== 0 ? 'l2(xen)' : 'l2';
    case PGT_l3_page_table: return 'l3';
    case PGT_l4_page_table: return 'l4';
    case PGT_seg_desc_page: return 'seg_desc';
    case PGT_writable_page: return 'writable';
    default: return `type${(typeInfo & PGT_type_mask) >>> PGT_type_shift}`;
  }
}

// ---- count_info flags ---------------------------------------------------------------------

/** The frame belongs to its owner's memory (holds one general reference). */
export const PGC_allocated = 1;
/**
 * A "special" page (Xen's xenheap page shared with a guest, e.g. shared_info): owned by a
 * domain for mapping purposes but not part of its tot_pages and never given back by
 * decrease_reservation.
 */
export const PGC_special = 2;

/** Largest general reference count (keeps counts int32 and catches runaway references). */
export const PGC_count_max = 0x3fffffff;

export class FrameTable {
  readonly frames: number;
  readonly owner: Int32Array;
  readonly count: Int32Array;
  readonly flags: Uint8Array;
  readonly typeInfo: Int32Array;

  constructor(frames: number) {
    assert(Number.isInteger(frames) && frames > 0, () => `frame table size ${frames}`);
    this.frames = frames;
    this.owner = new Int32Array(frames).fill(OWNER_NONE);
    this.count = new Int32Array(frames);
    this.flags = new Uint8Array(frames);
    this.typeInfo = new Int32Array(frames);
  }

  /** True if `mfn` names a frame of machine RAM (Xen's mfn_valid). */
  valid(mfn: number): boolean {
    return mfn >= 0 && mfn < this.frames && Number.isInteger(mfn);
  }

  isFree(mfn: number): boolean {
    return this.count[mfn] === 0;
  }

  /**
   * Take a general reference if the frame is allocated and owned by `domid` (get_page).
   * Returns false (and takes nothing) for a free frame, another owner, or a count that
   * would overflow.
   */
  getPage(mfn: number, domid: number): boolean {
    if (!this.valid(mfn)) return false;
    const c = this.count[mfn]!;
    if (c === 0 || c >= PGC_count_max) return false;
    if (this.owner[mfn] !== domid) return false;
    this.count[mfn] = c + 1;
    return true;
  }

  /** The owner of an allocated frame, or OWNER_NONE for free / invalid frames. */
  ownerOf(mfn: number): number {
    if (!this.valid(mfn) || this.count[mfn] === 0) return OWNER_NONE;
    return this.owner[mfn]!;
  }

  /** Take one more general reference on a frame already known to be referenced. */
  getPageLight(mfn: number): void {
    const c = this.count[mfn]!;
    assert(c > 0 && c < PGC_count_max, () => `get_page_light on mfn ${hex(mfn)} with count ${c}`);
    this.count[mfn] = c + 1;
  }

  /**
   * Drop a general reference. Returns true when it was the last one: the caller (the
   * memory manager, which owns the allocator and the domains' accounting) frees the frame.
   */
  putPageRaw(mfn: number): boolean {
    const c = this.count[mfn]!;
    assert(c > 0, () => `put_page on free mfn ${hex(mfn)}`);
    this.count[mfn] = c - 1;
    return c === 1;
  }

  typeOf(mfn: number): number {
    return this.typeInfo[mfn]! & PGT_type_mask;
  }

  typeCount(mfn: number): number {
    return this.typeInfo[mfn]! & PGT_count_mask;
  }

  /** Make `mfn` a frame of `domid` with the allocation reference (assign_pages). */
  assign(mfn: number, domid: number, special: boolean): void {
    assert(this.count[mfn] === 0, () => `assigning busy mfn ${hex(mfn)} (count ${this.count[mfn]})`);
    this.owner[mfn] = domid;
    this.count[mfn] = 1;
    this.flags[mfn] = PGC_allocated | (special ? PGC_special : 0);
    this.typeInfo[mfn] = 0;
  }

  /** A frame the hypervisor keeps for itself (never mapped writable by a guest). */
  assignXen(mfn: number): void {
    this.assign(mfn, DOMID_XEN, true);
  }

  /** Reset a frame whose last reference went away. */
  clear(mfn: number): void {
    this.owner[mfn] = OWNER_NONE;
    this.count[mfn] = 0;
    this.flags[mfn] = 0;
    this.typeInfo[mfn] = 0;
  }

  describe(mfn: number): string {
    if (!this.valid(mfn)) return `mfn ${hex(mfn)} (not RAM)`;
    const t = this.typeInfo[mfn]!;
    return `mfn ${hex(mfn)} owner ${this.owner[mfn]} count ${this.count[mfn]} flags ${this.flags[mfn]} ` +
      `type ${pageTypeName(t)}/${t & PGT_count_mask}${(t & PGT_validated) !== 0 ? ' validated' : ''}` +
      `${(t & PGT_pinned) !== 0 ? ' pinned' : ''}`;
  }
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}
