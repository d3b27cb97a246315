/**
 * Host mappings of grants for PV mappers (Xen's arch/x86/pv/grant_table.c): the grant
 * becomes an L1 entry of the mapping domain's own page tables.
 *
 * `addr` names the L1 entry in one of two ways: with GNTMAP_contains_pte it is the machine
 * address of the entry (8-byte aligned, in an L1 table the mapper owns); otherwise it is a
 * linear address in the mapper's current address space, whose L1 entry is found through
 * its tables (the L2 entry must be present). Either way the table must be a validated L1
 * of the mapper (else GNTST_general_error).
 *
 * The PTE: frame | P | A | D | NX, RW unless GNTMAP_readonly, US with
 * GNTMAP_application_map, bits 16-18 of the map flags in the PTE's available bits 9-11.
 * The references the mapping needs were taken by the caller (map_grant_ref); writing the
 * entry takes none, and the entry it replaces has its references dropped (as Xen's
 * create_grant_pv_mapping does). Removal checks the entry still maps the granted frame
 * with the granted P/RW bits, then clears it without dropping references: the unmap
 * path drops them.
 *
 * The TLB: an entry that was present is flushed when replaced here; unmaps are flushed by
 * the caller once per batch (gnttab_flush_tlb).
 */
import { GNTMAP_application_map, GNTMAP_contains_pte, GNTMAP_readonly, GNTST_general_error, GNTST_okay, _GNTMAP_guest_avail0 } from '../../abi/grant_table.ts';
import type { Xen } from '../xen.ts';
import type { Vcpu } from './vcpu.ts';
import { PGT_count_mask, PGT_l1_page_table, PGT_type_mask, PGT_validated } from '../mm/frame_table.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, pteMfn } from '../arch/x86/mm/pte.ts';

const NX_HI = 1 << 31;
const TWO32 = 0x100000000;

/** grant_to_pte_flags (low half; NX is always set in the high half). */
function grantPteLo(flags: number): number {
  let f = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_DIRTY;
  if ((flags & GNTMAP_application_map) !== 0) f |= _PAGE_USER;
  if ((flags & GNTMAP_readonly) === 0) f |= _PAGE_RW;
  f |= ((flags >>> _GNTMAP_guest_avail0) & 7) << 9;
  return f;
}

/**
 * The machine address of the L1 entry `addr` names for `v`, with a general reference taken
 * on its table (validated L1 owned by the mapper), or -1.
 */
function lockL1e(xen: Xen, v: Vcpu, addr: number, containsPte: boolean): number {
  const d = v.domain;
  let ma: number;
  if (containsPte) {
    if (addr % 8 !== 0 || addr >= xen.mem.size) return -1;
    ma = addr;
  } else {
    if (addr >= TWO32) return -1;
    ma = xen.pv.l1eMaddr(v, addr);
    if (ma < 0) return -1;
  }
  const l1 = Math.floor(ma / 4096);
  if (!xen.mm.getPage(l1, d.domid)) return -1;
  const t = xen.mm.ft.typeInfo[l1]!;
  if ((t & (PGT_type_mask | PGT_validated)) !== (PGT_l1_page_table | PGT_validated) || (t & PGT_count_mask) === 0) {
    xen.mm.putPage(l1);
    return -1;
  }
  return ma;
}

function unlockL1e(xen: Xen, ma: number): void {
  xen.mm.putPage(Math.floor(ma / 4096));
}

/** create_grant_pv_mapping: write the grant PTE for `mfn`; GNTST_okay or general_error. */
export function createGrantPvMapping(xen: Xen, v: Vcpu, addr: number, mfn: number, flags: number): number {
  const containsPte = (flags & GNTMAP_contains_pte) !== 0;
  const ma = lockL1e(xen, v, addr, containsPte);
  if (ma < 0) return GNTST_general_error;
  const pt = xen.pageTypes;
  const olo = pt.readLo(ma), ohi = pt.readHi(ma);
  const lo = ((mfn & 0xfffff) * 4096) | grantPteLo(flags);
  const hi = (Math.floor(mfn / 0x100000) & 0xfffff) | NX_HI;
  pt.writeEntry(ma, lo, hi);
  unlockL1e(xen, ma);
  pt.putPageFromL1e(olo, ohi, v.domain.domid);
  if ((olo & _PAGE_PRESENT) !== 0) {
    const cpu = v.pv?.cpu;
    if (containsPte) cpu?.flushTlb();
    else cpu?.invlpg(addr);
  }
  return GNTST_okay;
}

/** steal_linear_address: zap the L1 entry of `linear`, returning it as [lo, hi], or null. */
function stealLinear(xen: Xen, v: Vcpu, linear: number): [number, number] | null {
  const ma = lockL1e(xen, v, linear, false);
  if (ma < 0) return null;
  const pt = xen.pageTypes;
  const out: [number, number] = [pt.readLo(ma), pt.readHi(ma)];
  pt.writeEntry(ma, 0, 0);
  unlockL1e(xen, ma);
  return out;
}

/**
 * replace_grant_pv_mapping: the entry `addr` names must map `mfn` with the P and RW bits
 * the grant gave; it is cleared, or (unmap_and_replace, linear addresses only) replaced
 * by the entry at `newAddr`, which is zapped. GNTST_okay or general_error.
 */
export function replaceGrantPvMapping(xen: Xen, v: Vcpu, addr: number, mfn: number, newAddr: number, flags: number): number {
  const containsPte = (flags & GNTMAP_contains_pte) !== 0;
  const pt = xen.pageTypes;
  let nlo = 0, nhi = 0;
  let rc = GNTST_general_error;
  let ma = -1;
  if (containsPte) {
    if (newAddr !== 0) return GNTST_general_error;
    ma = lockL1e(xen, v, addr, true);
  } else {
    if (addr >= TWO32 || newAddr >= TWO32) return GNTST_general_error;
    if (newAddr !== 0) {
      const stolen = stealLinear(xen, v, newAddr);
      if (stolen === null) return GNTST_general_error;
      [nlo, nhi] = stolen;
    }
    ma = lockL1e(xen, v, addr, false);
  }
  if (ma >= 0) {
    const olo = pt.readLo(ma), ohi = pt.readHi(ma);
    const want = grantPteLo(flags);
    if (pteMfn(olo, ohi) === mfn && ((olo ^ want) & (_PAGE_PRESENT | _PAGE_RW)) === 0) {
      pt.writeEntry(ma, nlo, nhi);
      rc = GNTST_okay;
    }
    unlockL1e(xen, ma);
  }
  // On failure we still hold the stolen entry's references.
  if (rc !== GNTST_okay) pt.putPageFromL1e(nlo, nhi, v.domain.domid);
  return rc;
}
