/**
 * Hostile and broken traffic over both transports: every case ends in an error reply or in
 * dropping that one connection, and every other connection keeps working. Ring failures
 * are reported in the page's `error` field and can be recovered from with the
 * reconnection protocol.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  XENSTORE_CONNECTED, XENSTORE_ERROR_NONE, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_IF_CONNECTION,
  XENSTORE_IF_ERROR, XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD, XENSTORE_IF_RSP_CONS, XENSTORE_IF_RSP_PROD,
  XENSTORE_IF_SERVER_FEATURES, XENSTORE_RECONNECT, XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_RECONNECTION,
  XS_ERROR, XS_READ, XS_WRITE,
} from '../../src/abi/io/xs_wire.ts';
import { asDomId } from '../../src/abi/types.ts';
import type { XenStored } from '../../src/dom0/xenstored/xenstored.ts';
import type { XsLocalHandle } from '../../src/dom0/xenstored/local_handle.ts';
import { RingFrontend } from '../../src/dom0/xenstored/ring_frontend.ts';
import { XsClient } from '../../src/dom0/xenstored/xs_client.ts';
import { encodeMessage, latin1Bytes } from '../../src/dom0/xenstored/wire.ts';
import { daemon, ownHome, ringDomain, settle, socketFixture, text, type RingDomain, type SocketFixture } from './harness.ts';

let d: XenStored;
let dom0: XsLocalHandle;
let bad: RingDomain;
let good: RingDomain;

beforeEach(() => {
  ({ d, dom0 } = daemon());
  ownHome(dom0, 5);
  ownHome(dom0, 6);
  bad = ringDomain(d, 5);
  good = ringDomain(d, 6);
});

const u32 = (h: RingDomain, off: number): number => new DataView(h.page.buffer).getUint32(off, true);
const setU32 = (h: RingDomain, off: number, v: number): void => new DataView(h.page.buffer).setUint32(off, v >>> 0, true);

async function goodStillWorks(): Promise<void> {
  await good.client.write('alive', 'yes');
  expect(await good.client.read('alive')).toBe('yes');
  expect(dom0.read('/local/domain/6/alive')).toBe('yes');
}

/** A rebooted guest on the same page: reconnect, then a fresh frontend and client. */
async function reconnect(h: RingDomain): Promise<XsClient> {
  setU32(h, XENSTORE_IF_CONNECTION, XENSTORE_RECONNECT);
  h.evt.guest.notify();
  await settle();
  expect(u32(h, XENSTORE_IF_CONNECTION)).toBe(XENSTORE_CONNECTED);
  expect(u32(h, XENSTORE_IF_ERROR)).toBe(XENSTORE_ERROR_NONE);
  return new XsClient(new RingFrontend(h.page, h.evt.guest));
}

