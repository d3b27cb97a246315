import { describe, expect, it } from 'vitest';
import { EACCES, EBUSY, EINVAL, EPERM } from '../../../../abi/errno.ts';
import { makePvDomain, makeXen, frame, setEntry, entryLo, pte } from '../../../testing/harness.ts';
import {
  PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_pae_xen_l2, PGT_type_mask,
  PGT_pinned, PGT_validated, PGT_writable_page,
} from '../../../mm/frame_table.ts';
import { auditMemory } from '../../../audit.ts';

const P = 1, RW = 2, US = 4, PWT = 8, PCD = 0x10, A = 0x20, PSE = 0x80, G = 0x100;

function setup() {
  const xen = makeXen(16);
  const d = makePvDomain(xen, 256);
  return { xen, d, pt: xen.pageTypes, ft: xen.mm.ft };
}

describe('page types: L1 validation', () => {
  it('maps own frames read-only and writable, taking general and writable references', () => {
    const { xen, d, pt, ft } = setup();
    const l1 = frame(xen, d), data = frame(xen, d), ro = frame(xen, d);
    setEntry(xen, l1, 0, pte(data, P | RW | A));
    setEntry(xen, l1, 1, pte(ro, P | A));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    expect(ft.typeInfo[l1]! & PGT_validated).not.toBe(0);
    expect(ft.count[data]).toBe(2);
    expect(ft.typeInfo[data]! & PGT_type_mask).toBe(PGT_writable_page);
    expect(ft.typeInfo[data]! & PGT_count_mask).toBe(1);
    expect(ft.count[ro]).toBe(2);
    pt.putPageType(l1);
    expect(ft.count[data]).toBe(1);
    expect(ft.typeInfo[data]! & PGT_count_mask).toBe(0);
    expect(ft.typeInfo[l1]! & PGT_validated).toBe(0);
  });

  it('refuses another domain\'s frame with -EBUSY and leaves no reference behind', () => {
    const { xen, d, pt, ft } = setup();
    const other = makePvDomain(xen, 64);
    const theirs = frame(xen, other);
    const l1 = frame(xen, d), mine = frame(xen, d);
    setEntry(xen, l1, 0, pte(mine, P | RW));
    setEntry(xen, l1, 7, pte(theirs, P));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(-EBUSY);
    expect(ft.count[theirs]).toBe(1);
    expect(ft.count[mine]).toBe(1);
    expect(ft.typeInfo[mine]! & PGT_count_mask).toBe(0);
    expect(ft.typeInfo[l1]).toBe(0);
    expect(auditMemory(xen)).toEqual([]);
  });

  it('refuses a writable mapping of a page table (-EBUSY) but allows a read-only one', () => {
    const { xen, d, pt } = setup();
    const l1a = frame(xen, d), l1b = frame(xen, d);
    expect(pt.getPageType(l1a, PGT_l1_page_table)).toBe(0);
    setEntry(xen, l1b, 0, pte(l1a, P | RW));
    expect(pt.getPageType(l1b, PGT_l1_page_table)).toBe(-EBUSY);
    setEntry(xen, l1b, 0, pte(l1a, P));
    expect(pt.getPageType(l1b, PGT_l1_page_table)).toBe(0);
  });

  it('checks L1 flags: PWT/PCD/PAT need I/O rights, Global, bits 52-62 and NX are allowed', () => {
    const { xen, d, pt } = setup();
    const l1 = frame(xen, d), data = frame(xen, d);
    for (const bad of [PWT, PCD, PSE]) {
      setEntry(xen, l1, 0, pte(data, P | bad));
      expect(pt.getPageType(l1, PGT_l1_page_table), `flag ${bad}`).toBe(-EINVAL);
    }
    setEntry(xen, l1, 0, pte(data, P | G));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    pt.putPageType(l1);
    setEntry(xen, l1, 0, pte(data, P), 0x7ff00000); // bits 52-62: software bits on x86-64 Xen
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    pt.putPageType(l1);
    setEntry(xen, l1, 0, pte(data, P), 0x80000000 | 0); // NX is fine
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    pt.putPageType(l1);
    d.iomem.add(0x10, 0x10);
    setEntry(xen, l1, 0, pte(data, P | PCD | PWT));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
  });

  it('refuses I/O memory without permission (-EPERM) and allows it with', () => {
    const { xen, d, pt, ft } = setup();
    const l1 = frame(xen, d);
    setEntry(xen, l1, 0, pte(0x80, P)); // the legacy I/O area (DOMID_IO)
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(-EPERM);
    setEntry(xen, l1, 0, pte(ft.frames + 5, P)); // beyond RAM
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(-EPERM);
    d.iomem.add(0x80, 0x80);
    setEntry(xen, l1, 0, pte(0x80, P | RW));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    expect(ft.count[0x80]).toBe(1); // no reference counting for I/O memory
  });

  it('refuses hypervisor frames (-EBUSY) and cache attributes on the shared_info page (-EACCES)', () => {
    const { xen, d, pt } = setup();
    const l1 = frame(xen, d);
    setEntry(xen, l1, 0, pte(xen.m2p.tableFrames[0]!, P));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(-EBUSY);
    setEntry(xen, l1, 0, pte(d.sharedInfoMfn, P | RW));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(0);
    pt.putPageType(l1);
    d.iomem.add(1, 1);
    setEntry(xen, l1, 0, pte(d.sharedInfoMfn, P | PCD));
    expect(pt.getPageType(l1, PGT_l1_page_table)).toBe(-EACCES);
  });
});

