import { describe, expect, it } from 'vitest';
import { asDomId } from '../../abi/types.ts';
import { copyingMemory, pageMemory, type CopyingPage } from './ring_memory.ts';
import { RingFrontend } from './ring_frontend.ts';
import { XsClient } from './xs_client.ts';
import { XenStored } from './xenstored.ts';

/** A page reached only by copies, like dom0's foreign mapping through its hypercall port. */
function copying(page: Uint8Array): CopyingPage & { unmapped: boolean; copies: number } {
  const p = {
    unmapped: false,
    copies: 0,
    read: (_i: number, off: number, len: number) => {
      p.copies++;
      return page.slice(off, off + len);
    },
    write: (_i: number, off: number, bytes: Uint8Array) => {
      p.copies++;
      page.set(bytes, off);
    },
    unmap: () => void (p.unmapped = true),
  };
  return p;
}

describe('ring memory', () => {
  it('pageMemory reads and writes little-endian words and bytes in place', () => {
    const page = new Uint8Array(4096);
    const m = pageMemory(page);
    m.setU32(2048, 0xdeadbeef);
    expect([...page.subarray(2048, 2052)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(m.getU32(2048)).toBe(0xdeadbeef);
    m.write(10, Uint8Array.of(1, 2, 3, 4), 1, 2);
    const out = new Uint8Array(4);
    m.read(9, out, 1, 3);
    expect([...out]).toEqual([0, 0, 2, 3]);
    expect(() => pageMemory(new Uint8Array(2000))).toThrow(/need 2080 bytes/);
  });

  it('a domain whose page is reached by copies is served the same, and unmapped on release', async () => {
    const page = new Uint8Array(4096);
    const cp = copying(page);
    const d = new XenStored();
    let toServer: (() => void) | undefined;
    let toGuest: (() => void) | undefined;
    d.domains.introduce(asDomId(4), copyingMemory(cp), {
      notify: () => queueMicrotask(() => toGuest?.()), onEvent: (h) => (toServer = h), close: () => {},
    });
    const c = new XsClient(new RingFrontend(page, { notify: () => queueMicrotask(() => toServer?.()), onEvent: (h) => (toGuest = h) }));
    expect(await c.request(10, '4\0').then((r) => new TextDecoder().decode(r.payload))).toBe('/local/domain/4\0');
    expect(await c.directory('/local/domain/0').catch((e: Error) => e.message)).toMatch(/EACCES/);
    expect(cp.copies).toBeGreaterThan(0);
    d.domains.release(asDomId(4));
    expect(cp.unmapped).toBe(true);
  });
});
