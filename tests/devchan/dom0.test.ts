/**
 * Device channels between a PV guest and dom0 (a native domain using src/dom0/libs):
 * the devchan test kernels with dom0 playing the other role.
 *   - grant-access: dom0 maps the guest's grants (zero-copy views), writes through the
 *     writable one, cannot write the read-only one, copies with GNTTABOP_copy, keeps a
 *     mapping across the guest's forced revoke, unmaps; the guest checks all of it;
 *   - grant-transfer: pages flipped from the guest into dom0's physmap, and from dom0
 *     (a native sender) into the guest's;
 *   - evtchn-pingpong: dom0 as the client (its events arrive as upcalls of the native
 *     domain), including close and rebind.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GNTST_bad_copy_arg, GNTST_general_error, GNTST_okay, GTF_permit_access } from '../../src/abi/grant_table.ts';
import { Dom0Pages, XenEvtchn, XenGnttab, XenGntshr, seedReservedGrants, type GrantMapping } from '../../src/dom0/libs/index.ts';
import { GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE } from '../../src/abi/grant_table.ts';
import { XENCONS_INTERFACE_OUT_PROD } from '../../src/abi/io/console.ts';
import { ConsoleBackend } from '../../src/dom0/console/console_backend.ts';
import { BUILD } from './tsxen_harness.ts';
import { Dom0Peer } from './dom0_peer.ts';

const have = (k: string): boolean => existsSync(join(BUILD, k));
const nums = (s: string): number[] => s.trim().split(/\s+/).map(Number);

describe('device channels between a guest and dom0', () => {
  it.skipIf(!have('devchan-grant_access.elf'))('dom0 maps, copies and unmaps a guest\'s grants', async () => {
    const p = new Dom0Peer('devchan-grant_access.elf', 'granter');
    const gt = new XenGnttab(p.host.xc);
    const [ra, rb, rc, rother, runset] = nums(await p.get('refs')) as [number, number, number, number, number];
    const [mb] = nums(await p.get('frames'));
    const g = p.domid;
    const a = gt.map(g, ra, true) as GrantMapping;
    const b = gt.map(g, rb, false) as GrantMapping;
    expect(typeof a).toBe('object');
    expect(typeof b).toBe('object');
    // The granter's pattern, seen through the views (no copy).
    for (const i of [0, 1, 100, 4095]) expect(a.bytes[i]).toBe((1 + i * 7) & 0xff);
    expect(b.bytes[5]).toBe((2 + 5 * 7) & 0xff);
    expect(b.mfn).toBe(mb);
    a.bytes[0] = 0xa5;
    a.bytes[4095] = 0x5a;
    a.written(0, 4096);
    // A read-only grant: no writable view, and writes through the port are refused.
    expect(p.host.port.view(b.gpa, 16, true)).toBeNull();
    expect(p.host.port.write(b.gpa, new Uint8Array([9]))).toBe(false);
    expect(gt.map(g, rb, true)).toBe(GNTST_general_error);
    expect(gt.map(g, runset, false)).toBe(GNTST_general_error);
    expect(gt.map(g, rother, false)).toBe(GNTST_general_error);
    const c = gt.map(g, rc, true) as GrantMapping;
    // Copies between grants and dom0's own page.
    const local = Dom0Pages.of(p.host.xc).take();
    expect([...gt.copy([{ src: { ref: ra, domid: g, offset: 100 }, dst: { gmfn: local, offset: 0 }, len: 50 }])]).toEqual([GNTST_okay]);
    expect([...gt.copy([
      { src: { gmfn: local, offset: 0 }, dst: { ref: ra, domid: g, offset: 3900 }, len: 50 },
      { src: { ref: ra, domid: g, offset: 100 }, dst: { ref: ra, domid: g, offset: 4000 }, len: 50 },
      { src: { gmfn: local, offset: 0 }, dst: { ref: rb, domid: g, offset: 0 }, len: 50 },
      { src: { gmfn: local, offset: 0 }, dst: { ref: ra, domid: g, offset: 4000 }, len: 200 },
    ])]).toEqual([GNTST_okay, GNTST_okay, GNTST_general_error, GNTST_bad_copy_arg]);
    await p.sync('mapped');
    await p.sync('copied');
    await p.get('forced');
    c.bytes[8] = 0x77;
    c.written(8, 1);
    expect(gt.unmap(c)).toBe(GNTST_okay);
    expect(gt.unmap(a)).toBe(GNTST_okay);
    expect(gt.unmap(b)).toBe(GNTST_okay);
    expect(gt.mappings).toBe(0);
    await p.sync('unmapped');
    await p.get('revoked');
    expect(gt.map(g, ra, true)).toBe(GNTST_general_error);
    await p.sync('done');
    const r = await p.finish();
    expect(r.verdict, r.console).toBe('SUCCESS');
    expect(r.audit).toEqual([]);
  }, 300_000);

  it.skipIf(!have('devchan-grant_transfer.elf'))('a guest flips pages into dom0, and dom0 (a native sender) into a guest', async () => {
    // Guest sends, dom0 receives.
    {
      const p = new Dom0Peer('devchan-grant_transfer.elf', 'sender');
      const sh = new XenGntshr(p.host.xc);
      const t0 = sh.acceptTransfer(p.domid), t1 = sh.acceptTransfer(p.domid);
      const bad = sh.share(p.domid, true);
      p.put('refs', `${t0.ref} ${t1.ref} ${bad.ref}`);
      await p.get('sent');
      for (const [i, t] of [t0, t1].entries()) {
        expect(sh.transferred(t.ref)).toBe(true);
        const v = p.host.port.view(t.gfn * 4096, 4096);
        expect(v).not.toBeNull();
        const w = new DataView(v!.buffer, v!.byteOffset, 4096); // SAFETY: checked just above
        for (const k of [0, 1, 1023]) expect(w.getUint32(k * 4, true)).toBe(((0xf1100000 + i) ^ Math.imul(k, 0x9E3779B1)) >>> 0);
        sh.endTransfer(t.ref, t.gfn);
      }
      expect(sh.flags(bad.ref)).toBe(GTF_permit_access);
      expect(sh.end(bad.ref)).toBe(true);
      await p.sync('done');
      const r = await p.finish();
      expect(r.verdict, r.console).toBe('SUCCESS');
      expect(r.audit).toEqual([]);
    }
    // dom0 sends, the guest receives.
    {
      const p = new Dom0Peer('devchan-grant_transfer.elf', 'receiver');
      const gt = new XenGnttab(p.host.xc);
      const [r0, r1] = nums(await p.get('refs')) as [number, number, number];
      for (const [i, ref] of [r0, r1].entries()) {
        const pfn = Dom0Pages.of(p.host.xc).take();
        const page = new Uint8Array(4096);
        const w = new DataView(page.buffer);
        for (let k = 0; k < 1024; k++) w.setUint32(k * 4, ((0xf1100000 + i) ^ Math.imul(k, 0x9E3779B1)) >>> 0, true);
        expect(p.host.port.write(pfn * 4096, page)).toBe(true);
        expect(gt.transfer(pfn, p.domid, ref)).toBe(GNTST_okay);
        expect(p.host.port.view(pfn * 4096, 16)).toBeNull(); // left dom0's physmap
      }
      p.put('sent', 1);
      await p.sync('done');
      const r = await p.finish();
      expect(r.verdict, r.console).toBe('SUCCESS');
      expect(r.audit).toEqual([]);
    }
  }, 300_000);

  it.skipIf(!have('devchan-evtchn_pingpong.elf'))('event-channel ping-pong with dom0 as the client', async () => {
    const p = new Dom0Peer('devchan-evtchn_pingpong.elf', 'server');
    const ev = new XenEvtchn(p.host.xc, p.host.events);
    const sport = Number(await p.get('port'));
    await p.get('other');
    let replies = 0;
    const port = ev.bindInterdomain(p.domid, sport, () => { replies++; });
    expect(ev.status(port)).toMatchObject({ state: 'interdomain', remoteDom: p.domid, remotePort: sport });
    p.put('port', port);
    await p.sync('bound');
    replies = 0; // the make-up event of bind_interdomain
    for (const phase of ['poll', 'upcall']) {
      if (phase === 'upcall') await p.sync('upcalls');
      const start = replies;
      for (let i = 0; i < 100; i++) {
        expect(ev.notify(port)).toBe(0);
        await p.runUntil(() => replies > start + i);
      }
      expect(replies - start).toBe(100);
    }
    await p.sync('burst');
    for (let i = 0; i < 3; i++) expect(ev.notify(port)).toBe(0);
    p.put('sent', 1);
    expect(ev.unbind(port)).toBe(0);
    p.put('closed', 1);
    await p.get('closed-seen');
    const port2 = ev.bindInterdomain(p.domid, sport, () => { replies++; });
    p.put('port2', port2);
    await p.sync('rebound');
    expect(ev.notify(port2)).toBe(0);
    await p.get('server-closed');
    expect(ev.status(port2)).toMatchObject({ state: 'unbound', remoteDom: p.domid });
    expect(ev.notify(port2)).toBe(0);
    ev.close();
    expect(ev.ports.size).toBe(0);
    p.put('done', 1);
    const r = await p.finish();
    expect(r.verdict, r.console).toBe('SUCCESS');
    expect(r.audit).toEqual([]);
  }, 300_000);

  it.skipIf(!have('devchan-evtchn_pingpong.elf'))('xenconsoled finds a console through xenstore and follows the guest to its end', async () => {
    const p = new Dom0Peer('devchan-evtchn_pingpong.elf', 'server');
    // Take the console from the toolstack's backend and let a store-driven one find it.
    p.host.consoles.detach(p.domid);
    const cons = new ConsoleBackend(p.host.xc, p.host.events);
    cons.watchStore(p.xs);
    const c = cons.connection(p.domid);
    expect(c).toBeDefined();
    await p.get('port');
    expect(c!.log).toContain('devchan: domid'); // SAFETY: checked above
    // The guest never gets a peer reply: destroy it; @releaseDomain detaches its console.
    p.host.toolstack.destroy(p.domid);
    p.dh.daemon.domains.checkDomains();
    await p.runUntil(() => cons.connection(p.domid) === undefined, 5e9);
    expect(cons.connection(p.domid)).toBeUndefined();
    expect(c!.closed).toBe(true); // SAFETY: checked above
  }, 300_000);

  it.skipIf(!have('devchan-evtchn_pingpong.elf'))('seeded reserved grants let dom0 map the console and xenstore rings by grant', async () => {
    const p = new Dom0Peer('devchan-evtchn_pingpong.elf', 'server');
    const g = p.host.toolstack.guest(p.domid)!; // SAFETY: the peer's guest exists
    seedReservedGrants(p.host.xc, p.domid, { consoleFrame: g.built.consoleMfn, consoleDomid: 0, storeFrame: g.built.storeMfn, storeDomid: 0 });
    await p.get('port');
    const gt = new XenGnttab(p.host.xc);
    const con = gt.map(p.domid, GNTTAB_RESERVED_CONSOLE, true) as GrantMapping;
    const store = gt.map(p.domid, GNTTAB_RESERVED_XENSTORE, true) as GrantMapping;
    expect(con.mfn).toBe(g.built.consoleMfn);
    expect(store.mfn).toBe(g.built.storeMfn);
    // The same bytes the console backend reads through its foreign mapping.
    expect(new DataView(con.bytes.buffer, con.bytes.byteOffset).getUint32(XENCONS_INTERFACE_OUT_PROD, true)).toBeGreaterThan(0);
    expect(gt.unmapBatch([con, store])).toEqual([GNTST_okay, GNTST_okay]);
    p.host.toolstack.destroy(p.domid);
    const r = await p.finish();
    expect(r.audit).toEqual([]);
  }, 300_000);
});
