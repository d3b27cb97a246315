/**
 * Transactions (xenstore.md §8 with Xen 4.x per-node conflict detection): isolation,
 * conflicts -> EAGAIN, non-conflicting commits, abort, and many concurrent writers over
 * rings that retry until they succeed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { XS_ERROR, XS_READ, XS_TRANSACTION_END } from '../../src/abi/io/xs_wire.ts';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import { XsLocalHandle as Handle } from '../../src/dom0/xenstored/local_handle.ts';
import { checkStore } from '../../src/dom0/xenstored/store_check.ts';
import { daemon, ringDomain, settle, text } from './harness.ts';

let d: XenStored;
let dom0: XsLocalHandle;
let other: XsLocalHandle;

beforeEach(() => {
  ({ d, dom0 } = daemon());
  other = new Handle(d);
  dom0.write('/t/a', 'a0');
  dom0.write('/t/b', 'b0');
});

describe('isolation', () => {
  it('writes are visible inside the transaction only until commit', () => {
    const t = dom0.transactionStart();
    dom0.write('/t/a', 'a1', t);
    dom0.write('/t/new/deep', 'n', t);
    expect(dom0.read('/t/a', t)).toBe('a1');
    expect(dom0.directory('/t', t)).toEqual(['a', 'b', 'new']);
    expect(other.read('/t/a')).toBe('a0');
    expect(other.tryRead('/t/new/deep')).toBeUndefined();
    expect(dom0.transactionEnd(t, true)).toBe(true);
    expect(other.read('/t/a')).toBe('a1');
    expect(other.read('/t/new/deep')).toBe('n');
    expect(checkStore(d.store)).toEqual([]);
  });

  it('rm inside a transaction hides the subtree until commit', () => {
    dom0.write('/t/sub/x', '1');
    const t = dom0.transactionStart();
    dom0.rm('/t/sub', t);
    expect(dom0.tryRead('/t/sub/x', t)).toBeUndefined();
    expect(other.read('/t/sub/x')).toBe('1');
    expect(dom0.transactionEnd(t, true)).toBe(true);
    expect(other.tryRead('/t/sub/x')).toBeUndefined();
    expect(other.directory('/t')).toEqual(['a', 'b']);
    expect(checkStore(d.store)).toEqual([]);
  });

  it('abort discards everything', () => {
    const t = dom0.transactionStart();
    dom0.write('/t/a', 'x', t);
    dom0.rm('/t/b', t);
    expect(dom0.transactionEnd(t, false)).toBe(true);
    expect(other.read('/t/a')).toBe('a0');
    expect(other.read('/t/b')).toBe('b0');
  });
});

describe('conflicts', () => {
  it('a node read in the transaction and changed outside -> EAGAIN, nothing applied', () => {
    const t = dom0.transactionStart();
    expect(dom0.read('/t/a', t)).toBe('a0');
    dom0.write('/t/b', 'mine', t);
    other.write('/t/a', 'theirs');
    expect(dom0.transactionEnd(t, true)).toBe(false);
    expect(other.read('/t/b')).toBe('b0');
    // The id is gone after a failed commit.
    expect(() => dom0.read('/t/a', t)).toThrow(/ENOENT/);
  });

  it('a node written in the transaction and changed outside -> EAGAIN', () => {
    const t = dom0.transactionStart();
    dom0.write('/t/a', 'mine', t);
    other.write('/t/a', 'theirs');
    expect(dom0.transactionEnd(t, true)).toBe(false);
    expect(other.read('/t/a')).toBe('theirs');
  });

  it('a node the transaction saw missing, created outside -> EAGAIN', () => {
    const t = dom0.transactionStart();
    expect(dom0.tryRead('/t/c', t)).toBeUndefined();
    other.write('/t/c', 'x');
    dom0.write('/t/d', 'y', t);
    expect(dom0.transactionEnd(t, true)).toBe(false);
    expect(other.tryRead('/t/d')).toBeUndefined();
  });

  it('two transactions creating the same node: the second commit fails', () => {
    const t1 = dom0.transactionStart();
    const t2 = other.transactionStart();
    dom0.write('/t/same', '1', t1);
    other.write('/t/same', '2', t2);
    expect(dom0.transactionEnd(t1, true)).toBe(true);
    expect(other.transactionEnd(t2, true)).toBe(false);
    expect(dom0.read('/t/same')).toBe('1');
  });

  it('a directory listing conflicts with a child added outside', () => {
    const t = dom0.transactionStart();
    expect(dom0.directory('/t', t)).toEqual(['a', 'b']);
    other.write('/t/c', '');
    dom0.write('/t/count', '2', t);
    expect(dom0.transactionEnd(t, true)).toBe(false);
  });

  it('transactions touching disjoint nodes both commit', () => {
    dom0.write('/u/x', '0');
    const t1 = dom0.transactionStart();
    const t2 = other.transactionStart();
    dom0.write('/t/a', 'A', t1);
    other.write('/u/x', 'X', t2);
    dom0.write('/t/b', 'B'); // outside write to a node neither read
    expect(other.transactionEnd(t2, true)).toBe(true);
    expect(dom0.transactionEnd(t1, true)).toBe(true);
    expect([dom0.read('/t/a'), dom0.read('/u/x'), dom0.read('/t/b')]).toEqual(['A', 'X', 'B']);
  });

  it('several transactions may be open on one connection', () => {
    const t1 = dom0.transactionStart();
    const t2 = dom0.transactionStart();
    expect(t1).not.toBe(t2);
    dom0.write('/t/x1', '1', t1);
    dom0.write('/t/x2', '2', t2);
    expect(dom0.transactionEnd(t2, true)).toBe(true);
    expect(dom0.transactionEnd(t1, true)).toBe(false); // t2 changed /t, which t1 modified
    expect(dom0.tryRead('/t/x1')).toBeUndefined();
  });
});

describe('concurrent writers over rings', () => {
  it('N domains incrementing one counter with retry loops lose no increment', async () => {
    dom0.write('/ctr', '0');
    dom0.setPerms('/ctr', ['n0', 'b1', 'b2', 'b3', 'b4']);
    const guests = [1, 2, 3, 4].map((id) => ringDomain(d, id).client);
    const PER = 25;
    let retries = 0;
    await Promise.all(
      guests.map(async (c) => {
        for (let i = 0; i < PER; i++) {
          for (;;) {
            const t = await c.transactionStart();
            const v = Number(await c.read('/ctr', t));
            await c.write('/ctr', String(v + 1), t);
            if (await c.transactionEnd(t, true)) break;
            retries++;
          }
        }
      }),
    );
    expect(dom0.read('/ctr')).toBe(String(4 * PER));
    expect(retries).toBeGreaterThan(0); // the rings interleave, so some commits conflict
  });

  it('a conflicting commit is EAGAIN on the wire and later requests still work', async () => {
    dom0.setPerms('/t/a', ['n0', 'b5']);
    const c = ringDomain(d, 5).client;
    const t = await c.transactionStart();
    await c.read('/t/a', t);
    dom0.write('/t/a', 'changed');
    const r = await c.request(XS_TRANSACTION_END, 'T\0', t);
    expect(r.type).toBe(XS_ERROR);
    expect(text(r.payload)).toBe('EAGAIN\0');
    const r2 = await c.request(XS_READ, '/t/a\0');
    expect(text(r2.payload)).toBe('changed');
    await settle();
  });
});
