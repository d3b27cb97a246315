/**
 * Page types and their validation: Xen's get_page_type / put_page_type with the promotion
 * (validate every entry, taking references) and demotion (drop them) of PAE page tables.
 *
 * The reference rules (Xen's, for a 32-bit PV guest on a 64-bit Xen):
 *  - An L1 entry that is present takes a general ref on its frame; with RW it also takes
 *    a PGT_writable type ref, so a frame that is a page table or descriptor page can never
 *    be mapped writable.
 *  - An L2 entry takes a general ref and an L1 type ref on the table it names, or — read
 *    only — names an already validated L2 of the same domain ("linear page table"; no ref
 *    when it names its own table).
 *  - An L3 (always a 32-bit guest's top level) has entries 0..2 taking L2 type refs and
 *    entry 3, which must be present, naming an L2 of type L2|PGT_pae_xen_l2 used by that
 *    L3 alone. Validation clears entries 4..511 and sets RW|US in present entries (the
 *    compat adjustment, visible to the guest); demotion removes RW|US|A again.
 *  - A PGT_pae_xen_l2 table validates only guest slots 0..427; slots 428..511 are
 *    overwritten with Xen's entries (the read-only M2P and the per-domain area).
 *
 * Invariants:
 *  - A page-table frame is PGT_validated exactly while its type count is > 0; the
 *    references its entries hold exist exactly while it is validated.
 *  - A failed validation leaves no reference behind and the frame's type_info at 0.
 *  - Errors are Xen's: bad flags -EINVAL, foreign/unowned frame -EBUSY, I/O memory without
 *    permission -EPERM, wrong type -EINVAL, cache attributes on a special page -EACCES.
 */
import { EACCES, EBUSY, EINVAL, EPERM } from '../../../../abi/errno.ts';
import { DOMID_IO } from '../../../../abi/xen.ts';
import { HYPERVISOR_L2_FIRST_SLOT_PAE } from '../../../../abi/arch_x86_32.ts';
import type { MachineMemory } from '../../../../hw/memory/machine_memory.ts';
import { maddr } from '../../../../hw/memory/addr.ts';
import {
  FrameTable, OWNER_NONE, PGC_special, PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table,
  PGT_l3_page_table, PGT_pae_xen_l2, PGT_seg_desc_page, PGT_type_mask, PGT_validated, PGT_writable_page,
  isPageTableType, hex,
} from '../../../mm/frame_table.ts';
import type { Mm } from '../../../mm/mm.ts';
import {
  L1_DISALLOW_MASK, L1_DISALLOW_MASK_IO, L2_DISALLOW_MASK, L3_DISALLOW_MASK, PAGE_CACHE_ATTRS, _PAGE_ACCESSED,
  _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, pteFlags, pteMfn,
} from './pte.ts';
import { assert } from '../../../util/assert.ts';

/** What validation needs to know about the domain owning (or mapping) a frame. */
export interface PtDomain {
  readonly domid: number;
  readonly dying: boolean;
  /** The domain has I/O memory or port capabilities (may use cache attributes). */
  readonly hasIoCaps: boolean;
  /** May map machine frame `mfn` that is not RAM (or DOMID_IO's). */
  iomemPermitted(mfn: number): boolean;
}

/** Services the page-type code calls back into (the rest of the hypervisor). */
export interface PageTypeHooks {
  domain(domid: number): PtDomain | undefined;
  /** The 84 Xen-owned L2 entries (slots 428..511) for an L2 of domain `domid`: lo, hi pairs. */
  xenL2Slots(domid: number): Int32Array;
  /** Validate a descriptor page (check_descriptor on each of its 512 entries). */
  validateSegDescPage(mfn: number, owner: number): number;
  /** A read-only mapping of a descriptor page in use went away: drop LDT shadows. */
  segDescUnmapped(owner: number): void;
  /** A frame took a new type (validated) or a page table lost its type (demoted): trace it. */
  typeChanged(mfn: number, typeInfo: number): void;
}

