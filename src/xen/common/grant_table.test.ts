import { describe, expect, it } from 'vitest';
import {
  GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_contains_pte, GNTMAP_device_map, GNTMAP_host_map, GNTMAP_readonly,
  GNTST_bad_copy_arg, GNTST_bad_dev_addr, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_handle, GNTST_bad_page, GNTST_general_error,
  GNTST_no_space, GNTST_okay, GNTST_permission_denied, GTF_accept_transfer, GTF_permit_access, GTF_readonly,
  GTF_reading, GTF_transfer_committed, GTF_transfer_completed, GTF_writing,
} from '../../abi/grant_table.ts';
import { DOMID_SELF } from '../../abi/xen.ts';
import { makePvDomain, makeXen, frame } from '../testing/harness.ts';
import { auditMemory } from '../audit.ts';
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import { grantTables, MAPTRACK_PER_PAGE } from './grant_table.ts';
import { MapOp, UnmapOp, completeUnmap, mapGrantRef, releaseMappings, unmapCommon } from './grant_table_map.ts';
import { CopyOp, gnttabCopyOne } from './grant_table_copy.ts';
import { TransferOp, gnttabTransferOne } from './grant_table_transfer.ts';
import { PGT_l1_page_table, PGT_pinned } from '../mm/frame_table.ts';

/** Write grant entry `ref` of `d`'s table as a guest does (domid, frame, then flags). */
function grant(xen: Xen, d: Domain, ref: number, domid: number, frameNo: number, flags: number): void {
  const t = grantTables(xen).of(d);
  const ma = t.entryMa(ref);
  xen.mem.view.setUint16(ma + 2, domid, true);
  xen.mem.view.setUint32(ma + 4, frameNo, true);
  xen.mem.view.setUint16(ma, flags, true);
}

function entryFlags(xen: Xen, d: Domain, ref: number): number {
  return xen.mem.view.getUint16(grantTables(xen).of(d).entryMa(ref), true);
}

function map(xen: Xen, ld: Domain, dom: number, ref: number, flags: number, hostAddr = 0): MapOp {
  const op = new MapOp();
  op.dom = dom;
  op.ref = ref;
  op.flags = flags;
  op.hostAddr = hostAddr;
  mapGrantRef(grantTables(xen), ld.vcpu(0)!, op, null);
  return op;
}

function unmap(xen: Xen, ld: Domain, handle: number, hostAddr: number, devBusAddr: number): number {
  const op = new UnmapOp();
  op.reset(hostAddr, devBusAddr, 0, handle);
  const g = grantTables(xen);
  unmapCommon(g, ld.vcpu(0)!, op, null);
  g.flushTlb(ld);
  completeUnmap(g, ld.vcpu(0)!, op);
  return op.status;
}

/** A validated, pinned (MMUEXT_PIN_L1_TABLE) empty L1 of `d`. */
function pinnedL1(xen: Xen, d: Domain): number {
  const l1 = frame(xen, d);
  expect(xen.pageTypes.getPageAndType(l1, PGT_l1_page_table, d.domid)).toBe(0);
  xen.mm.ft.typeInfo[l1]! |= PGT_pinned;
  return l1;
}

function noAuditErrors(xen: Xen): void {
  expect(auditMemory(xen)).toEqual([]);
}

function setup() {
  const xen = makeXen(16);
  const a = makePvDomain(xen, 256), b = makePvDomain(xen, 256);
  const page = frame(xen, a);
  return { xen, a, b, page, g: grantTables(xen) };
}

