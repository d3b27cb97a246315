import { describe, expect, it } from 'vitest';
import { XS_READ, XS_WRITE } from '../../abi/io/xs_wire.ts';
import {
  atoi, countStrings, encodeMessage, latin1, latin1Bytes, MessageReader, oneArg, payloadStrings, ReadState,
  type XsMessage,
} from './wire.ts';

/** Feed `stream` in pieces of the given sizes; collect whole messages (copied). */
function feed(r: MessageReader, stream: Uint8Array, pieces: number[]): { msgs: XsMessage[]; oversized: boolean } {
  const msgs: XsMessage[] = [];
  let off = 0;
  let i = 0;
  while (off < stream.length) {
    const n = Math.min(pieces[i++ % pieces.length]!, stream.length - off);
    let done = 0;
    while (done < n) {
      const s = r.push(stream, off + done, n - done);
      done += r.consumed;
      if (s === ReadState.Oversized) return { msgs, oversized: true };
      if (s === ReadState.Ready) {
        const m = r.message();
        msgs.push({ ...m, payload: m.payload.slice() });
      }
    }
    off += n;
  }
  return { msgs, oversized: false };
}

describe('MessageReader', () => {
  const a = encodeMessage(XS_READ, 7, 0, latin1Bytes('/a\0'));
  const b = encodeMessage(XS_WRITE, 0xffffffff, 3, new Uint8Array(0));
  const c = encodeMessage(XS_WRITE, 9, 1, new Uint8Array(4096).fill(0x41));
  const stream = new Uint8Array([...a, ...b, ...c, ...a]);

  it('reassembles messages split at every possible byte boundary', () => {
    for (let cut = 1; cut < 40; cut++) {
      const { msgs, oversized } = feed(new MessageReader(), stream, [cut]);
      expect(oversized).toBe(false);
      expect(msgs.map((m) => [m.type, m.reqId, m.txId, m.payload.length])).toEqual([
        [XS_READ, 7, 0, 3], [XS_WRITE, 0xffffffff, 3, 0], [XS_WRITE, 9, 1, 4096], [XS_READ, 7, 0, 3],
      ]);
    }
  });

  it('never takes bytes beyond the end of one message, so unread requests stay where they are', () => {
    const r = new MessageReader();
    const pushAll = (off: number): number => {
      let taken = 0;
      for (;;) {
        const s = r.push(stream, off + taken, stream.length - off - taken);
        taken += r.consumed;
        if (s === ReadState.Ready) return taken;
      }
    };
    expect(pushAll(0)).toBe(a.length);
    expect(r.needed()).toBe(0);
    expect(pushAll(a.length)).toBe(b.length);
  });

  it('reports a header announcing more than 4096 payload bytes before reading any of them', () => {
    const bad = encodeMessage(XS_READ, 1, 0, new Uint8Array(0));
    new DataView(bad.buffer).setUint32(12, 4097, true);
    const r = new MessageReader();
    expect(r.push(new Uint8Array([...bad, 1, 2, 3]), 0, 19)).toBe(ReadState.Oversized);
    expect(r.consumed).toBe(16);
    new DataView(bad.buffer).setUint32(12, 0xffffffff, true);
    expect(new MessageReader().push(bad, 0, 16)).toBe(ReadState.Oversized);
  });

  it('reset drops a partly read message', () => {
    const r = new MessageReader();
    r.push(a, 0, 10);
    expect(r.midMessage).toBe(true);
    r.reset();
    expect(r.push(a, 0, a.length)).toBe(ReadState.Partial);
    expect(r.consumed).toBe(16);
    expect(r.push(a, 16, a.length - 16)).toBe(ReadState.Ready);
    expect(r.message().payload.length).toBe(3);
  });
});

describe('payload conventions', () => {
  it('oneArg wants exactly one NUL, at the end', () => {
    expect(oneArg(latin1Bytes('abc\0'))).toBe('abc');
    expect(oneArg(latin1Bytes('\0'))).toBe('');
    for (const bad of ['', 'abc', 'a\0b\0', '\0\0', 'a\0b']) expect(oneArg(latin1Bytes(bad))).toBeNull();
  });

  it('payloadStrings returns NUL-terminated strings and ignores a tail without NUL', () => {
    expect(payloadStrings(latin1Bytes('a\0\0bc\0tail'))).toEqual(['a', '', 'bc']);
    expect(countStrings(latin1Bytes('a\0\0bc\0tail'))).toBe(3);
  });

  it('latin1 round-trips every byte value, short and long', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect([...latin1Bytes(latin1(all))]).toEqual([...all]);
    const long = new Uint8Array(10000).map((_, i) => (i * 7) & 255);
    expect([...latin1Bytes(latin1(long))]).toEqual([...long]);
    expect(latin1(long, 9990, 9995)).toBe(latin1(long.subarray(9990, 9995)));
  });

  it('atoi behaves like C atoi', () => {
    expect([atoi('42'), atoi('  7x'), atoi('-3'), atoi('+5'), atoi('x1'), atoi(''), atoi('0010')]).toEqual([42, 7, -3, 5, 0, 0, 10]);
  });
});
