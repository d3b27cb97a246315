/**
 * Watch firing rules (xenstore.md §7, Xen's fire_watches / watch_permitted): which changes
 * fire which watches with which event path, token echo, the initial event, relative paths,
 * permission filtering, special watches and transactions.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import type { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { asDomId } from '../../src/abi/types.ts';
import { daemon, ownHome, ringDomain, settle, socketFixture } from './harness.ts';

let d: XenStored;
let dom0: XsLocalHandle;

beforeEach(() => {
  ({ d, dom0 } = daemon());
});

/** Register watches on a fresh privileged client and return its event log after the initial events. */
async function watcher(c: XsClient, ...watches: Array<[string, string]>): Promise<Array<readonly [string, string]>> {
  for (const [p, t] of watches) await c.watch(p, t);
  await settle();
  c.events.length = 0;
  return c.events;
}

/** Domain 9's client; the tests using it first make `/` readable by everyone (r0). */
function readerClient(): XsClient {
  return ringDomain(d, 9).client;
}

describe('which watches fire', () => {
  it('exact path, ancestors and root fire; siblings and name prefixes do not', async () => {
    dom0.setPerms('/', ['r0']);
    const c = readerClient();
    const ev = await watcher(c, ['/a/b', 'exact'], ['/a', 'parent'], ['/', 'root'], ['/a/bc', 'prefix'], ['/a/b/c/d', 'below']);
    dom0.write('/a/b', 'v');
    await settle();
    expect(ev).toEqual([['/a/b', 'exact'], ['/a/b', 'parent'], ['/a/b', 'root']]);
    ev.length = 0;
    dom0.write('/a/b/c', 'v');
    await settle();
    expect(ev).toEqual([['/a/b/c', 'exact'], ['/a/b/c', 'parent'], ['/a/b/c', 'root']]);
  });

  it('creating parents fires once, for the written path', async () => {
    dom0.setPerms('/', ['r0']);
    const c = readerClient();
    const ev = await watcher(c, ['/x', 't'], ['/x/y', 'u']);
    dom0.write('/x/y/z', '1');
    await settle();
    expect(ev).toEqual([['/x/y/z', 't'], ['/x/y/z', 'u']]);
  });

  it('mkdir of an existing node fires nothing; set_perms fires', async () => {
    dom0.setPerms('/', ['r0']);
    dom0.write('/m', '');
    const c = readerClient();
    const ev = await watcher(c, ['/m', 't']);
    dom0.mkdir('/m');
    await settle();
    expect(ev).toEqual([]);
    dom0.setPerms('/m', ['r0', 'b9']);
    await settle();
    expect(ev).toEqual([['/m', 't']]);
  });

  it('rm fires watches on the removed node, its ancestors, and every removed descendant', async () => {
    dom0.setPerms('/', ['r0']);
    dom0.write('/r/a/b', '1');
    dom0.write('/r/a/c', '2');
    const c = readerClient();
    const ev = await watcher(c, ['/r', 'anc'], ['/r/a', 'root'], ['/r/a/b', 'child'], ['/r/a/none', 'missing']);
    dom0.rm('/r/a');
    await settle();
    expect(ev).toContainEqual(['/r/a', 'anc']);
    expect(ev).toContainEqual(['/r/a', 'root']);
    expect(ev).toContainEqual(['/r/a/b', 'child']);
    // A watch below on a path that never existed does not fire (Xen 4.x).
    expect(ev.filter(([, t]) => t === 'missing')).toEqual([]);
    // The ancestor watch hears about the removal root only, not each deleted node.
    expect(ev.filter(([, t]) => t === 'anc')).toEqual([['/r/a', 'anc']]);
  });

  it('the token is echoed byte for byte; one watch path may carry several tokens', async () => {
    dom0.setPerms('/', ['r0']);
    const c = readerClient();
    const tok = 'tok with spaces/\x01\xff';
    const ev = await watcher(c, ['/t', tok], ['/t', 'B']);
    dom0.write('/t', '');
    await settle();
    expect(ev).toEqual([['/t', tok], ['/t', 'B']]);
  });

  it('a watch registered with a relative path reports relative event paths', async () => {
    ownHome(dom0, 5);
    const c = ringDomain(d, 5).client;
    await c.watch('device', 'rel');
    await settle();
    expect(c.events).toEqual([['device', 'rel']]); // the initial event too
    c.events.length = 0;
    dom0.write('/local/domain/5/device/vbd/768/state', '1');
    await c.write('device/vif', '');
    await settle();
    expect(c.events).toEqual([['device/vbd/768/state', 'rel'], ['device/vif', 'rel']]);
  });

  it('the initial event fires even for a node that does not exist', async () => {
    const c = readerClient();
    await c.watch('/nowhere', 'n');
    await settle();
    expect(c.events).toEqual([['/nowhere', 'n']]);
  });
});