describe('grant tables: map and unmap (device mappings)', () => {
  it('maps a permitted frame, sets GTF_reading/GTF_writing, holds references, and unmaps cleanly', () => {
    const { xen, a, b, page } = setup();
    grant(xen, a, 8, b.domid, page, GTF_permit_access);
    const before = xen.mm.ft.count[page]!;
    const m = map(xen, b, a.domid, 8, GNTMAP_device_map);
    expect(m.status).toBe(GNTST_okay);
    expect(m.devBusAddr).toBe(page * 4096);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    expect(xen.mm.ft.count[page]).toBe(before + 1);
    noAuditErrors(xen);
    expect(unmap(xen, b, m.handle, 0, page * 4096)).toBe(GNTST_okay);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
    expect(xen.mm.ft.count[page]).toBe(before);
    noAuditErrors(xen);
    // The handle is free now.
    expect(unmap(xen, b, m.handle, 0, page * 4096)).toBe(GNTST_bad_handle);
  });

  it('refuses what was not granted: wrong domain, readonly entry, unset entry, refs past the table', () => {
    const { xen, a, b, page } = setup();
    const c = makePvDomain(xen, 64);
    grant(xen, a, 9, c.domid, page, GTF_permit_access);
    expect(map(xen, b, a.domid, 9, GNTMAP_device_map).status).toBe(GNTST_general_error);
    grant(xen, a, 10, b.domid, page, GTF_permit_access | GTF_readonly);
    expect(map(xen, b, a.domid, 10, GNTMAP_device_map).status).toBe(GNTST_general_error);
    const ro = map(xen, b, a.domid, 10, GNTMAP_device_map | GNTMAP_readonly);
    expect(ro.status).toBe(GNTST_okay);
    expect(entryFlags(xen, a, 10)).toBe(GTF_permit_access | GTF_readonly | GTF_reading);
    expect(map(xen, b, a.domid, 11, GNTMAP_device_map).status).toBe(GNTST_general_error);
    expect(map(xen, b, a.domid, 512, GNTMAP_device_map).status).toBe(GNTST_bad_gntref);
    expect(map(xen, b, a.domid, 8, 0).status).toBe(GNTST_bad_gntref);
    expect(map(xen, b, 31000, 8, GNTMAP_device_map).status).toBe(GNTST_bad_domain);
    // A frame the granter does not own.
    const other = frame(xen, b);
    grant(xen, a, 12, b.domid, other, GTF_permit_access);
    expect(map(xen, b, a.domid, 12, GNTMAP_device_map).status).toBe(GNTST_bad_page);
    expect(entryFlags(xen, a, 12)).toBe(GTF_permit_access); // status bits undone
    // Pinned by b: c cannot pin it too.
    grant(xen, a, 13, b.domid, page, GTF_permit_access);
    expect(map(xen, b, a.domid, 13, GNTMAP_device_map | GNTMAP_readonly).status).toBe(GNTST_okay);
    grant(xen, a, 13, c.domid, page, GTF_permit_access | GTF_reading);
    expect(map(xen, c, a.domid, 13, GNTMAP_device_map | GNTMAP_readonly).status).toBe(GNTST_general_error);
    expect(unmap(xen, b, ro.handle, 0, page * 4096 + 4096)).toBe(GNTST_bad_dev_addr); // wrong bus address
    noAuditErrors(xen);
  });

  it('a writable map of a page-table frame fails and undoes everything', () => {
    const { xen, a, b } = setup();
    const l1 = pinnedL1(xen, a);
    grant(xen, a, 8, b.domid, l1, GTF_permit_access);
    expect(map(xen, b, a.domid, 8, GNTMAP_device_map).status).toBe(GNTST_general_error);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
    expect(grantTables(xen).of(a).actPin[8]).toBe(0);
    expect(map(xen, b, a.domid, 8, GNTMAP_device_map | GNTMAP_readonly).status).toBe(GNTST_okay);
    noAuditErrors(xen);
  });

  it('stops a pin counter at 128 (overflow guard)', () => {
    const { xen, a, b, page } = setup();
    grant(xen, a, 8, b.domid, page, GTF_permit_access | GTF_readonly);
    let ok = 0;
    for (let i = 0; i < 200; i++) if (map(xen, b, a.domid, 8, GNTMAP_device_map | GNTMAP_readonly).status === GNTST_okay) ok++;
    expect(ok).toBe(128);
    noAuditErrors(xen);
  });

  it('runs out of maptrack handles at the limit (one frame keeps one entry back)', () => {
    const { xen, a, b, page } = setup();
    const g = grantTables(xen);
    expect(g.setLimits(b, -1, 1)).toBe(0);
    expect(g.setLimits(b, 0, 1)).toBe(-22);
    expect(g.setLimits(b, 65, 1)).toBe(-22);
    expect(g.setLimits(b, 4, 1025)).toBe(-22);
    // Many refs to the same frame, read-only device maps.
    for (let r = 8; r < 8 + 4; r++) grant(xen, a, r, b.domid, page, GTF_permit_access | GTF_readonly);
    const handles: number[] = [];
    let last = GNTST_okay;
    for (let i = 0; i < 300 && last === GNTST_okay; i++) {
      const m = map(xen, b, a.domid, 8 + (i % 4), GNTMAP_device_map | GNTMAP_readonly);
      last = m.status;
      if (m.status === GNTST_okay) handles.push(m.handle);
    }
    expect(last).toBe(GNTST_no_space);
    expect(handles.length).toBe(MAPTRACK_PER_PAGE - 1);
    expect(handles.slice(0, 3)).toEqual([0, 1, 2]);
    // Freed handles join the tail: the kept-back entry (255) is handed out first, then 0.
    expect(unmap(xen, b, 0, 0, page * 4096)).toBe(GNTST_okay);
    const again = map(xen, b, a.domid, 8, GNTMAP_device_map | GNTMAP_readonly);
    expect(again.status).toBe(GNTST_okay);
    expect(again.handle).toBe(255);
    expect(map(xen, b, a.domid, 8, GNTMAP_device_map | GNTMAP_readonly).status).toBe(GNTST_no_space);
    expect(unmap(xen, b, 1, 0, page * 4096)).toBe(GNTST_okay);
    expect(map(xen, b, a.domid, 8, GNTMAP_device_map | GNTMAP_readonly).handle).toBe(0);
    noAuditErrors(xen);
  });
});

