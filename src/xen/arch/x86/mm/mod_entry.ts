/**
 * Changing one entry of a validated page table (Xen's mod_l1_entry / mod_l2_entry /
 * mod_l3_entry): validate the new entry, take its references, write it, drop the old
 * entry's references — in that order, so a table is never left naming a frame it holds
 * no reference for.
 *
 * Fast path (Xen's FASTPATH_FLAG_WHITELIST): a new entry naming the same frame with only
 * NX, A, D, G, US or software bits changed is written without re-validation.
 * MMU_PT_UPDATE_PRESERVE_AD ORs the A/D bits already in the entry into the new value.
 *
 * Errors: bad flags -EINVAL; Xen-private L2 slot -EPERM; L3 slots >= 3 of a 32-bit guest
 * -EINVAL (slot 3 holds Xen's mappings and must stay put); reference failures as in
 * page_type.ts.
 */
import { EINVAL, EPERM } from '../../../../abi/errno.ts';
import { HYPERVISOR_L2_FIRST_SLOT_PAE } from '../../../../abi/arch_x86_32.ts';
import { PGT_pae_xen_l2 } from '../../../mm/frame_table.ts';
import type { PageTypes } from './page_type.ts';
import {
  FASTPATH_FLAG_WHITELIST, L2_DISALLOW_MASK, L3_DISALLOW_MASK, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW,
  _PAGE_USER, pteChanged, pteFlags,
} from './pte.ts';

function write(pt: PageTypes, ma: number, lo: number, hi: number, olo: number, preserveAd: boolean): void {
  if (preserveAd) lo |= olo & (_PAGE_ACCESSED | _PAGE_DIRTY);
  pt.writeEntry(ma, lo, hi);
}

/** Update the L1 entry at machine address `ma` in a table of `ptDom` mapping frames of `pgDom`. */
export function modL1Entry(pt: PageTypes, ma: number, lo: number, hi: number, preserveAd: boolean, ptDom: number,
  pgDom: number): number {
  const olo = pt.readLo(ma), ohi = pt.readHi(ma);
  if ((lo & _PAGE_PRESENT) !== 0) {
    if ((pteFlags(lo, hi) & pt.l1DisallowMask(pt.hooks.domain(ptDom))) !== 0) return -EINVAL;
    if (!pteChanged(olo, ohi, lo, hi, FASTPATH_FLAG_WHITELIST)) {
      write(pt, ma, lo, hi, olo, preserveAd);
      return 0;
    }
    const rc = pt.getPageFromL1e(lo, hi, ptDom, pgDom);
    if (rc !== 0) return rc;
  }
  write(pt, ma, lo, hi, olo, preserveAd);
  pt.putPageFromL1e(olo, ohi, ptDom);
  return 0;
}

/** Update the L2 entry at `ma` of table `l2mfn` (type_info `type`) of domain `domid`. */
export function modL2Entry(pt: PageTypes, ma: number, lo: number, hi: number, preserveAd: boolean, l2mfn: number,
  domid: number): number {
  const type = pt.ft.typeInfo[l2mfn]!;
  const slot = (ma & 0xfff) >>> 3;
  if ((type & PGT_pae_xen_l2) !== 0 && slot >= HYPERVISOR_L2_FIRST_SLOT_PAE) return -EPERM;
  const olo = pt.readLo(ma), ohi = pt.readHi(ma);
  if ((lo & _PAGE_PRESENT) !== 0) {
    if ((pteFlags(lo, hi) & L2_DISALLOW_MASK) !== 0) return -EINVAL;
    if (!pteChanged(olo, ohi, lo, hi, FASTPATH_FLAG_WHITELIST)) {
      write(pt, ma, lo, hi, olo, preserveAd);
      return 0;
    }
    const rc = pt.getPageFromL2e(lo, hi, l2mfn, domid);
    if (rc !== 0) return rc;
  }
  write(pt, ma, lo, hi, olo, preserveAd);
  pt.putPageFromL2e(olo, ohi, l2mfn);
  return 0;
}

/**
 * Update the L3 entry at `ma` of table `l3mfn`. Present entries get RW|US added (the
 * compat adjustment). The caller re-syncs the PDPT of vCPUs using this L3.
 */
export function modL3Entry(pt: PageTypes, ma: number, lo: number, hi: number, preserveAd: boolean, l3mfn: number,
  domid: number): number {
  if ((ma & 0xfff) >>> 3 >= 3) return -EINVAL;
  const olo = pt.readLo(ma), ohi = pt.readHi(ma);
  if ((lo & _PAGE_PRESENT) !== 0) {
    if ((pteFlags(lo, hi) & L3_DISALLOW_MASK) !== 0) return -EINVAL;
    if (!pteChanged(olo, ohi, lo, hi, FASTPATH_FLAG_WHITELIST)) {
      write(pt, ma, lo | _PAGE_USER | _PAGE_RW, hi, olo, preserveAd);
      return 0;
    }
    const rc = pt.getPageFromL3e(lo, hi, domid);
    if (rc !== 0) return rc;
    lo |= _PAGE_USER | _PAGE_RW;
  }
  write(pt, ma, lo, hi, olo, preserveAd);
  pt.putPageFromL3e(olo, ohi, l3mfn);
  return 0;
}
