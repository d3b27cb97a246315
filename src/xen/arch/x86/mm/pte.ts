/**
 * PAE page-table entries as a 32-bit PV guest writes them, and the rules Xen checks them
 * with. An entry is 64 bits, handled here as two int32 halves (lo, hi) so nothing on the
 * validation path allocates a bigint.
 *
 *   lo: bit 0 P, 1 RW, 2 US, 3 PWT, 4 PCD, 5 A, 6 D, 7 PAT (L1) / PSE (L2), 8 G, 9-11 avail,
 *       12-31 frame bits 0-19
 *   hi: bits 0-19 frame bits 20-39 (bits 32-51 of the address), 20-30 software (52-62),
 *       31 NX (63)
 *
 * "Flags" are Xen's 24-bit get_pte_flags() view: entry bits 0-11 and 52-63 packed as
 * bits 0-11 and 12-23 (NX = bit 23). Disallow masks are in that view.
 *
 * Divergence from Xen 4.17 (documented in docs/xen.md): a 64-bit Xen accepts the software
 * bits 52-61 in a 32-bit guest's L1/L2 entries because its hardware walks 4-level tables
 * where they are ignored. tsxen's PV guests run on a PAE CPU, where those bits are reserved
 * and would fault on every access, so they are refused here (-EINVAL) like 32-bit Xen did.
 */

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
export const _PAGE_PAT = 0x080;
export const _PAGE_PSE = 0x080;
export const _PAGE_GLOBAL = 0x100;
export const _PAGE_AVAIL = 0xe00;
/** Flag-view bit 23: entry bit 63. */
export const _PAGE_NX_BIT = 1 << 23;
/** Flag-view bit 22: entry bit 62, Xen's marker for grant mappings (refused in guest PTEs). */
export const _PAGE_GNTTAB = 1 << 22;
/** Flag-view bits 12-21: entry bits 52-61 (software on x86-64, reserved on PAE; see above). */
export const _PAGE_AVAIL_HIGH = 0x3ff000;
export const PAGE_CACHE_ATTRS = _PAGE_PAT | _PAGE_PCD | _PAGE_PWT;

/** PWT, PCD, PAT/PSE, G and the high software bits. */
const BASE_DISALLOW = _PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL | _PAGE_AVAIL_HIGH;
/** L1: Global is allowed (Xen 4.x), grant-marked entries are not; cache attributes only with I/O. */
export const L1_DISALLOW_MASK = (BASE_DISALLOW | _PAGE_GNTTAB) & ~_PAGE_GLOBAL;
/** L1 of a domain with I/O memory or port capabilities: cache attributes allowed. */
export const L1_DISALLOW_MASK_IO = L1_DISALLOW_MASK & ~PAGE_CACHE_ATTRS;
/** L2: no superpages (Xen 4.x dropped PV superpages), no cache attributes, no Global. */
export const L2_DISALLOW_MASK = BASE_DISALLOW | _PAGE_GNTTAB;
/** A 32-bit guest's L3 (Xen's compat mask 0xFFFFF198): P, RW, US, A, D and avail bits only. */
export const L3_DISALLOW_MASK = 0xfff198;

/** Flags a guest may change in a present entry without a re-validation (Xen's fast path). */
export const FASTPATH_FLAG_WHITELIST =
  _PAGE_NX_BIT | _PAGE_AVAIL_HIGH | _PAGE_AVAIL | _PAGE_GLOBAL | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_USER;

/** The 24-bit flag view of an entry. */
export function pteFlags(lo: number, hi: number): number {
  return (lo & 0xfff) | ((hi >>> 8) & 0xfff000);
}

/** The frame number an entry names (up to 40 bits; exact as a double). */
export function pteMfn(lo: number, hi: number): number {
  return (lo >>> 12) + (hi & 0xfffff) * 0x100000;
}

/** True if two entries differ in frame or in flags outside `keep` (Xen's l1e_has_changed). */
export function pteChanged(olo: number, ohi: number, nlo: number, nhi: number, ignoreFlags: number): boolean {
  if (pteMfn(olo, ohi) !== pteMfn(nlo, nhi)) return true;
  return ((pteFlags(olo, ohi) ^ pteFlags(nlo, nhi)) & ~ignoreFlags) !== 0;
}

/** Entries per table and page-table geometry of PAE. */
export const PT_ENTRIES = 512;
export const L2_SHIFT = 21;
export const L3_SHIFT = 30;

/** L2 slot index of a linear address / L3 slot index. */
export const l2Slot = (va: number): number => (va >>> L2_SHIFT) & 511;
export const l1Slot = (va: number): number => (va >>> 12) & 511;
export const l3Slot = (va: number): number => va >>> L3_SHIFT;