describe('page types: L2 and L3', () => {
  it('validates an L2 recursively and refuses PSE and Global', () => {
    const { xen, d, pt, ft } = setup();
    const l2 = frame(xen, d), l1 = frame(xen, d), data = frame(xen, d);
    setEntry(xen, l1, 3, pte(data, P | RW));
    setEntry(xen, l2, 0, pte(l1, P | RW | US | A));
    expect(pt.getPageType(l2, PGT_l2_page_table)).toBe(0);
    expect(ft.typeInfo[l1]! & PGT_type_mask).toBe(PGT_l1_page_table);
    expect(ft.typeInfo[l1]! & PGT_count_mask).toBe(1);
    pt.putPageType(l2);
    expect(ft.typeInfo[l1]! & PGT_count_mask).toBe(0);
    expect(ft.count[data]).toBe(1);
    setEntry(xen, l2, 0, pte(l1, P | PSE));
    expect(pt.getPageType(l2, PGT_l2_page_table)).toBe(-EINVAL);
    setEntry(xen, l2, 0, pte(l1, P | G));
    expect(pt.getPageType(l2, PGT_l2_page_table)).toBe(-EINVAL);
  });

  it('allows an L2 to map itself read-only (linear page table) but not writable', () => {
    const { xen, d, pt, ft } = setup();
    const l2 = frame(xen, d);
    setEntry(xen, l2, 5, pte(l2, P | RW));
    expect(pt.getPageType(l2, PGT_l2_page_table)).toBe(-EINVAL);
    expect(ft.typeInfo[l2]).toBe(0);
    setEntry(xen, l2, 5, pte(l2, P));
    expect(pt.getPageType(l2, PGT_l2_page_table)).toBe(0);
    expect(ft.count[l2]).toBe(1); // the self-map takes no reference
  });

  it('needs slot 3 of an L3 to be a Xen L2 used by that L3 only, and writes Xen\'s slots', () => {
    const { xen, d, pt, ft } = setup();
    const l3 = frame(xen, d), l3b = frame(xen, d), l2 = frame(xen, d), l2hi = frame(xen, d);
    setEntry(xen, l3, 0, pte(l2, P));
    expect(pt.getPageType(l3, PGT_l3_page_table)).toBe(-EINVAL); // slot 3 empty
    setEntry(xen, l3, 3, pte(l2hi, P));
    setEntry(xen, l3, 9, 0x1234); // junk past slot 3 is cleared
    expect(pt.getPageType(l3, PGT_l3_page_table)).toBe(0);
    expect(entryLo(xen, l3, 9)).toBe(0);
    expect(entryLo(xen, l3, 0) & (RW | US)).toBe(RW | US); // the compat adjustment
    expect(ft.typeInfo[l2hi]! & PGT_pae_xen_l2).not.toBe(0);
    expect(entryLo(xen, l2hi, 511)).toBe(d.pv!.xenSlots[(511 - 428) * 2]);
    // A second L3 may not share the Xen L2.
    setEntry(xen, l3b, 3, pte(l2hi, P));
    expect(pt.getPageType(l3b, PGT_l3_page_table)).toBe(-EINVAL);
    // The Xen L2 cannot be an ordinary L2 elsewhere while in use.
    setEntry(xen, l3b, 3, 0);
    setEntry(xen, l3b, 0, pte(l2hi, P));
    expect(pt.getPageType(l3b, PGT_l3_page_table)).toBe(-EINVAL);
    // The test holds l3's type reference itself: account for it as a pin would.
    xen.mm.ft.typeInfo[l3]! |= PGT_pinned;
    xen.mm.getPage(l3, d.domid);
    expect(auditMemory(xen)).toEqual([]);
    xen.mm.ft.typeInfo[l3]! &= ~PGT_pinned;
    xen.mm.putPage(l3);
    pt.putPageType(l3);
    expect(entryLo(xen, l3, 0) & (RW | US)).toBe(0);
    expect(ft.typeInfo[l2hi]! & (PGT_count_mask | PGT_pae_xen_l2)).toBe(0);
  });

  it('tears a linear-table cycle down when the domain dies', () => {
    const { xen, d, pt } = setup();
    const a = frame(xen, d), b = frame(xen, d), l3 = frame(xen, d), l2hi = frame(xen, d);
    setEntry(xen, l3, 0, pte(a, P));
    setEntry(xen, l3, 1, pte(b, P));
    setEntry(xen, l3, 3, pte(l2hi, P));
    expect(pt.getPageType(l3, PGT_l3_page_table)).toBe(0);
    // a and b are validated L2s now; make them name each other read-only.
    expect(xen.pageTypes.getPageFromL2e(pte(b, P), 0, a, d.domid)).toBe(0);
    setEntry(xen, a, 7, pte(b, P));
    expect(xen.pageTypes.getPageFromL2e(pte(a, P), 0, b, d.domid)).toBe(0);
    setEntry(xen, b, 7, pte(a, P));
    pt.putPageType(l3);
    // Only the cycle holds a and b now; the audit sees exactly those references.
    expect(auditMemory(xen)).toEqual([]);
    const before = xen.mm.freePages;
    xen.destroyDomain(d);
    expect(xen.domain(d.domid)).toBeUndefined();
    expect(xen.mm.freePages).toBeGreaterThan(before);
    expect(auditMemory(xen)).toEqual([]);
  });
});