/** Largest frame number a PTE can name (Xen's PADDR_MASK >> PAGE_SHIFT for 52-bit addresses). */
const PADDR_MAX_MFN = 0xffffffffff;
const XEN_SLOT0 = HYPERVISOR_L2_FIRST_SLOT_PAE;

export class PageTypes {
  readonly ft: FrameTable;
  private readonly _view: DataView;
  private readonly _mem: MachineMemory;

  constructor(readonly mm: Mm, readonly hooks: PageTypeHooks) {
    this.ft = mm.ft;
    this._mem = mm.mem;
    this._view = mm.mem.view;
  }

  // ---- entry access (tables live in machine memory; the hypervisor writes them directly)

  readLo(ma: number): number {
    return this._view.getInt32(ma, true);
  }

  readHi(ma: number): number {
    return this._view.getInt32(ma + 4, true);
  }

  writeEntry(ma: number, lo: number, hi: number): void {
    this._view.setInt32(ma, lo, true);
    this._view.setInt32(ma + 4, hi, true);
    this._mem.notifyWritten(ma, 8);
  }

  // ---- general + type references --------------------------------------------------------

  /**
   * get_page_type: take a type reference of `type` (with PGT_pae_xen_l2 where meant),
   * changing the frame's type if it has none in use and validating it if needed.
   * Returns 0 or -errno; on failure nothing is held.
   */
  getPageType(mfn: number, type: number): number {
    const ft = this.ft;
    const x = ft.typeInfo[mfn]!;
    const cnt = x & PGT_count_mask;
    if (cnt === PGT_count_mask) return -EINVAL;
    let nx = x + 1;
    if (cnt === 0) {
      if ((x & (PGT_type_mask | PGT_pae_xen_l2)) !== type) {
        // Type change: the old type and its validation are gone.
        nx = (nx & ~(PGT_type_mask | PGT_validated | PGT_pae_xen_l2)) | type;
        if ((type & PGT_type_mask) === PGT_writable_page) nx |= PGT_validated;
      }
    } else if ((x & (PGT_type_mask | PGT_pae_xen_l2)) !== type) {
      return -EINVAL;
    } else {
      assert((x & PGT_validated) !== 0, () => `type ref on unvalidated ${ft.describe(mfn)}`);
    }
    ft.typeInfo[mfn] = nx;
    if ((nx & PGT_validated) === 0) {
      const rc = this._validate(mfn, type);
      if (rc !== 0) {
        ft.typeInfo[mfn] = 0;
        return rc;
      }
      ft.typeInfo[mfn]! |= PGT_validated;
    }
    if (cnt === 0 && (x & (PGT_type_mask | PGT_pae_xen_l2)) !== type) this.hooks.typeChanged(mfn, ft.typeInfo[mfn]!);
    return 0;
  }

  /** put_page_type: drop a type reference; the last one of a page table demotes it. */
  putPageType(mfn: number): void {
    const ft = this.ft;
    const x = ft.typeInfo[mfn]!;
    if ((x & PGT_count_mask) === 0) {
      // Only a dying domain's teardown (domain_destroy.ts) can drop a reference to a table
      // it already demoted; anywhere else this is a bug.
      assert(this.hooks.domain(ft.owner[mfn]!)?.dying === true, () => `put_page_type on ${ft.describe(mfn)}`);
      return;
    }
    if ((x & PGT_count_mask) === 1 && isPageTableType(x) && (x & PGT_validated) !== 0) {
      // Clear "validated" first so a reference cycle back to this table (linear tables)
      // sees a table being torn down rather than recursing.
      ft.typeInfo[mfn] = x & ~PGT_validated;
      this._devalidate(mfn, x);
      ft.typeInfo[mfn] = (ft.typeInfo[mfn]! & ~PGT_pae_xen_l2) - 1;
      this.hooks.typeChanged(mfn, ft.typeInfo[mfn]!);
      return;
    }
    ft.typeInfo[mfn] = x - 1;
  }