describe('grant tables: host mappings into a PV L1 (contains_pte)', () => {
  it('writes the grant PTE, keeps the references in it, and clears it on unmap', () => {
    const { xen, a, b, page } = setup();
    const l1 = pinnedL1(xen, b);
    grant(xen, a, 8, b.domid, page, GTF_permit_access);
    const pteMa = l1 * 4096 + 5 * 8;
    const m = map(xen, b, a.domid, 8, GNTMAP_host_map | GNTMAP_contains_pte, pteMa);
    expect(m.status).toBe(GNTST_okay);
    const lo = xen.mem.view.getUint32(pteMa, true), hi = xen.mem.view.getUint32(pteMa + 4, true);
    expect(lo >>> 12).toBe(page);
    expect(lo & 0x63).toBe(0x63); // P RW A D
    expect(hi >>> 31).toBe(1); // NX
    noAuditErrors(xen);
    // An unmap naming another PTE fails; the right one succeeds.
    expect(unmap(xen, b, m.handle, pteMa + 8, 0)).toBe(GNTST_general_error);
    expect(unmap(xen, b, m.handle, pteMa, 0)).toBe(GNTST_okay);
    expect(xen.mem.view.getUint32(pteMa, true)).toBe(0);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
    noAuditErrors(xen);
    // A PTE slot in a frame that is not a validated L1 of the mapper.
    const plain = frame(xen, b);
    expect(map(xen, b, a.domid, 8, GNTMAP_host_map | GNTMAP_contains_pte, plain * 4096).status).toBe(GNTST_general_error);
    expect(map(xen, b, a.domid, 8, GNTMAP_host_map | GNTMAP_contains_pte, pteMa + 3).status).toBe(GNTST_general_error);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
    noAuditErrors(xen);
  });

  it('a granter cannot revoke while mapped, and destruction of the mapper releases the pins', () => {
    const { xen, a, b, page } = setup();
    const l1 = pinnedL1(xen, b);
    grant(xen, a, 8, b.domid, page, GTF_permit_access | GTF_readonly);
    const m = map(xen, b, a.domid, 8, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_readonly, l1 * 4096);
    expect(m.status).toBe(GNTST_okay);
    // The revoke protocol sees GTF_reading: still in use.
    expect(entryFlags(xen, a, 8) & (GTF_reading | GTF_writing)).toBe(GTF_reading);
    const g = grantTables(xen);
    releaseMappings(g, b);
    xen.destroyDomain(b);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access | GTF_readonly);
    noAuditErrors(xen);
  });
});

