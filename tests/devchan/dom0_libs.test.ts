/**
 * src/dom0/libs on their own (no guest): event-channel handles own their ports, grant
 * handles refuse what was never granted, gntshr's revoke protocol and page pool.
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/host/host.ts';
import { EBADF } from '../../src/abi/errno.ts';
import { GNTST_bad_domain, GNTST_bad_gntref, GNTST_general_error, GNTST_okay, GTF_reading } from '../../src/abi/grant_table.ts';
import { Dom0Pages, XenEvtchn, XenEvtchnError, XenGnttab, XenGntshr, type GrantMapping } from '../../src/dom0/libs/index.ts';
import { auditMemory } from '../../src/xen/audit.ts';

describe('dom0 device-channel libraries', () => {
  it('XenEvtchn: a doorbell to itself, only its own ports, everything unbound on close', () => {
    const h = new Host({ memoryMiB: 64 });
    const a = new XenEvtchn(h.xc, h.events), b = new XenEvtchn(h.xc, h.events);
    let rang = 0;
    const p = a.bindIpi(() => { rang++; });
    expect(a.status(p)).toMatchObject({ state: 'ipi' });
    expect(b.notify(p)).toBe(-EBADF);
    expect(a.notify(p)).toBe(0);
    h.step(1_000_000);
    expect(rang).toBe(1);
    const q = a.bindUnbound(0, () => undefined);
    expect(a.status(q)).toMatchObject({ state: 'unbound', remoteDom: 0 });
    expect(() => a.bindInterdomain(0, 4000, () => undefined)).toThrow(XenEvtchnError);
    a.close();
    expect(a.ports.size).toBe(0);
    expect(a.status(p)).toMatchObject({ state: 'closed' });
    expect(() => a.bindIpi(() => undefined)).toThrow(XenEvtchnError);
    expect(b.unbind(p)).toBe(-EBADF);
  });

  it('XenGnttab and XenGntshr: dom0 granting to itself, revoke refused while mapped', () => {
    const h = new Host({ memoryMiB: 64 });
    const sh = new XenGntshr(h.xc);
    const gt = new XenGnttab(h.xc);
    const free0 = Dom0Pages.of(h.xc).free;
    const page = sh.share(0, true);
    expect(Dom0Pages.of(h.xc).free).toBe(free0 - 1);
    page.bytes[10] = 0x42;
    sh.written(page, 10, 1);
    const m = gt.map(0, page.ref, true) as GrantMapping;
    expect(typeof m).toBe('object');
    expect(m.bytes[10]).toBe(0x42);
    m.bytes[11] = 0x43;
    m.written(11, 1);
    expect(page.bytes[11]).toBe(0x43);
    expect(sh.flags(page.ref) & GTF_reading).toBe(GTF_reading);
    expect(sh.end(page.ref)).toBe(false);
    expect(gt.map(0, 5000, false)).toBe(GNTST_bad_gntref);
    expect(gt.map(0, 200, false)).toBe(GNTST_general_error);
    expect(gt.map(31000, page.ref, false)).toBe(GNTST_bad_domain);
    expect(auditMemory(h.xen)).toEqual([]);
    expect(gt.unmap(m)).toBe(GNTST_okay);
    expect(m.live).toBe(false);
    expect(sh.end(page.ref)).toBe(true);
    expect(Dom0Pages.of(h.xc).free).toBe(free0);
    expect(auditMemory(h.xen)).toEqual([]);
  });
});
