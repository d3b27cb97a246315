/**
 * Quotas on unprivileged domains (quota.ts): nodes, watches, node size, permissions per
 * node, path length, transactions, nodes per transaction, outstanding requests
 * (backpressure) and the memory cap on queued watch events. dom0 is exempt from all.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD, XS_ERROR, XS_READ, XS_SET_PERMS, XS_TRANSACTION_START, XS_WATCH, XS_WRITE,
} from '../../src/abi/io/xs_wire.ts';
import { asDomId } from '../../src/abi/types.ts';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import type { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { daemon, ownHome, ringDomain, settle, text, type RingDomain } from './harness.ts';

let d: XenStored;
let dom0: XsLocalHandle;
let g: RingDomain;
let c: XsClient;

beforeEach(() => {
  ({ d, dom0 } = daemon());
  ownHome(dom0, 5);
  g = ringDomain(d, 5);
  c = g.client;
});

async function result(type: number, payload: string | Uint8Array, tx = 0): Promise<string> {
  const r = await c.request(type, payload, tx);
  return r.type === XS_ERROR ? text(r.payload).slice(0, -1) : 'OK';
}

describe('store quotas', () => {
  it('nodes: creation past the owned-node quota is ENOSPC, all or nothing', async () => {
    d.quotas.nodes = 6; // the home counts as one
    expect(await result(XS_WRITE, 'a/b/c\0')).toBe('OK'); // 4 owned
    expect(await result(XS_WRITE, 'x/y/z\0')).toBe('ENOSPC'); // would be 7
    expect(await c.directory('/local/domain/5')).toEqual(['a']);
    expect(await result(XS_WRITE, 'x/y\0')).toBe('OK'); // 6
    expect(await result(XS_WRITE, 'a/b/c\0new value')).toBe('OK'); // modifying is fine
    expect(await result(XS_WRITE, 'q\0')).toBe('ENOSPC');
    await c.rm('x');
    expect(await result(XS_WRITE, 'q\0')).toBe('OK');
    dom0.write('/local/domain/5/by-dom0/a/b/c/d/e', ''); // dom0 has no quota
  });

  it('nodes: a transaction creating too many nodes fails at commit with ENOSPC', async () => {
    d.quotas.nodes = 3;
    const t = await c.transactionStart();
    expect(await result(XS_WRITE, 'a\0', t)).toBe('OK');
    expect(await result(XS_WRITE, 'b\0', t)).toBe('OK');
    expect(await result(XS_WRITE, 'c\0', t)).toBe('ENOSPC');
    d.quotas.nodes = 4;
    const u = await c.transactionStart();
    await c.write('a', '', u);
    await c.write('b', '', u);
    d.quotas.nodes = 2; // lowered meanwhile
    const r = await c.request(7, 'T\0', u);
    expect(text(r.payload)).toBe('ENOSPC\0');
    expect(await c.directory('/local/domain/5')).toEqual([]);
  });

  it('node size: Xen record size (20 + 8 per permission + value + child names) <= 2048', async () => {
    expect(await result(XS_WRITE, `v\0${'x'.repeat(2020)}`)).toBe('OK');
    expect(await result(XS_WRITE, `v\0${'x'.repeat(2021)}`)).toBe('ENOSPC');
    expect(await c.read('v')).toHaveLength(2020);
    expect(await result(XS_SET_PERMS, 'v\0n5\0r1\0')).toBe('ENOSPC'); // +8 bytes
    dom0.write('/local/domain/5/big', 'y'.repeat(4000)); // dom0 exempt
  });

  it('permissions per node: more than 5 entries is ENOSPC', async () => {
    await c.write('p', '');
    expect(await result(XS_SET_PERMS, 'p\0n5\0r1\0r2\0r3\0r4\0')).toBe('OK');
    expect(await result(XS_SET_PERMS, 'p\0n5\0r1\0r2\0r3\0r4\0r6\0')).toBe('ENOSPC');
  });

  it('path length: at most 2048 characters below /local/domain/<id>/', async () => {
    const ok = `${`${'a'.repeat(199)}/`.repeat(10)}${'b'.repeat(48)}`;
    expect(ok).toHaveLength(2048);
    expect(await result(XS_WRITE, `${ok}\0`)).toBe('OK');
    expect(await result(XS_WRITE, `${ok}b\0`)).toBe('EINVAL');
    expect(await result(XS_READ, `/local/domain/5/${ok}b\0`)).toBe('EINVAL');
  });
});

describe('connection quotas', () => {
  it('watches: the 129th is E2BIG', async () => {
    for (let i = 0; i < 128; i++) expect(await result(XS_WATCH, `w${i}\0t\0`)).toBe('OK');
    expect(await result(XS_WATCH, 'w128\0t\0')).toBe('E2BIG');
    await c.unwatch('w0', 't');
    expect(await result(XS_WATCH, 'w128\0t\0')).toBe('OK');
  });

  it('transactions: the 11th open transaction is ENOSPC', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(await c.transactionStart());
    expect(await result(XS_TRANSACTION_START, '\0')).toBe('ENOSPC');
    await c.transactionEnd(ids[0]!, false);
    expect(await result(XS_TRANSACTION_START, '\0')).toBe('OK');
  });

  it('transaction nodes: touching more than the quota fails the transaction', async () => {
    d.quotas.transactionNodes = 4;
    const t = await c.transactionStart();
    for (const n of ['a', 'b']) expect(await result(XS_WRITE, `${n}\0`, t)).toBe('OK'); // home, a, b
    expect(await result(XS_READ, 'c\0', t)).toBe('ENOENT'); // 4
    expect(await result(XS_READ, 'd\0', t)).toBe('ENOSPC');
    expect(text((await c.request(7, 'T\0', t)).payload)).toBe('ENOSPC\0');
  });
});

describe('outstanding requests and queued output', () => {
  const reqCons = (): number => new DataView(g.page.buffer).getUint32(XENSTORE_IF_REQ_CONS, true);
  const reqProd = (): number => new DataView(g.page.buffer).getUint32(XENSTORE_IF_REQ_PROD, true);

  it('a domain that does not consume its replies stops being read at 20 outstanding', async () => {
    await c.write('big', 'z'.repeat(500));
    g.evt.guestPaused = true;
    const replies = Array.from({ length: 40 }, () => c.request(XS_READ, 'big\0'));
    await settle(5);
    const conn = d.domains.get(asDomId(5))!.conn;
    expect(conn.outstanding).toBe(20);
    expect(reqCons()).not.toBe(reqProd()); // requests wait in the guest's ring
    g.evt.resumeGuest();
    const all = await Promise.all(replies);
    expect(all.every((r) => r.payload.length === 500)).toBe(true);
    expect(conn.outstanding).toBe(0);
  });

  it('a request stays outstanding until the watch events it caused are delivered', async () => {
    dom0.write('/shared', '');
    dom0.setPerms('/shared', ['n0', 'b6', 'r7']);
    const watcher = ringDomain(d, 7);
    await watcher.client.watch('/shared', 'w');
    await settle();
    watcher.evt.guestPaused = true; // domain 7 stops reading events
    const writer = ringDomain(d, 6);
    const writes = Array.from({ length: 100 }, (_, i) => writer.client.write(`/shared/k${i}`, ''));
    let done = 0;
    for (const w of writes) void w.then(() => done++);
    await settle(5);
    expect(done).toBeLessThan(100);
    expect(d.domains.get(asDomId(6))!.conn.outstanding).toBe(20);
    watcher.evt.resumeGuest();
    await Promise.all(writes);
    await settle(5);
    expect(watcher.client.events.filter(([p]) => p.startsWith('/shared/k'))).toHaveLength(100);
    expect(d.domains.get(asDomId(6))!.conn.outstanding).toBe(0);
  });

  it('watch events beyond the memory quota of a stalled domain are dropped, replies are not', async () => {
    d.quotas.memory = 2000;
    dom0.write('/ev', '');
    dom0.setPerms('/ev', ['n0', 'r5']);
    await c.watch('/ev', 'e');
    await settle();
    c.events.length = 0;
    g.evt.guestPaused = true;
    for (let i = 0; i < 200; i++) dom0.write(`/ev/n${i}`, '');
    await settle();
    const conn = d.domains.get(asDomId(5))!.conn;
    expect(conn.queuedBytes).toBeLessThanOrEqual(2000);
    g.evt.resumeGuest();
    await settle(10);
    expect(c.events.length).toBeGreaterThan(10);
    expect(c.events.length).toBeLessThan(200);
    expect(await c.read('/ev')).toBe(''); // the connection still works
  });
});