describe('grant tables: copy', () => {
  function copyOp(p: Partial<CopyOp>): CopyOp {
    return Object.assign(new CopyOp(), p);
  }

  it('copies between a local frame and a granted one in both directions', () => {
    const { xen, a, b, page } = setup();
    const local = frame(xen, b);
    xen.mem.u8.set([1, 2, 3, 4], local * 4096 + 10);
    grant(xen, a, 8, b.domid, page, GTF_permit_access);
    const v = b.vcpu(0)!;
    const g = grantTables(xen);
    let rc = gnttabCopyOne(g, v, copyOp({ srcU: local, srcDomid: DOMID_SELF, srcOffset: 10, dstU: 8, dstDomid: a.domid,
      dstOffset: 4092, len: 4, flags: GNTCOPY_dest_gref }));
    expect(rc).toBe(GNTST_okay);
    expect([...xen.mem.u8.subarray(page * 4096 + 4092, page * 4096 + 4096)]).toEqual([1, 2, 3, 4]);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
    rc = gnttabCopyOne(g, v, copyOp({ srcU: 8, srcDomid: a.domid, srcOffset: 4092, dstU: local, dstDomid: DOMID_SELF,
      dstOffset: 0, len: 4, flags: GNTCOPY_source_gref }));
    expect(rc).toBe(GNTST_okay);
    expect([...xen.mem.u8.subarray(local * 4096, local * 4096 + 4)]).toEqual([1, 2, 3, 4]);
    noAuditErrors(xen);
  });

  it('copies with every flag combination (frame/gref on each side) and leaves no GTF_reading/writing', () => {
    const { xen, a, b, page } = setup();
    const page2 = frame(xen, a);
    const l1 = frame(xen, b), l2 = frame(xen, b);
    grant(xen, a, 8, b.domid, page, GTF_permit_access);
    grant(xen, a, 9, b.domid, page2, GTF_permit_access);
    const g = grantTables(xen);
    const v = b.vcpu(0)!;
    const side = (gref: boolean, ref: number, local: number, mfn: number) =>
      gref ? { u: ref, domid: a.domid, mfn } : { u: local, domid: DOMID_SELF, mfn: local };
    for (const flags of [0, GNTCOPY_source_gref, GNTCOPY_dest_gref, GNTCOPY_source_gref | GNTCOPY_dest_gref]) {
      const src = side((flags & GNTCOPY_source_gref) !== 0, 8, l1, page);
      const dst = side((flags & GNTCOPY_dest_gref) !== 0, 9, l2, page2);
      const bytes = [flags + 1, 0xa5, 0x5a, flags + 0x40, 0xff];
      xen.mem.u8.set(bytes, src.mfn * 4096 + 100);
      xen.mem.u8.fill(0, dst.mfn * 4096 + 3000, dst.mfn * 4096 + 3005);
      const rc = gnttabCopyOne(g, v, copyOp({ srcU: src.u, srcDomid: src.domid, srcOffset: 100, dstU: dst.u,
        dstDomid: dst.domid, dstOffset: 3000, len: bytes.length, flags }));
      expect(rc, `flags ${flags}`).toBe(GNTST_okay);
      expect([...xen.mem.u8.subarray(dst.mfn * 4096 + 3000, dst.mfn * 4096 + 3005)], `flags ${flags}`).toEqual(bytes);
      expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access);
      expect(entryFlags(xen, a, 9)).toBe(GTF_permit_access);
      noAuditErrors(xen);
    }
    // Zero length copies nothing and succeeds; a frame side naming another domain's frame is refused.
    expect(gnttabCopyOne(g, v, copyOp({ srcU: l1, srcDomid: DOMID_SELF, dstU: l2, dstDomid: DOMID_SELF, len: 0 }))).toBe(GNTST_okay);
    expect(gnttabCopyOne(g, v, copyOp({ srcU: l1, srcDomid: DOMID_SELF, dstU: page, dstDomid: DOMID_SELF, len: 4 }))).toBe(GNTST_bad_page);
    expect(gnttabCopyOne(g, v, copyOp({ srcU: l1, srcDomid: DOMID_SELF, dstU: 9, dstDomid: a.domid, len: 4,
      flags: GNTCOPY_source_gref }))).toBe(GNTST_permission_denied);
    noAuditErrors(xen);
  });

  it('gives each refusal its status', () => {
    const { xen, a, b, page } = setup();
    const local = frame(xen, b);
    const g = grantTables(xen);
    const v = b.vcpu(0)!;
    grant(xen, a, 8, b.domid, page, GTF_permit_access | GTF_readonly);
    const base = { srcU: 8, srcDomid: a.domid, srcOffset: 0, dstU: local, dstDomid: DOMID_SELF, dstOffset: 0, len: 16 };
    expect(gnttabCopyOne(g, v, copyOp({ ...base, flags: GNTCOPY_source_gref, len: 4097 }))).toBe(GNTST_bad_copy_arg);
    expect(gnttabCopyOne(g, v, copyOp({ ...base, flags: 0 }))).toBe(GNTST_permission_denied);
    expect(gnttabCopyOne(g, v, copyOp({ ...base, flags: GNTCOPY_source_gref, srcDomid: 31000 }))).toBe(GNTST_bad_domain);
    expect(gnttabCopyOne(g, v, copyOp({ ...base, flags: GNTCOPY_source_gref, srcU: 9999 }))).toBe(GNTST_bad_gntref);
    expect(gnttabCopyOne(g, v, copyOp({ ...base, flags: GNTCOPY_source_gref, srcU: 9 }))).toBe(GNTST_general_error);
    // A read-only grant cannot be a copy destination.
    expect(gnttabCopyOne(g, v, copyOp({ srcU: local, srcDomid: DOMID_SELF, dstU: 8, dstDomid: a.domid, len: 4,
      flags: GNTCOPY_dest_gref }))).toBe(GNTST_general_error);
    // A local frame we do not own.
    expect(gnttabCopyOne(g, v, copyOp({ ...base, srcU: page, srcDomid: DOMID_SELF, flags: 0 }))).toBe(GNTST_bad_page);
    expect(entryFlags(xen, a, 8)).toBe(GTF_permit_access | GTF_readonly);
    noAuditErrors(xen);
  });
});