  /** get_page + get_page_type (Xen's get_page_and_type_from_mfn): 0 or -errno. */
  getPageAndType(mfn: number, type: number, domid: number): number {
    if (!this.mm.getPage(mfn, domid)) return -EINVAL;
    const rc = this.getPageType(mfn, type);
    if (rc !== 0) this.mm.putPage(mfn);
    return rc;
  }

  putPageAndType(mfn: number): void {
    this.putPageType(mfn);
    this.mm.putPage(mfn);
  }

  // ---- L1 entries -------------------------------------------------------------------------

  l1DisallowMask(d: PtDomain | undefined): number {
    return d !== undefined && d.hasIoCaps ? L1_DISALLOW_MASK_IO : L1_DISALLOW_MASK;
  }

  /**
   * get_page_from_l1e for a present entry: references for a mapping in a table of
   * `l1eOwner` of a frame claimed to belong to `pgOwner`. 0 or -errno.
   */
  getPageFromL1e(lo: number, hi: number, l1eOwner: number, pgOwner: number): number {
    const ft = this.ft;
    const flags = pteFlags(lo, hi);
    const l1d = this.hooks.domain(l1eOwner);
    if ((flags & this.l1DisallowMask(l1d)) !== 0) return -EINVAL;
    const mfn = pteMfn(lo, hi);
    if (!ft.valid(mfn) || (ft.count[mfn] !== 0 && ft.owner[mfn] === DOMID_IO)) {
      // I/O memory: no reference counting, only permission.
      const who = pgOwner === DOMID_IO ? l1eOwner : pgOwner;
      const pd = this.hooks.domain(who);
      if (pd === undefined || !pd.iomemPermitted(mfn)) return mfn === PADDR_MAX_MFN ? -EINVAL : -EPERM;
      if (who !== l1eOwner && (l1d === undefined || !l1d.iomemPermitted(mfn))) {
        return mfn === PADDR_MAX_MFN ? -EINVAL : -EPERM;
      }
      return 0;
    }
    const real = ft.ownerOf(mfn);
    if (real === OWNER_NONE || real !== pgOwner) return -EBUSY;
    if (!this.mm.getPage(mfn, real)) return -EBUSY;
    const write = (lo & _PAGE_RW) !== 0;
    if (write && this.getPageType(mfn, PGT_writable_page) !== 0) {
      this.mm.putPage(mfn);
      return -EBUSY;
    }
    if ((flags & PAGE_CACHE_ATTRS) !== 0 && (ft.flags[mfn]! & PGC_special) !== 0) {
      if (write) this.putPageType(mfn);
      this.mm.putPage(mfn);
      return -EACCES;
    }
    return 0;
  }

  /** put_page_from_l1e: drop what a present L1 entry of `l1eOwner` held. */
  putPageFromL1e(lo: number, hi: number, l1eOwner: number): void {
    if ((lo & _PAGE_PRESENT) === 0) return;
    const ft = this.ft;
    const mfn = pteMfn(lo, hi);
    if (!ft.valid(mfn) || ft.owner[mfn] === DOMID_IO) return;
    const pgOwner = ft.owner[mfn]!;
    if ((lo & _PAGE_RW) !== 0) {
      this.putPageAndType(mfn);
      return;
    }
    const t = ft.typeInfo[mfn]!;
    if ((t & PGT_type_mask) === PGT_seg_desc_page && (t & PGT_count_mask) !== 0 && l1eOwner === pgOwner) {
      // The guest unmapped a page its LDT may be shadowed from: drop the LDT shadows.
      this.hooks.segDescUnmapped(pgOwner);
    }
    this.mm.putPage(mfn);
  }

  // ---- L2 / L3 entries ----------------------------------------------------------------------

  /** get_page_from_l2e for a present entry of table `l2mfn` owned by `domid`. */
  getPageFromL2e(lo: number, hi: number, l2mfn: number, domid: number): number {
    if ((pteFlags(lo, hi) & L2_DISALLOW_MASK) !== 0) return -EINVAL;
    const mfn = pteMfn(lo, hi);
    if (!this.ft.valid(mfn)) return -EINVAL;
    const rc = this.getPageAndType(mfn, PGT_l1_page_table, domid);
    if (rc === -EINVAL && this._getL2Linear(lo, mfn, l2mfn, domid)) return 0;
    return rc;
  }

