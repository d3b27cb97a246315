/**
 * Message framing on any byte stream (ring or socket): the 16-byte xsd_sockmsg header,
 * payload assembly, and the NUL-separated string conventions of the payloads.
 *
 * Invariants:
 * - MessageReader never buffers more than one header plus XENSTORE_PAYLOAD_MAX bytes; a
 *   header announcing a longer payload is a protocol violation (the connection is dropped,
 *   as Xen's daemon does), detected before any payload byte is accepted.
 * - The payload view handed out by `message()` aliases the reader's buffer and is valid
 *   only until the next `push`; whoever keeps bytes (a written value) copies them.
 * - Strings on the wire are byte strings. They are decoded one char per byte (latin1), so
 *   any token or path round-trips to exactly the bytes the client sent.
 */
import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE } from '../../abi/io/xs_wire.ts';

/** What `MessageReader.push` reports. */
export const ReadState = {
  /** More bytes are needed. */
  Partial: 0,
  /** A whole message is buffered: call `message()` then keep pushing. */
  Ready: 1,
  /** The header announced a payload over XENSTORE_PAYLOAD_MAX. */
  Oversized: 2,
} as const;
export type ReadState = (typeof ReadState)[keyof typeof ReadState];

export interface XsMessage {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Uint8Array;
}

export class MessageReader {
  private readonly _buf = new Uint8Array(XSD_SOCKMSG_SIZE + XENSTORE_PAYLOAD_MAX);
  private readonly _view = new DataView(this._buf.buffer);
  /** Bytes buffered for the current message (header first). */
  private _used = 0;
  /** Payload length once the header is complete, else -1. */
  private _len = -1;

  /** How many more bytes the current message part needs (never more than one message). */
  needed(): number {
    return this._len < 0 ? XSD_SOCKMSG_SIZE - this._used : XSD_SOCKMSG_SIZE + this._len - this._used;
  }

  /** True while a message is partly buffered. */
  get midMessage(): boolean {
    return this._used > 0;
  }

  /**
   * Take up to `needed()` bytes from `src[off, off+n)`. Returns how many were taken in
   * `consumed` and the resulting state. After Ready, the next push starts a new message.
   */
  push(src: Uint8Array, off: number, n: number): ReadState {
    if (this._len >= 0 && this._used === XSD_SOCKMSG_SIZE + this._len) this.reset();
    const take = Math.min(n, this.needed());
    this._buf.set(src.subarray(off, off + take), this._used);
    this._used += take;
    this.consumed = take;
    if (this._len < 0) {
      if (this._used < XSD_SOCKMSG_SIZE) return ReadState.Partial;
      const len = this._view.getUint32(12, true);
      if (len > XENSTORE_PAYLOAD_MAX) return ReadState.Oversized;
      this._len = len;
    }
    return this._used === XSD_SOCKMSG_SIZE + this._len ? ReadState.Ready : ReadState.Partial;
  }

  /** Bytes taken by the last push. */
  consumed = 0;

  /** The buffered message; valid after push returned Ready, until the next push. */
  message(): XsMessage {
    const v = this._view;
    return {
      type: v.getUint32(0, true),
      reqId: v.getUint32(4, true),
      txId: v.getUint32(8, true),
      payload: this._buf.subarray(XSD_SOCKMSG_SIZE, XSD_SOCKMSG_SIZE + this._len),
    };
  }

  reset(): void {
    this._used = 0;
    this._len = -1;
  }
}

/** Encode one message (header + payload). */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + payload.length);
  putU32(out, 0, type);
  putU32(out, 4, reqId);
  putU32(out, 8, txId);
  putU32(out, 12, payload.length);
  out.set(payload, XSD_SOCKMSG_SIZE);
  return out;
}

/** Little-endian uint32 store without a DataView (one less allocation per message). */
function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}

/** Bytes of a latin1 string (one byte per char; chars above 0xff never occur here). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Decode bytes [start, end) one char per byte. */
export function latin1(b: Uint8Array, start = 0, end = b.length): string {
  if (end - start < 64) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!); // SAFETY: i < end <= length
    return s;
  }
  let s = '';
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]); // SAFETY: apply takes any array-like
  }
  return s;
}

/** Number of NUL bytes in the payload (Xen's xenstore_count_strings). */
export function countStrings(p: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) n++;
  return n;
}

/**
 * The NUL-terminated strings of a payload, in order (Xen's get_strings: bytes after the last
 * NUL are not a string).
 */
export function payloadStrings(p: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) {
      out.push(latin1(p, start, i));
      start = i + 1;
    }
  }
  return out;
}

/** The single argument of a payload that must be exactly `<arg>\0`, or null (Xen's onearg). */
export function oneArg(p: Uint8Array): string | null {
  if (p.length === 0 || p[p.length - 1] !== 0) return null;
  const nul = p.indexOf(0);
  if (nul !== p.length - 1) return null;
  return latin1(p, 0, nul);
}

/** C atoi: optional blanks and sign, then digits; anything else ends the number. */
export function atoi(s: string): number {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))) i++;
  let sign = 1;
  if (s[i] === '-' || s[i] === '+') sign = s[i++] === '-' ? -1 : 1;
  let n = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57 && n < 1e10) n = n * 10 + (s.charCodeAt(i++) - 48);
  return (sign * n) | 0;
}