describe('grant tables: transfer', () => {
  it('moves a frame to the receiver and completes its accept_transfer entry', () => {
    const { xen, a, b } = setup();
    const gift = frame(xen, a);
    xen.mem.u8[gift * 4096 + 7] = 0x5a;
    grant(xen, b, 8, a.domid, 0x1234, GTF_accept_transfer);
    const ta = a.totPages, tb = b.totPages;
    const op = Object.assign(new TransferOp(), { mfn: gift, domid: b.domid, ref: 8 });
    gnttabTransferOne(grantTables(xen), a.vcpu(0)!, op, null);
    expect(op.status).toBe(GNTST_okay);
    expect(xen.mm.ft.owner[gift]).toBe(b.domid);
    expect(a.totPages).toBe(ta - 1);
    expect(b.totPages).toBe(tb + 1);
    expect(entryFlags(xen, b, 8)).toBe(GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
    expect(xen.mem.view.getUint32(grantTables(xen).of(b).entryMa(8) + 4, true)).toBe(gift);
    expect(xen.m2p.get(gift)).toBe(0x1234);
    expect(xen.mem.u8[gift * 4096 + 7]).toBe(0x5a);
    noAuditErrors(xen);
  });

  it('refuses a mapped frame (bad_page) and loses a stolen frame when the receiver refuses', () => {
    const { xen, a, b } = setup();
    const g = grantTables(xen);
    g.of(b);
    const busy = frame(xen, a);
    xen.mm.getPage(busy, a.domid);
    const op = Object.assign(new TransferOp(), { mfn: busy, domid: b.domid, ref: 8 });
    gnttabTransferOne(g, a.vcpu(0)!, op, null);
    expect(op.status).toBe(GNTST_bad_page);
    xen.mm.putPage(busy);
    const free0 = xen.mm.freePages;
    const gift = frame(xen, a);
    const ta = a.totPages;
    op.mfn = gift;
    op.ref = 8; // b has not set up an accept_transfer entry
    gnttabTransferOne(g, a.vcpu(0)!, op, null);
    expect(op.status).toBe(GNTST_general_error);
    expect(a.totPages).toBe(ta - 1);
    expect(xen.mm.freePages).toBe(free0);
    op.mfn = frame(xen, a);
    op.domid = 31000;
    gnttabTransferOne(g, a.vcpu(0)!, op, null);
    expect(op.status).toBe(GNTST_bad_domain);
    noAuditErrors(xen);
  });
});

describe('grant tables: lifecycle', () => {
  it('keeps a dying granter\'s table until its mapped frames are unmapped, then frees everything', () => {
    const { xen, a, b, page } = setup();
    grant(xen, a, 8, b.domid, page, GTF_permit_access);
    const m = map(xen, b, a.domid, 8, GNTMAP_device_map);
    expect(m.status).toBe(GNTST_okay);
    const free0 = xen.mm.freePages;
    xen.destroyDomain(a);
    expect(xen.domain(a.domid)).toBe(a); // a zombie while b maps its frame
    expect(unmap(xen, b, m.handle, 0, page * 4096)).toBe(GNTST_okay);
    expect(xen.domain(a.domid)).toBeUndefined();
    expect(xen.mm.freePages).toBeGreaterThan(free0);
    noAuditErrors(xen);
  });
});
