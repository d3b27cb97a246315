import { describe, expect, it } from 'vitest';
import {
  XENCONS_INTERFACE_IN, XENCONS_INTERFACE_IN_CONS, XENCONS_INTERFACE_IN_PROD, XENCONS_INTERFACE_OUT,
  XENCONS_INTERFACE_OUT_CONS, XENCONS_INTERFACE_OUT_PROD,
} from '../../abi/io/console.ts';
import { ConsoleConnection, LOG_LIMIT } from './console_backend.ts';
import { pageRing } from './console_ring.ts';

/** A guest's side of a console page, written the way a PV kernel writes it. */
function guestPage() {
  const page = new Uint8Array(4096);
  const v = new DataView(page.buffer);
  const u32 = (off: number): number => v.getUint32(off, true);
  const set = (off: number, x: number): void => v.setUint32(off, x >>> 0, true);
  return {
    page, u32, set,
    write(s: string): void {
      let prod = u32(XENCONS_INTERFACE_OUT_PROD);
      for (const ch of s) page[XENCONS_INTERFACE_OUT + (prod++ & 2047)] = ch.charCodeAt(0);
      set(XENCONS_INTERFACE_OUT_PROD, prod);
    },
    read(): string {
      let cons = u32(XENCONS_INTERFACE_IN_CONS);
      const prod = u32(XENCONS_INTERFACE_IN_PROD);
      let s = '';
      while (cons !== prod) s += String.fromCharCode(page[XENCONS_INTERFACE_IN + (cons++ & 1023)]!);
      set(XENCONS_INTERFACE_IN_CONS, cons);
      return s;
    },
  };
}

function connect(g: ReturnType<typeof guestPage>) {
  const sunk: string[] = [];
  let notifies = 0;
  let closed = false;
  const c = new ConsoleConnection(7, pageRing(g.page), { notify: () => { notifies++; }, close: () => { closed = true; } }, 3,
    (b) => sunk.push(String.fromCharCode(...b)));
  return { c, sunk, notifies: () => notifies, closed: () => closed };
}

describe('console backend (xenconsoled)', () => {
  it('moves output to the log and the sink, input to the guest, notifying after each move', () => {
    const g = guestPage();
    const { c, sunk, notifies } = connect(g);
    g.write('hello\n');
    c.pump();
    expect(sunk.join('')).toBe('hello\n');
    expect(c.log).toBe('hello\n');
    expect(g.u32(XENCONS_INTERFACE_OUT_CONS)).toBe(6);
    expect(notifies()).toBe(1);
    c.input(new TextEncoder().encode('ls\r'));
    expect(g.read()).toBe('ls\r');
    expect(notifies()).toBe(2);
    c.pump();
    expect(notifies()).toBe(2); // nothing moved, no notification
  });

  it('takes at most one ring of output from a guest whose producer ran far ahead', () => {
    const g = guestPage();
    const { c } = connect(g);
    g.set(XENCONS_INTERFACE_OUT_PROD, 1_000_000);
    c.pump();
    expect(c.totalBytes).toBe(2048);
    expect(g.u32(XENCONS_INTERFACE_OUT_CONS)).toBe(1_000_000);
    c.pump();
    expect(c.totalBytes).toBe(2048);
  });

  it('queues input while the guest does not consume, and never overruns the in ring', () => {
    const g = guestPage();
    const { c } = connect(g);
    c.input(new Uint8Array(3000).fill(0x61));
    expect(g.u32(XENCONS_INTERFACE_IN_PROD)).toBe(1024);
    expect(c.inputQueued).toBe(3000 - 1024);
    expect(g.read().length).toBe(1024);
    c.pump();
    expect(g.read().length).toBe(1024);
    c.pump();
    expect(g.read().length).toBe(3000 - 2048);
    expect(c.inputQueued).toBe(0);
    // A guest that corrupts in_cons (claims more than the ring holds) gets nothing more.
    g.set(XENCONS_INTERFACE_IN_CONS, g.u32(XENCONS_INTERFACE_IN_PROD) + 5000);
    c.input(Uint8Array.of(0x62));
    expect(c.inputQueued).toBe(1);
    expect(g.u32(XENCONS_INTERFACE_IN_PROD)).toBe(3000);
  });

  it('keeps a bounded log (the newest LOG_LIMIT bytes) of a chatty guest', () => {
    const g = guestPage();
    const { c } = connect(g);
    const chunk = 'x'.repeat(2000);
    let total = 0;
    while (total <= LOG_LIMIT + 10_000) {
      g.write(chunk);
      c.pump();
      total += chunk.length;
    }
    g.write('END');
    c.pump();
    expect(c.totalBytes).toBe(total + 3);
    expect(c.log.length).toBe(LOG_LIMIT);
    expect(c.log.endsWith('xxxEND')).toBe(true);
  });

  it('stops on close: no more output, input dropped, channel closed once', () => {
    const g = guestPage();
    const { c, closed, sunk } = connect(g);
    c.close();
    c.close();
    expect(closed()).toBe(true);
    g.write('late');
    c.pump();
    c.input(Uint8Array.of(1));
    expect(sunk).toEqual([]);
    expect(g.u32(XENCONS_INTERFACE_IN_PROD)).toBe(0);
  });
});
