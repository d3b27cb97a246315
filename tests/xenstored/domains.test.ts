/**
 * Introduction and release of domains (the toolstack's API and XS_INTRODUCE/XS_RELEASE on
 * the wire), @introduceDomain / @releaseDomain, shutdown tracking with XS_RESUME, removal
 * of a released domain's nodes, and re-introduction.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD, XENSTORE_IF_RSP_PROD, XS_IS_DOMAIN_INTRODUCED,
} from '../../src/abi/io/xs_wire.ts';
import { asDomId, asEvtchnPort, asGfn, type DomId, type EvtchnPort, type Gfn } from '../../src/abi/types.ts';
import type { XsDomainState, XsPlatform } from '../../src/dom0/xenstored/domain.ts';
import { RingFrontend } from '../../src/dom0/xenstored/ring_frontend.ts';
import { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { daemon, evtchnPair, ownHome, ringDomain, settle, text, type EvtchnPair } from './harness.ts';

/** A stand-in for the hypervisor side xenstored needs: pages by MFN, event channels, states. */
class FakePlatform implements XsPlatform {
  readonly pages = new Map<number, Uint8Array>();
  readonly channels = new Map<number, EvtchnPair>();
  readonly states = new Map<number, XsDomainState>();
  mapRing(_domid: DomId, gfn: Gfn): Uint8Array | undefined {
    return this.pages.get(gfn);
  }
  bindEvent(domid: DomId, port: EvtchnPort): EvtchnPair['server'] | undefined {
    if (port > 1000) return undefined;
    const p = evtchnPair();
    this.channels.set(domid, p);
    return p.server;
  }
  domainState(domid: DomId): XsDomainState {
    return this.states.get(domid) ?? 'running';
  }
}

let platform: FakePlatform;
let env: ReturnType<typeof daemon>;

beforeEach(() => {
  platform = new FakePlatform();
  env = daemon({ platform });
});

async function specialWatcher(): Promise<Array<readonly [string, string]>> {
  const { dom0 } = env;
  const events: Array<readonly [string, string]> = [];
  dom0.onWatch((p, t) => events.push([p, t]));
  dom0.watch('@introduceDomain', 'intro');
  dom0.watch('@releaseDomain', 'rel');
  await settle();
  events.length = 0;
  return events;
}

describe('XS_INTRODUCE over the wire', () => {
  it('maps the page by MFN, binds the port, fires @introduceDomain and serves the ring', async () => {
    const { d, dom0 } = env;
    const events = await specialWatcher();
    const page = new Uint8Array(4096);
    platform.pages.set(0x1234, page);
    dom0.introduce(asDomId(7), asGfn(0x1234), asEvtchnPort(9));
    await settle();
    expect(events).toEqual([['@introduceDomain', 'intro']]);
    expect(text(dom0.request(XS_IS_DOMAIN_INTRODUCED, '7\0'))).toBe('T\0');
    const evt = platform.channels.get(7)!;
    const guest = new XsClient(new RingFrontend(page, evt.guest));
    expect(await guest.read('/local/domain/7/nothing').catch((e: Error) => e.message)).toMatch(/EACCES/);
    expect(d.domains.isIntroduced(asDomId(7))).toBe(true);
  });

  it('rejects unknown MFNs, failed binds, bad ports and domid 0 with EINVAL', () => {
    const { dom0 } = env;
    platform.pages.set(1, new Uint8Array(4096));
    expect(() => dom0.introduce(asDomId(7), asGfn(999), asEvtchnPort(9))).toThrow(/EINVAL/);
    expect(() => dom0.introduce(asDomId(7), asGfn(1), asEvtchnPort(5000))).toThrow(/EINVAL/);
    expect(() => dom0.introduce(asDomId(7), asGfn(1), asEvtchnPort(0))).toThrow(/EINVAL/);
    expect(() => dom0.introduce(asDomId(0), asGfn(1), asEvtchnPort(9))).toThrow(/EINVAL/);
    expect(() => dom0.introduce(asDomId(0x7ff0), asGfn(1), asEvtchnPort(9))).toThrow(/EINVAL/);
  });

  it('introducing a known domain re-binds the channel and resets the connection, without an event', async () => {
    const { d, dom0 } = env;
    ownHome(dom0, 7);
    const page = new Uint8Array(4096);
    platform.pages.set(1, page);
    dom0.introduce(asDomId(7), asGfn(1), asEvtchnPort(9));
    const first = platform.channels.get(7)!;
    const guest = new XsClient(new RingFrontend(page, first.guest));
    await guest.watch('/local/domain/7', 'w');
    await guest.read('/local/domain/7');
    expect(new DataView(page.buffer).getUint32(XENSTORE_IF_RSP_PROD, true)).toBeGreaterThan(0);
    const events = await specialWatcher();
    dom0.introduce(asDomId(7), asGfn(1), asEvtchnPort(10));
    await settle();
    expect(first.closed).toBe(true);
    expect(events).toEqual([]);
    const v = new DataView(page.buffer);
    expect([v.getUint32(XENSTORE_IF_REQ_CONS, true), v.getUint32(XENSTORE_IF_REQ_PROD, true), v.getUint32(XENSTORE_IF_RSP_PROD, true)]).toEqual([0, 0, 0]);
    expect(d.domains.get(asDomId(7))!.conn.watches).toEqual([]);
    const again = new XsClient(new RingFrontend(page, platform.channels.get(7)!.guest));
    expect(await again.read('/local/domain/7')).toBe('');
  });
});