describe('ring: the server advertises and uses the error and reconnection features', () => {
  it('server_features has RECONNECTION and ERROR', () => {
    expect(u32(bad, XENSTORE_IF_SERVER_FEATURES)).toBe(XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
  });
});

describe('ring: recoverable errors get an error reply', () => {
  it('missing NUL, unknown type, bad arguments: error replies, connection fine', async () => {
    const c = bad.client;
    expect(text((await c.request(XS_READ, 'no-nul')).payload)).toBe('EINVAL\0');
    expect(text((await c.request(77, 'x\0')).payload)).toBe('ENOSYS\0');
    expect(text((await c.request(XS_WRITE, 'bad path\0v')).payload)).toBe('EINVAL\0');
    expect((await c.request(XS_READ, '/local/domain/5\0')).type).toBe(XS_READ);
  });

  it('the largest message (4096-byte payload) crosses the ring in several fills both ways', async () => {
    const value = 'v'.repeat(4096 - 'big'.length - 1);
    d.quotas.nodeSize = 10_000;
    await bad.client.write('big', value);
    expect(await bad.client.read('big')).toBe(value);
    // ...and a ring whose indexes start near the 32-bit wrap behaves the same.
    for (const off of [XENSTORE_IF_REQ_CONS, XENSTORE_IF_REQ_PROD, XENSTORE_IF_RSP_CONS, XENSTORE_IF_RSP_PROD]) setU32(bad, off, 0xfffffff0);
    expect(await bad.client.read('big')).toBe(value);
    expect(u32(bad, XENSTORE_IF_REQ_CONS)).toBeLessThan(0x10000);
  });
});

describe('ring: fatal errors drop that domain only', () => {
  it('a header announcing more than 4096 bytes: error = PROTO, connection ignored', async () => {
    const m = encodeMessage(XS_READ, 1, 0, latin1Bytes('x\0'));
    new DataView(m.buffer).setUint32(12, 5000, true);
    bad.client.sendRaw(m);
    await settle();
    expect(u32(bad, XENSTORE_IF_ERROR)).toBe(XENSTORE_ERROR_PROTO);
    expect(d.domains.get(asDomId(5))!.conn.ignored).toBe(true);
    const stuck = bad.client.request(XS_READ, '/local/domain/5\0');
    let answered = false;
    void stuck.then(() => (answered = true));
    await settle();
    expect(answered).toBe(false);
    await goodStillWorks();
    const again = await reconnect(bad);
    expect(await again.read('/local/domain/5')).toBe('');
  });

  it.each([
    ['req_prod more than a ring ahead', 1025],
    ['req_prod far beyond', 0x80000000],
    ['req_prod behind req_cons', -1],
  ])('%s: error = RINGIDX', async (_name, delta) => {
    const cons = u32(bad, XENSTORE_IF_REQ_CONS);
    setU32(bad, XENSTORE_IF_REQ_PROD, cons + delta);
    bad.evt.guest.notify();
    await settle();
    expect(u32(bad, XENSTORE_IF_ERROR)).toBe(XENSTORE_ERROR_RINGIDX);
    expect(u32(bad, XENSTORE_IF_REQ_CONS)).toBe(cons); // nothing consumed
    await goodStillWorks();
    const again = await reconnect(bad);
    await again.write('back', '1');
    expect(dom0.read('/local/domain/5/back')).toBe('1');
  });

  it('rsp_cons moved past rsp_prod by the guest: error = RINGIDX when the server writes', async () => {
    setU32(bad, XENSTORE_IF_RSP_CONS, u32(bad, XENSTORE_IF_RSP_PROD) + 2000);
    void bad.client.request(XS_READ, '/local/domain/5\0');
    await settle();
    expect(u32(bad, XENSTORE_IF_ERROR)).toBe(XENSTORE_ERROR_RINGIDX);
    await goodStillWorks();
  });

  it('its watches and transactions are gone, so it cannot disturb others', async () => {
    await bad.client.watch('/local/domain/6', 'w');
    const t = await bad.client.transactionStart();
    setU32(bad, XENSTORE_IF_REQ_PROD, u32(bad, XENSTORE_IF_REQ_CONS) + 5000);
    bad.evt.guest.notify();
    await settle();
    const conn = d.domains.get(asDomId(5))!.conn;
    expect(conn.watches).toEqual([]);
    expect(conn.transactions.size).toBe(0);
    expect(t).toBeGreaterThan(0);
    await goodStillWorks();
  });

  it('seeded random garbage in the ring never hurts the daemon or other domains', async () => {
    const seed = 0x5eed1234;
    let s = seed;
    const rnd = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s >>> 8;
    };
    for (let round = 0; round < 40; round++) {
      const n = 1 + (rnd() % 700);
      const junk = new Uint8Array(n).map(() => rnd() & 0xff);
      // Make some rounds look like plausible headers with random types and lengths.
      if (round % 2 === 0 && n >= 16) {
        const v = new DataView(junk.buffer);
        v.setUint32(0, rnd() % 40, true);
        v.setUint32(12, Math.min(n - 16, rnd() % 64), true);
      }
      try {
        bad.client.sendRaw(junk);
        await settle(2);
        await goodStillWorks();
      } catch (e) {
        throw new Error(`garbage round ${round} (seed ${seed.toString(16)}) broke things: ${String(e)}`);
      }
      bad = { ...bad, client: await reconnect(bad) };
    }
  });
});

describe('socket: broken clients are dropped alone', () => {
  let sock: SocketFixture;
  afterEach(async () => {
    await sock.close();
  });

  it('an oversized header closes that socket; others keep working', async () => {
    sock = await socketFixture(d);
    const a = await sock.client();
    const b = await sock.client();
    const closed = new Promise<void>((r) => a.socket.once('close', () => r()));
    const m = encodeMessage(XS_READ, 1, 0, new Uint8Array(0));
    new DataView(m.buffer).setUint32(12, 0x10000, true);
    a.client.sendRaw(m);
    await closed;
    expect(await b.client.read('/local/domain/0/name')).toBe('Domain-0');
  });

  it('garbage types and arguments get error replies on the same socket', async () => {
    sock = await socketFixture(d);
    const a = await sock.client();
    expect(text((await a.client.request(0xdead, 'x')).payload)).toBe('ENOSYS\0');
    expect(text((await a.client.request(XS_READ, '')).payload)).toBe('EINVAL\0');
    expect((await a.client.request(XS_READ, '/local/domain/0/name\0')).type).toBe(XS_READ);
    expect((await a.client.request(XS_WRITE, '/x')).type).toBe(XS_ERROR);
  });

  it('a client that disconnects mid-message leaves nothing behind', async () => {
    sock = await socketFixture(d);
    const a = await sock.client();
    const before = d.connections.size;
    await a.client.watch('/local', 'w');
    a.client.sendRaw(encodeMessage(XS_READ, 1, 0, latin1Bytes('/local\0')).subarray(0, 10));
    a.socket.destroy();
    await settle();
    expect(d.connections.size).toBe(before - 1);
    dom0.write('/local/x', ''); // fires nothing for the dead client, and does not throw
  });
});
