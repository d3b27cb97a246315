/**
 * Granting a native domain's own pages (the role of Xen's libxengntshr): the domain's grant
 * table frames are mapped into its physmap (XENMAPSPACE_grant_table) and its entries
 * written directly, as a guest kernel does; pages come from the domain's page pool.
 *
 *   const sh = new XenGntshr(xc);
 *   const g = sh.share(domid, true);          // { ref, gfn, bytes }
 *   sh.end(g.ref);                            // true once the peer no longer uses it
 *   const t = sh.acceptTransfer(domid);       // { ref, gfn }: a page may be flipped to us
 *   sh.transferred(t.ref);                    // true when Xen completed the transfer
 *
 * Entry protocol (grant-tables.md §10): domid, frame, then flags; a translated granter
 * names frames by gfn. Revoking is refused while GTF_reading/GTF_writing are set (the
 * domain runs between guest slices, so its read-then-clear cannot race a guest's pin).
 *
 * Invariants: refs below GNTTAB_NR_RESERVED_ENTRIES are never handed out; a page stays
 * ours (not back in the pool) until its grant ended.
 */
import { __HYPERVISOR_memory_op, DOMID_SELF } from '../../abi/xen.ts';
import { XENMAPSPACE_grant_table, XENMEM_add_to_physmap, XENMEM_decrease_reservation } from '../../abi/memory.ts';
import {
  GNTTAB_NR_RESERVED_ENTRIES, GNTTAB_V1_ENTRIES_PER_FRAME, GTF_accept_transfer, GTF_permit_access, GTF_readonly,
  GTF_reading, GTF_transfer_completed, GTF_writing,
} from '../../abi/grant_table.ts';
import type { Xc } from '../libxc/xc.ts';
import { Dom0Pages } from './pages.ts';
import { XenGnttabError } from './gnttab.ts';

export interface SharedPage {
  readonly ref: number;
  readonly gfn: number;
  /** The page's bytes (live); call written() after writing. */
  readonly bytes: Uint8Array;
}

export class XenGntshr {
  private readonly _tableGfns: number[] = [];
  private readonly _used = new Set<number>();
  private readonly _pageOf = new Map<number, number>();
  private readonly _pages: Dom0Pages;
  private _nextRef = GNTTAB_NR_RESERVED_ENTRIES;

  constructor(private readonly _xc: Xc, private readonly _frames = 1) {
    this._pages = Dom0Pages.of(_xc);
    const base = _xc.allocForeignPfns(_frames);
    if (base < 0) throw new XenGnttabError('grant table frames: no pseudo-physical space', base);
    for (let i = 0; i < _frames; i++) {
      const rc = _xc.withScratch(() => {
        const a = _xc.struct(16, (v) => {
          v.setUint16(0, DOMID_SELF, true);
          v.setUint32(4, XENMAPSPACE_grant_table, true);
          v.setUint32(8, i, true);
          v.setUint32(12, base + i, true);
        });
        return _xc.port.hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, a);
      });
      if (rc < 0) throw new XenGnttabError(`mapping grant table frame ${i}`, rc);
      this._tableGfns.push(base + i);
    }
  }

  get entries(): number {
    return this._frames * GNTTAB_V1_ENTRIES_PER_FRAME;
  }

  /** Grant a fresh zeroed page of ours to `domid`. */
  share(domid: number, writable: boolean): SharedPage {
    const pfn = this._pages.take();
    if (pfn < 0) throw new XenGnttabError('no free page to share', -12);
    const ref = this._claim();
    this._write(ref, domid, pfn, GTF_permit_access | (writable ? 0 : GTF_readonly));
    this._pageOf.set(ref, pfn);
    const bytes = this._xc.port.view(pfn * 4096, 4096, true);
    if (bytes === null) throw new XenGnttabError(`page ${pfn} not mapped`, -14);
    return { ref, gfn: pfn, bytes };
  }

  /** Bytes of a shared page were written (code coherence). */
  written(p: SharedPage, off = 0, len = 4096): void {
    this._xc.port.written(p.gfn * 4096 + off, len);
  }

  /** The entry's flags (GTF_*), for diagnostics and tests. */
  flags(ref: number): number {
    return this._entry(ref).getUint16(0, true);
  }

  /** Revoke a grant: false while the peer still has it pinned (mapped or copying). */
  end(ref: number): boolean {
    const e = this._entry(ref);
    const f = e.getUint16(0, true);
    if ((f & (GTF_reading | GTF_writing)) !== 0) return false;
    this._setFlags(ref, 0);
    this._used.delete(ref);
    const pfn = this._pageOf.get(ref);
    if (pfn !== undefined) {
      this._pageOf.delete(ref);
      this._pages.give(pfn);
    }
    return true;
  }

  /**
   * Offer to receive a page from `domid` (an accept-transfer grant): a page of ours is given
   * back to Xen first (its pfn left empty), the transferred frame will appear there.
   */
  acceptTransfer(domid: number): { readonly ref: number; readonly gfn: number } {
    const pfn = this._pages.take();
    if (pfn < 0) throw new XenGnttabError('no free page slot', -12);
    const rc = this._xc.withScratch(() => {
      const list = this._xc.u32Array([pfn]);
      const r = this._xc.struct(20, (v) => {
        v.setUint32(0, list, true);
        v.setUint32(4, 1, true);
        v.setUint16(16, DOMID_SELF, true);
      });
      return this._xc.port.hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, r);
    });
    if (rc !== 1) throw new XenGnttabError('giving a page back for a transfer', rc);
    const ref = this._claim();
    this._write(ref, domid, pfn, GTF_accept_transfer);
    return { ref, gfn: pfn };
  }

  /** True once Xen completed the transfer into `ref` (the frame is at its gfn). */
  transferred(ref: number): boolean {
    return (this.flags(ref) & GTF_transfer_completed) !== 0;
  }

  /** End a completed transfer grant: the page at its gfn is ours again (pool). */
  endTransfer(ref: number, gfn: number): void {
    this._setFlags(ref, 0);
    this._used.delete(ref);
    this._pages.give(gfn);
  }

  private _claim(): number {
    for (let i = 0; i < this.entries; i++) {
      const r = this._nextRef;
      this._nextRef = r + 1 >= this.entries ? GNTTAB_NR_RESERVED_ENTRIES : r + 1;
      if (!this._used.has(r)) {
        this._used.add(r);
        return r;
      }
    }
    throw new XenGnttabError('grant table full', -28);
  }

  private _entryGpa(ref: number): number {
    return this._tableGfns[Math.floor(ref / GNTTAB_V1_ENTRIES_PER_FRAME)]! * 4096 + (ref % GNTTAB_V1_ENTRIES_PER_FRAME) * 8; // SAFETY: ref < entries
  }

  private _entry(ref: number): DataView {
    const b = this._xc.port.view(this._entryGpa(ref), 8);
    if (b === null) throw new XenGnttabError('grant table not mapped', -14);
    return new DataView(b.buffer, b.byteOffset, 8);
  }

  private _write(ref: number, domid: number, frame: number, flags: number): void {
    const e = this._entry(ref);
    e.setUint16(2, domid, true);
    e.setUint32(4, frame, true);
    e.setUint16(0, flags, true);
    this._xc.port.written(this._entryGpa(ref), 8);
  }

  private _setFlags(ref: number, flags: number): void {
    this._entry(ref).setUint16(0, flags, true);
    this._xc.port.written(this._entryGpa(ref), 2);
  }
}