  /**
   * A read-only L2 entry naming an L2 (a linear page table): allowed for an already
   * validated L2 of the same domain; a table naming itself takes no reference.
   */
  private _getL2Linear(lo: number, mfn: number, l2mfn: number, domid: number): boolean {
    if ((lo & _PAGE_RW) !== 0) return false;
    if (mfn === l2mfn) return true;
    if (!this.mm.getPage(mfn, domid)) return false;
    const x = this.ft.typeInfo[mfn]!;
    if ((x & PGT_count_mask) === PGT_count_mask ||
        (x & (PGT_type_mask | PGT_validated)) !== (PGT_l2_page_table | PGT_validated)) {
      this.mm.putPage(mfn);
      return false;
    }
    this.ft.typeInfo[mfn] = x + 1;
    return true;
  }

  /** put_page_from_l2e: an L1 reference, or a linear L2 reference (none for the table itself). */
  putPageFromL2e(lo: number, hi: number, l2mfn: number): void {
    if ((lo & _PAGE_PRESENT) === 0) return;
    const mfn = pteMfn(lo, hi);
    if (mfn === l2mfn) return;
    this.putPageAndType(mfn);
  }

  /** get_page_from_l3e for a present entry in slots 0..2 of a 32-bit guest's L3. */
  getPageFromL3e(lo: number, hi: number, domid: number): number {
    if ((pteFlags(lo, hi) & L3_DISALLOW_MASK) !== 0) return -EINVAL;
    const mfn = pteMfn(lo, hi);
    if (!this.ft.valid(mfn)) return -EINVAL;
    return this.getPageAndType(mfn, PGT_l2_page_table, domid);
  }

  putPageFromL3e(lo: number, hi: number, l3mfn: number): void {
    if ((lo & _PAGE_PRESENT) === 0) return;
    const mfn = pteMfn(lo, hi);
    if (mfn === l3mfn) return;
    this.putPageAndType(mfn);
  }

  // ---- promotion / demotion -----------------------------------------------------------------

  private _validate(mfn: number, type: number): number {
    const owner = this.ft.owner[mfn]!;
    switch (type & PGT_type_mask) {
      case PGT_l1_page_table: return this._promoteL1(mfn, owner);
      case PGT_l2_page_table: return this._promoteL2(mfn, owner, type);
      case PGT_l3_page_table: return this._promoteL3(mfn, owner);
      case PGT_seg_desc_page: return this.hooks.validateSegDescPage(mfn, owner);
      default: return -EINVAL; // L4 and unknown types: not for a 32-bit guest
    }
  }

  private _devalidate(mfn: number, x: number): void {
    const owner = this.ft.owner[mfn]!;
    const base = mfn * 4096;
    switch (x & PGT_type_mask) {
      case PGT_l1_page_table:
        for (let i = 0; i < 512; i++) this.putPageFromL1e(this.readLo(base + i * 8), this.readHi(base + i * 8), owner);
        break;
      case PGT_l2_page_table: {
        const n = (x & PGT_pae_xen_l2) !== 0 ? XEN_SLOT0 : 512;
        for (let i = 0; i < n; i++) this.putPageFromL2e(this.readLo(base + i * 8), this.readHi(base + i * 8), mfn);
        break;
      }
      case PGT_l3_page_table:
        for (let i = 0; i < 4; i++) {
          const ma = base + i * 8;
          const lo = this.readLo(ma), hi = this.readHi(ma);
          this.putPageFromL3e(lo, hi, mfn);
          if ((lo & _PAGE_PRESENT) !== 0) this.writeEntry(ma, lo & ~(_PAGE_USER | _PAGE_RW | _PAGE_ACCESSED), hi);
        }
        break;
      default:
        assert(false, () => `devalidating ${this.ft.describe(mfn)}`);
    }
  }

