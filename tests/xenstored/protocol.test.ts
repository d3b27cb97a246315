/**
 * Every message type of xenstore.md §3 over both transports: a host-tool socket
 * (privileged, domain 0) and a domain's ring (unprivileged domain 5, owning its home).
 * Success replies and error replies are checked byte for byte.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_ERROR, XS_GET_DOMAIN_PATH, XS_GET_PERMS,
  XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES,
  XS_RESUME, XS_RM, XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START,
  XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../../src/abi/io/xs_wire.ts';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import type { XsClient, XsReply } from '../../src/dom0/xenstored/xs_client.ts';
import { daemon, ownHome, ringDomain, settle, socketFixture, text, type SocketFixture } from './harness.ts';

interface Side {
  readonly name: 'socket' | 'ring';
  readonly privileged: boolean;
  readonly home: string;
}

const SIDES: Side[] = [
  { name: 'socket', privileged: true, home: '/local/domain/0' },
  { name: 'ring', privileged: false, home: '/local/domain/5' },
];

describe.each(SIDES)('xenstore protocol over the $name', (side) => {
  let d: XenStored;
  let dom0: XsLocalHandle;
  let c: XsClient;
  let sock: SocketFixture | undefined;
  const base = `${side.home}/t`;

  beforeEach(async () => {
    ({ d, dom0 } = daemon());
    if (side.name === 'socket') {
      sock = await socketFixture(d);
      c = (await sock.client()).client;
    } else {
      ownHome(dom0, 5);
      c = ringDomain(d, 5).client;
    }
  });

  afterEach(async () => {
    await sock?.close();
    sock = undefined;
  });

  const req = (type: number, payload: string | Uint8Array, txId = 0): Promise<XsReply> => c.request(type, payload, txId);
  const expectOk = (r: XsReply, type: number): void => {
    expect(r.type).toBe(type);
    expect(text(r.payload)).toBe('OK\0');
  };
  const expectErr = (r: XsReply, name: string): void => {
    expect(r.type).toBe(XS_ERROR);
    expect(text(r.payload)).toBe(`${name}\0`);
  };

  it('echoes req_id and tx_id, and answers with the request type', async () => {
    const r = await c.request(XS_GET_DOMAIN_PATH, '3\0', 0, 0xdeadbeef);
    expect(r.reqId).toBe(0xdeadbeef);
    expect(r.type).toBe(XS_GET_DOMAIN_PATH);
    const tx = await c.transactionStart();
    const w = await req(XS_WRITE, `${base}/x\0v`, tx);
    expect(w.txId).toBe(tx);
    const e = await req(XS_READ, `${base}/nope\0`, tx);
    expect(e.type).toBe(XS_ERROR);
    expect(e.txId).toBe(tx);
  });

  it('XS_WRITE creates missing parents with empty values; XS_READ returns raw bytes', async () => {
    expectOk(await req(XS_WRITE, `${base}/a/b/c\0hello`), XS_WRITE);
    const r = await req(XS_READ, `${base}/a/b/c\0`);
    expect(r.type).toBe(XS_READ);
    expect(text(r.payload)).toBe('hello');
    expect((await req(XS_READ, `${base}/a/b\0`)).payload.length).toBe(0);
    // Values are bytes: NULs and high bytes survive, nothing is appended.
    const value = new Uint8Array([0, 1, 255, 0, 65]);
    const payload = new Uint8Array([...new TextEncoder().encode(`${base}/bin\0`), ...value]);
    expectOk(await req(XS_WRITE, payload), XS_WRITE);
    expect([...(await req(XS_READ, `${base}/bin\0`)).payload]).toEqual([...value]);
    expectOk(await req(XS_WRITE, `${base}/empty\0`), XS_WRITE);
    expect((await req(XS_READ, `${base}/empty\0`)).payload.length).toBe(0);
  });

  it('relative paths resolve against the home directory', async () => {
    expectOk(await req(XS_WRITE, 't/rel\0v'), XS_WRITE);
    expect(text((await req(XS_READ, `${base}/rel\0`)).payload)).toBe('v');
    expect(text((await req(XS_READ, 't/rel\0')).payload)).toBe('v');
  });

  it('rejects malformed arguments with EINVAL', async () => {
    expectErr(await req(XS_READ, `${base}`), 'EINVAL'); // no NUL
    expectErr(await req(XS_READ, `${base}\0\0`), 'EINVAL'); // two NULs
    expectErr(await req(XS_READ, ''), 'EINVAL');
    expectErr(await req(XS_WRITE, `${base}/x`), 'EINVAL'); // WRITE without a NUL
    for (const bad of [`${base}/`, `${base}//x`, `${base}/a b`, `${base}/é`, `${base}/a.b`, `@x`, '']) {
      expectErr(await req(XS_WRITE, `${bad}\0v`), 'EINVAL');
    }
    expectErr(await req(XS_READ, `/${'a'.repeat(3100)}\0`), 'EINVAL');
  });

  it('XS_READ of a missing node is ENOENT', async () => {
    await c.mkdir(base);
    expectErr(await req(XS_READ, `${base}/missing\0`), 'ENOENT');
  });

  it('XS_MKDIR creates a node and succeeds if it exists', async () => {
    expectOk(await req(XS_MKDIR, `${base}/d/e\0`), XS_MKDIR);
    await c.write(`${base}/d/e`, 'keep');
    expectOk(await req(XS_MKDIR, `${base}/d/e\0`), XS_MKDIR);
    expect(await c.read(`${base}/d/e`)).toBe('keep');
  });

  it('XS_DIRECTORY lists children in creation order; empty list for a leaf', async () => {
    for (const n of ['zeta', 'alpha', 'mid']) await c.write(`${base}/dir/${n}`, '');
    const r = await req(XS_DIRECTORY, `${base}/dir\0`);
    expect(r.type).toBe(XS_DIRECTORY);
    expect(text(r.payload)).toBe('zeta\0alpha\0mid\0');
    expect((await req(XS_DIRECTORY, `${base}/dir/mid\0`)).payload.length).toBe(0);
    expectErr(await req(XS_DIRECTORY, `${base}/none\0`), 'ENOENT');
  });

  it('XS_DIRECTORY of a list beyond one message is E2BIG; XS_DIRECTORY_PART pages it', async () => {
    // 120 names of 40 chars: 4920 bytes of child names.
    const names = Array.from({ length: 120 }, (_, i) => `n${String(i).padStart(3, '0')}${'x'.repeat(36)}`);
    if (side.privileged) {
      const t = await c.transactionStart();
      for (const n of names) await c.mkdir(`${base}/big/${n}`, t);
      expect(await c.transactionEnd(t, true)).toBe(true);
    } else {
      d.quotas.nodeSize = 100_000; // the parent's record would exceed 2048 bytes
      for (const n of names) await c.mkdir(`${base}/big/${n}`);
    }
    expectErr(await req(XS_DIRECTORY, `${base}/big\0`), 'E2BIG');
    const got: string[] = [];
    let off = 0;
    let gen: string | undefined;
    for (;;) {
      const r = await req(XS_DIRECTORY_PART, `${base}/big\0${off}\0`);
      expect(r.type).toBe(XS_DIRECTORY_PART);
      expect(r.payload.length).toBeLessThanOrEqual(4096);
      const parts = text(r.payload).split('\0');
      gen ??= parts[0];
      expect(parts[0]).toBe(gen); // the generation stays put while nothing changes
      const body = parts.slice(1, -1);
      if (body.length > 0 && body[body.length - 1] === '') {
        got.push(...body.slice(0, -1));
        break;
      }
      if (body.length === 1 && body[0] === '') break;
      got.push(...body);
      off += body.reduce((a, n) => a + n.length + 1, 0);
    }
    expect(got).toEqual(names);
    expectErr(await req(XS_DIRECTORY_PART, `${base}/big\0`), 'EINVAL');
    // Past the end: just the generation and the terminating empty string.
    expect(text((await req(XS_DIRECTORY_PART, `${base}/big\x00999999\0`)).payload)).toBe(`${gen}\0\0`);
  });

  it('XS_RM removes a subtree; absent with parent is OK; absent parent is ENOENT', async () => {
    await c.write(`${base}/r/a/b`, '1');
    await c.write(`${base}/r/c`, '2');
    expectOk(await req(XS_RM, `${base}/r/a\0`), XS_RM);
    expectErr(await req(XS_READ, `${base}/r/a/b\0`), 'ENOENT');
    expect(await c.directory(`${base}/r`)).toEqual(['c']);
    expectOk(await req(XS_RM, `${base}/r/a\0`), XS_RM);
    expectErr(await req(XS_RM, `${base}/r/none/deeper\0`), 'ENOENT');
    expectErr(await req(XS_RM, '/\0'), side.privileged ? 'EINVAL' : 'EACCES');
  });

  it('XS_GET_PERMS and XS_SET_PERMS use the n/r/w/b strings, owner first', async () => {
    await c.write(`${base}/p`, 'v');
    const owner = side.privileged ? 0 : 5;
    expect(text((await req(XS_GET_PERMS, `${base}/p\0`)).payload)).toBe(`n${owner}\0`);
    expectOk(await req(XS_SET_PERMS, `${base}/p\0n${owner}\0r7\0w8\0b9\0`), XS_SET_PERMS);
    expect(await c.getPerms(`${base}/p`)).toEqual([`n${owner}`, 'r7', 'w8', 'b9']);
    expectErr(await req(XS_SET_PERMS, `${base}/p\0`), 'EINVAL');
    for (const bad of ['x0', 'r', 'r-1', 'r1a', 'r70000', 'R1', 'n 1']) {
      expectErr(await req(XS_SET_PERMS, `${base}/p\0${bad}\0`), 'EINVAL');
    }
    expectErr(await req(XS_GET_PERMS, `${base}/none\0`), 'ENOENT');
  });

  it('XS_WATCH replies OK then fires once at once; XS_UNWATCH removes it', async () => {
    await c.write(`${base}/w`, '');
    const r = await req(XS_WATCH, `${base}/w\0tok\0`);
    expectOk(r, XS_WATCH);
    await settle();
    expect(c.events).toEqual([[`${base}/w`, 'tok']]);
    expectErr(await req(XS_WATCH, `${base}/w\0tok\0`), 'EEXIST');
    expectOk(await req(XS_WATCH, `${base}/w\0tok2\0`), XS_WATCH);
    expectErr(await req(XS_WATCH, `${base}/w\0`), 'EINVAL');
    expectErr(await req(XS_WATCH, `${base}/w\0a\0b\0`), 'EINVAL');
    expectOk(await req(XS_UNWATCH, `${base}/w\0tok\0`), XS_UNWATCH);
    expectErr(await req(XS_UNWATCH, `${base}/w\0tok\0`), 'ENOENT');
    c.events.length = 0;
    await c.write(`${base}/w`, 'x');
    await settle();
    expect(c.events).toEqual([[`${base}/w`, 'tok2']]);
  });

  it('watch events are XS_WATCH_EVENT with req_id 0 and tx_id 0, payload `path NUL token NUL`', async () => {
    const seen: XsReply[] = [];
    c.onMessage = (m) => void seen.push(m);
    const tx = await c.transactionStart();
    await c.watch(`${base}`, 'T');
    await c.write(`${base}/e`, '1', tx);
    expect(await c.transactionEnd(tx, true)).toBe(true);
    await settle();
    const events = seen.filter((m) => m.type === XS_WATCH_EVENT);
    expect(events.map((m) => [m.reqId, m.txId, text(m.payload)])).toEqual([
      [0, 0, `${base}\0T\0`],
      [0, 0, `${base}/e\0T\0`],
    ]);
  });

  it('transactions: start returns an id, end T/F, errors EINVAL/ENOENT/EBUSY', async () => {
    const r = await req(XS_TRANSACTION_START, '\0');
    expect(r.type).toBe(XS_TRANSACTION_START);
    const id = Number(text(r.payload).slice(0, -1));
    expect(id).toBeGreaterThan(0);
    expect(text(r.payload)).toMatch(/^\d+\0$/);
    expectErr(await req(XS_TRANSACTION_START, '\0', id), 'EBUSY');
    expectErr(await req(XS_TRANSACTION_START, '\0', id + 1000), 'ENOENT');
    expectErr(await req(XS_TRANSACTION_END, 'X\0', id), 'EINVAL');
    expectErr(await req(XS_TRANSACTION_END, 'T', id), 'EINVAL');
    expectErr(await req(XS_TRANSACTION_END, 'T\0', 0), 'ENOENT');
    expectErr(await req(XS_READ, `${side.home}\0`, id + 1000), 'ENOENT');
    expectOk(await req(XS_TRANSACTION_END, 'F\0', id), XS_TRANSACTION_END);
    expectErr(await req(XS_TRANSACTION_END, 'F\0', id), 'ENOENT');
  });

  it('XS_GET_DOMAIN_PATH answers any domid', async () => {
    expect(text((await req(XS_GET_DOMAIN_PATH, '7\0')).payload)).toBe('/local/domain/7\0');
    expectErr(await req(XS_GET_DOMAIN_PATH, '7'), 'EINVAL');
  });

  it('XS_RESET_WATCHES drops every watch and transaction of the caller', async () => {
    await c.watch(`${base}`, 'a');
    const tx = await c.transactionStart();
    expectOk(await req(XS_RESET_WATCHES, '\0'), XS_RESET_WATCHES);
    expectErr(await req(XS_TRANSACTION_END, 'T\0', tx), 'ENOENT');
    await settle();
    c.events.length = 0;
    await c.write(`${base}/after`, '');
    await settle();
    expect(c.events).toEqual([]);
  });

  it('unknown and server-only message types are ENOSYS', async () => {
    for (const t of [XS_WATCH_EVENT, XS_ERROR, 20, 23, 24, 25, 26, 27, 1000, 0xffff, 0xffffffff]) {
      expectErr(await req(t, 'x\0'), 'ENOSYS');
    }
  });

  if (side.privileged) {
    it('privileged messages work for host tools', async () => {
      expect(text((await req(XS_IS_DOMAIN_INTRODUCED, '5\0')).payload)).toBe('F\0');
      expect(text((await req(XS_IS_DOMAIN_INTRODUCED, `${0x7ff0}\0`)).payload)).toBe('T\0');
      expectErr(await req(XS_RELEASE, '5\0'), 'ENOENT');
      expectErr(await req(XS_RELEASE, '0\0'), 'EINVAL');
      expectErr(await req(XS_RESUME, '5\0'), 'ENOENT');
      expectErr(await req(XS_SET_TARGET, '5\x006\0'), 'ENOENT');
      expectErr(await req(XS_INTRODUCE, '5\x00123\0'), 'EINVAL'); // two arguments
      expectErr(await req(XS_INTRODUCE, '5\x00123\x000\0'), 'EINVAL'); // port 0
      expectErr(await req(XS_INTRODUCE, '5\x00123\x007\0'), 'EINVAL'); // no platform to map the page
      expect(text((await req(XS_CONTROL, 'print\0hello\0')).payload)).toBe('OK\0');
      expect(text((await req(XS_CONTROL, 'check\0')).payload)).toBe('OK\0');
      expect(text((await req(XS_CONTROL, 'help\0')).payload)).toMatch(/^check {11}\n/);
      expect(text((await req(XS_CONTROL, 'quota\0')).payload)).toMatch(/^Quota settings:\nnodes {12}: {5}1000 Nodes per domain\n/);
      expect(text((await req(XS_CONTROL, 'quota\0set\0nodes\x007\0')).payload)).toBe('OK\0');
      expect(d.quotas.nodes).toBe(7);
      expectErr(await req(XS_CONTROL, 'quota\0set\0nodes\x000\0'), 'EINVAL');
      expectErr(await req(XS_CONTROL, 'frobnicate\0'), 'EINVAL');
      expectErr(await req(XS_CONTROL, ''), 'EINVAL');
    });
  } else {
    it('privileged messages are EACCES for a domain', async () => {
      for (const [t, p] of [
        [XS_INTRODUCE, '6\x001\x001\0'], [XS_RELEASE, '6\0'], [XS_RESUME, '6\0'],
        [XS_SET_TARGET, '5\x006\0'], [XS_IS_DOMAIN_INTRODUCED, '5\0'], [XS_CONTROL, 'help\0'],
      ] as const) {
        expectErr(await req(t, p), 'EACCES');
      }
    });
  }
});