describe('release', () => {
  it('closes the connection, removes the nodes it owned, fires @releaseDomain', async () => {
    const { d, dom0 } = env;
    ownHome(dom0, 5);
    dom0.write('/local/domain/5/by-dom0', ''); // dom0-created: copies the parent's owner (5)
    dom0.write('/shared', '');
    dom0.setPerms('/shared', ['n0', 'b5']);
    const g = ringDomain(d, 5);
    await g.client.write('/shared/mine/deep', 'x');
    await g.client.watch('/shared', 'w');
    dom0.write('/keep', '');
    const events = await specialWatcher();
    g.client.events.length = 0;
    dom0.release(asDomId(5));
    await settle();
    expect(events).toEqual([['@releaseDomain', 'rel']]);
    expect(g.evt.closed).toBe(true);
    expect(d.domains.isIntroduced(asDomId(5))).toBe(false);
    expect(dom0.tryRead('/shared/mine')).toBeUndefined();
    expect(dom0.tryRead('/local/domain/5')).toBeUndefined(); // owned by 5 (own home)
    expect(dom0.tryRead('/keep')).toBe('');
    expect(dom0.directory('/shared')).toEqual([]);
    expect(g.client.events).toEqual([]); // its own watches did not fire
    expect(d.store.ownedCount(5)).toBe(0);
    expect(() => dom0.release(asDomId(5))).toThrow(/ENOENT/);
    expect(() => dom0.release(asDomId(0))).toThrow(/EINVAL/);
  });

  it('keepOrphans leaves the nodes in place', async () => {
    const e = daemon({ keepOrphans: true });
    ownHome(e.dom0, 5);
    const g = ringDomain(e.d, 5);
    await g.client.write('data', '1');
    e.dom0.release(asDomId(5));
    expect(e.dom0.read('/local/domain/5/data')).toBe('1');
  });

  it('checkDomains: shutdown fires @releaseDomain once until XS_RESUME; dying releases', async () => {
    const { d, dom0 } = env;
    ringDomain(d, 5);
    ringDomain(d, 6);
    const events = await specialWatcher();
    platform.states.set(5, 'shutdown');
    d.domains.checkDomains();
    d.domains.checkDomains();
    await settle();
    expect(events).toEqual([['@releaseDomain', 'rel']]);
    expect(d.domains.isIntroduced(asDomId(5))).toBe(true);
    dom0.request(18 /* XS_RESUME */, '5\0');
    d.domains.checkDomains();
    await settle();
    expect(events).toHaveLength(2);
    platform.states.set(6, 'dying');
    d.domains.checkDomains();
    await settle();
    expect(d.domains.isIntroduced(asDomId(6))).toBe(false);
    expect(events).toHaveLength(3);
  });

  it('a released domain id answers F to XS_IS_DOMAIN_INTRODUCED and its ring is dead', async () => {
    const { d, dom0 } = env;
    const g = ringDomain(d, 5);
    dom0.release(asDomId(5));
    expect(text(dom0.request(XS_IS_DOMAIN_INTRODUCED, '5\0'))).toBe('F\0');
    let answered = false;
    void g.client.request(1, '/\0').then(() => (answered = true));
    await settle();
    expect(answered).toBe(false);
    expect(text(dom0.request(XS_IS_DOMAIN_INTRODUCED, 'junk\0'))).toBe('F\0');
  });
});
