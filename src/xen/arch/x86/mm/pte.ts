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
 * As on a 64-bit Xen 4.17 release build, the software bits 52-62 are allowed in a 32-bit
 * guest's L1 and L2 entries (Xen's hardware walks them with long-mode paging, where they
 * are ignored; _PAGE_GNTTAB is 0 outside debug builds) and refused in its L3 entries.
 * The emulated CPU must ignore them too (docs/cpu.md, requests from the hypervisor): on a
 * bare PAE walk they are reserved.
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
/**
 * Xen's marker for grant mappings in debug builds (flag-view bit 22, entry bit 62); a
 * release build, which Debian's 4.17 is, defines it as 0, so guests may use bit 62.
 */
export const _PAGE_GNTTAB = 0;
/** Flag-view bits 12-22: entry bits 52-62 (software bits under long-mode paging). */
export const _PAGE_AVAIL_HIGH = 0x7ff000;
export const PAGE_CACHE_ATTRS = _PAGE_PAT | _PAGE_PCD | _PAGE_PWT;

/** PWT, PCD, PAT/PSE, G (Xen x86-64's BASE_DISALLOW_MASK 0xFF800198 & ~_PAGE_NX). */
const BASE_DISALLOW = _PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL;
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