describe('permission filtering (XSA-115)', () => {
  it('a domain is not told about nodes it cannot read', async () => {
    dom0.write('/priv/x', '1');
    const c = ringDomain(d, 5).client;
    const ev = await watcher(c, ['/priv', 'p'], ['/', 'root']);
    dom0.write('/priv/x', '2');
    dom0.write('/priv/y', '2');
    await settle();
    expect(ev).toEqual([]);
    // Once it may read the parent, changes of the children are visible.
    dom0.setPerms('/priv', ['n0', 'r5']);
    await settle();
    ev.length = 0;
    dom0.write('/priv/x', '3');
    await settle();
    expect(ev).toEqual([['/priv/x', 'p'], ['/priv/x', 'root']]);
  });

  it('losing read access by set_perms still reports that change', async () => {
    dom0.write('/vis', '');
    dom0.setPerms('/vis', ['n0', 'r5']);
    const c = ringDomain(d, 5).client;
    const ev = await watcher(c, ['/vis', 'v']);
    dom0.setPerms('/vis', ['n0']);
    await settle();
    expect(ev).toEqual([['/vis', 'v']]);
    ev.length = 0;
    dom0.write('/vis', 'hidden');
    await settle();
    expect(ev).toEqual([]);
  });

  it('removal of a node the domain could read is reported', async () => {
    dom0.write('/front/dev/state', '4');
    dom0.setPerms('/front/dev', ['n0', 'r5']);
    dom0.setPerms('/front/dev/state', ['n0', 'r5']);
    const c = ringDomain(d, 5).client;
    const ev = await watcher(c, ['/front/dev/state', 's']);
    dom0.rm('/front');
    await settle();
    expect(ev).toEqual([['/front/dev/state', 's']]);
  });

  it('removing a child it could not read is reported through its readable parent', async () => {
    dom0.write('/dir/hidden', 'x');
    dom0.setPerms('/dir', ['n0', 'r5']);
    dom0.setPerms('/dir/hidden', ['n0']);
    const c = ringDomain(d, 5).client;
    const ev = await watcher(c, ['/dir', 'p']);
    dom0.write('/dir/hidden', 'y'); // a change of an existing child: visible through /dir
    await settle();
    expect(ev).toEqual([['/dir/hidden', 'p']]);
    dom0.rm('/dir/hidden');
    await settle();
    expect(ev).toEqual([['/dir/hidden', 'p'], ['/dir/hidden', 'p']]);
  });

  it('@introduceDomain and @releaseDomain reach privileged watchers, and domains only if granted', async () => {
    const sock = await socketFixture(d);
    try {
      const { client: tool } = await sock.client();
      const dom = ringDomain(d, 5).client;
      const evTool = await watcher(tool, ['@introduceDomain', 'i'], ['@releaseDomain', 'r']);
      const evDom = await watcher(dom, ['@introduceDomain', 'i'], ['@releaseDomain', 'r']);
      ringDomain(d, 6);
      d.domains.release(asDomId(6));
      await settle();
      expect(evTool).toEqual([['@introduceDomain', 'i'], ['@releaseDomain', 'r']]);
      expect(evDom).toEqual([]);
      // Granting read on the special node is itself a change of it (Xen fires for set_perms).
      dom0.setPerms('@releaseDomain', ['n0', 'r5']);
      await settle();
      expect(evDom).toEqual([['@releaseDomain', 'r']]);
      evDom.length = 0;
      ringDomain(d, 7);
      d.domains.release(asDomId(7));
      await settle();
      expect(evDom).toEqual([['@releaseDomain', 'r']]);
      expect(await dom.getPerms('@releaseDomain')).toEqual(['n0', 'r5']);
    } finally {
      await sock.close();
    }
  });
});

describe('watches and transactions', () => {
  it('changes in a transaction fire at commit, once per node; aborted ones never', async () => {
    dom0.setPerms('/', ['r0']);
    const c = readerClient();
    const ev = await watcher(c, ['/tx', 't']);
    const t = dom0.transactionStart();
    dom0.write('/tx/a', '1', t);
    dom0.write('/tx/a', '2', t);
    dom0.write('/tx/b', '1', t);
    await settle();
    expect(ev).toEqual([]);
    expect(dom0.transactionEnd(t, true)).toBe(true);
    await settle();
    expect(ev).toEqual([['/tx/a', 't'], ['/tx/b', 't']]);
    ev.length = 0;
    const u = dom0.transactionStart();
    dom0.write('/tx/c', '1', u);
    expect(dom0.transactionEnd(u, false)).toBe(true);
    await settle();
    expect(ev).toEqual([]);
  });

  it('a transaction failing with EAGAIN fires nothing', async () => {
    dom0.setPerms('/', ['r0']);
    dom0.write('/tx/a', '0');
    const c = readerClient();
    const ev = await watcher(c, ['/tx/b', 'b']);
    const t = dom0.transactionStart();
    dom0.read('/tx/a', t);
    dom0.write('/tx/b', '1', t);
    dom0.write('/tx/a', 'other');
    expect(dom0.transactionEnd(t, true)).toBe(false);
    await settle();
    expect(ev).toEqual([]);
  });
});

describe('event delivery', () => {
  it('an identical event still queued for a stalled domain is not queued twice', async () => {
    dom0.write('/dup', '');
    dom0.setPerms('/dup', ['n0', 'r5']);
    const h = ringDomain(d, 5);
    await h.client.watch('/dup', 'd');
    await settle();
    h.evt.guestPaused = true; // the guest stops reading its ring
    for (let i = 0; i < 200; i++) dom0.write('/dup', String(i));
    await settle();
    h.client.events.length = 0;
    h.evt.resumeGuest();
    await settle(10);
    expect(h.client.events).toEqual([['/dup', 'd']]);
  });
});