  private _promoteL1(mfn: number, owner: number): number {
    const base = mfn * 4096;
    for (let i = 0; i < 512; i++) {
      const lo = this.readLo(base + i * 8);
      if ((lo & _PAGE_PRESENT) === 0) continue;
      const rc = this.getPageFromL1e(lo, this.readHi(base + i * 8), owner, owner);
      if (rc !== 0) {
        while (i-- > 0) this.putPageFromL1e(this.readLo(base + i * 8), this.readHi(base + i * 8), owner);
        return rc;
      }
    }
    return 0;
  }

  private _promoteL2(mfn: number, owner: number, type: number): number {
    const base = mfn * 4096;
    const n = (type & PGT_pae_xen_l2) !== 0 ? XEN_SLOT0 : 512;
    for (let i = 0; i < n; i++) {
      const lo = this.readLo(base + i * 8);
      if ((lo & _PAGE_PRESENT) === 0) continue;
      const rc = this.getPageFromL2e(lo, this.readHi(base + i * 8), mfn, owner);
      if (rc !== 0) {
        while (i-- > 0) this.putPageFromL2e(this.readLo(base + i * 8), this.readHi(base + i * 8), mfn);
        return rc;
      }
    }
    if ((type & PGT_pae_xen_l2) !== 0) this.writeXenSlots(mfn, owner);
    return 0;
  }

  /** Fill slots 428..511 of a PGT_pae_xen_l2 table with Xen's entries. */
  writeXenSlots(mfn: number, owner: number): void {
    const slots = this.hooks.xenL2Slots(owner);
    const base = mfn * 4096 + XEN_SLOT0 * 8;
    for (let i = 0; i < 512 - XEN_SLOT0; i++) {
      this._view.setInt32(base + i * 8, slots[i * 2]!, true);
      this._view.setInt32(base + i * 8 + 4, slots[i * 2 + 1]!, true);
    }
    this._mem.notifyWritten(base, (512 - XEN_SLOT0) * 8);
  }

  private _promoteL3(mfn: number, owner: number): number {
    const base = mfn * 4096;
    // The whole page is a hardware L3 to a 64-bit Xen; only 4 entries mean anything: clear the rest.
    this._mem.fill(maddr(base + 32), 4096 - 32, 0);
    let i = 0;
    let rc = 0;
    for (; i < 4; i++) {
      const ma = base + i * 8;
      const lo = this.readLo(ma), hi = this.readHi(ma);
      if (i === 3) {
        if ((lo & _PAGE_PRESENT) === 0 || (pteFlags(lo, hi) & L3_DISALLOW_MASK) !== 0) { rc = -EINVAL; break; }
        const l2 = pteMfn(lo, hi);
        rc = this.ft.valid(l2) ? this.getPageAndType(l2, PGT_l2_page_table | PGT_pae_xen_l2, owner) : -EINVAL;
        if (rc !== 0) break;
        if ((this.ft.typeInfo[l2]! & PGT_count_mask) !== 1) {
          // The L2 with Xen's slots may be used by one L3 only.
          this.putPageAndType(l2);
          rc = -EINVAL;
          break;
        }
      } else if ((lo & _PAGE_PRESENT) === 0) {
        continue;
      } else {
        rc = this.getPageFromL3e(lo, hi, owner);
        if (rc !== 0) break;
      }
      this.writeEntry(ma, lo | _PAGE_USER | _PAGE_RW, hi);
    }
    if (rc === 0) return 0;
    while (i-- > 0) {
      const ma = base + i * 8;
      const lo = this.readLo(ma), hi = this.readHi(ma);
      this.putPageFromL3e(lo, hi, mfn);
      if ((lo & _PAGE_PRESENT) !== 0) this.writeEntry(ma, lo & ~(_PAGE_USER | _PAGE_RW | _PAGE_ACCESSED), hi);
    }
    return rc;
  }

  describe(mfn: number): string {
    return this.ft.valid(mfn) ? this.ft.describe(mfn) : `mfn ${hex(mfn)}`;
  }
}
