/**
 * TCP segment codec (RFC 9293 section 3.1; options from RFC 9293 3.2 and RFC 7323 2).
 *
 * Invariants of a parsed segment (TcpError.Ok):
 * - 20 <= dataOffset <= segment length; the checksum verifies over the pseudo-header.
 * - Options are walked with bounds checks; a malformed option list (length 0/1, running past
 *   the header) rejects the segment. Only MSS (kind 2, on SYN) and window scale (kind 3, on
 *   SYN) are read; others (SACK-permitted, timestamps, ...) are skipped, so a peer that
 *   offers them simply does not get them (we never echo them in our SYN).
 * - seq and ack are unsigned 32-bit values; sequence comparisons live in tcp_seq.ts.
 */
import type { Ipv4Addr } from './addr.ts';
import { finish, pseudoSum, sum16 } from './checksum.ts';
import { IPPROTO_TCP } from './ipv4.ts';

export const TCP_HLEN = 20;
export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;

export const enum TcpError { Ok = 0, Truncated, DataOffset, Options, Checksum }
export const TCP_ERROR_NAMES = ['ok', 'truncated', 'data-offset', 'options', 'checksum'] as const;

export class TcpSegment {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  /** MSS option value, or 0 if absent. */
  mss = 0;
  /** Window-scale shift option value, or -1 if absent. */
  wscale = -1;
  payloadOff = 0;
  payloadLen = 0;

  parse(b: Uint8Array, off: number, len: number, src: Ipv4Addr, dst: Ipv4Addr): TcpError {
    if (len < TCP_HLEN) return TcpError.Truncated;
    const doff = (b[off + 12] >> 4) * 4;
    if (doff < TCP_HLEN || doff > len) return TcpError.DataOffset;
    if (finish(pseudoSum(src, dst, IPPROTO_TCP, len) + sum16(b, off, len)) !== 0) return TcpError.Checksum;
    this.mss = 0;
    this.wscale = -1;
    for (let i = off + TCP_HLEN, end = off + doff; i < end;) {
      const kind = b[i];
      if (kind === 0) break; // end of option list
      if (kind === 1) { i++; continue; } // NOP
      if (i + 1 >= end) return TcpError.Options;
      const olen = b[i + 1];
      if (olen < 2 || i + olen > end) return TcpError.Options;
      if (kind === 2 && olen === 4) this.mss = (b[i + 2] << 8) | b[i + 3];
      else if (kind === 3 && olen === 3) this.wscale = b[i + 2];
      i += olen;
    }
    this.srcPort = (b[off] << 8) | b[off + 1];
    this.dstPort = (b[off + 2] << 8) | b[off + 3];
    this.seq = ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0;
    this.ack = ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0;
    this.flags = b[off + 13] & 0x3f;
    this.window = (b[off + 14] << 8) | b[off + 15];
    this.payloadOff = off + doff;
    this.payloadLen = len - doff;
    return TcpError.Ok;
  }
}

/** Bytes of options writeTcpHeader() emits for (mss, wscale). */
export function tcpOptionsLen(mss: number, wscale: number): number {
  return (mss > 0 ? 4 : 0) + (wscale >= 0 ? 4 : 0);
}

/**
 * Write a TCP header (with MSS / window-scale options when given: mss > 0, wscale >= 0) at
 * b[off]; the payload must already sit right after it. Computes the checksum.
 * Returns the header length.
 */
export function writeTcpHeader(b: Uint8Array, off: number, src: Ipv4Addr, dst: Ipv4Addr, srcPort: number, dstPort: number,
  seq: number, ack: number, flags: number, window: number, mss: number, wscale: number, payloadLen: number): number {
  const hl = TCP_HLEN + tcpOptionsLen(mss, wscale);
  b[off] = srcPort >>> 8; b[off + 1] = srcPort & 0xff;
  b[off + 2] = dstPort >>> 8; b[off + 3] = dstPort & 0xff;
  b[off + 4] = seq >>> 24; b[off + 5] = (seq >>> 16) & 0xff; b[off + 6] = (seq >>> 8) & 0xff; b[off + 7] = seq & 0xff;
  b[off + 8] = ack >>> 24; b[off + 9] = (ack >>> 16) & 0xff; b[off + 10] = (ack >>> 8) & 0xff; b[off + 11] = ack & 0xff;
  b[off + 12] = (hl / 4) << 4; b[off + 13] = flags;
  b[off + 14] = window >>> 8; b[off + 15] = window & 0xff;
  b[off + 16] = 0; b[off + 17] = 0; b[off + 18] = 0; b[off + 19] = 0;
  let o = off + TCP_HLEN;
  if (mss > 0) { b[o] = 2; b[o + 1] = 4; b[o + 2] = mss >>> 8; b[o + 3] = mss & 0xff; o += 4; }
  if (wscale >= 0) { b[o] = 1; b[o + 1] = 3; b[o + 2] = 3; b[o + 3] = wscale; }
  const len = hl + payloadLen;
  const c = finish(pseudoSum(src, dst, IPPROTO_TCP, len) + sum16(b, off, len));
  b[off + 16] = c >>> 8; b[off + 17] = c & 0xff;
  return hl;
}

/** "SA", "FPA", ... for traces. */
export function tcpFlagsString(flags: number): string {
  let s = '';
  if (flags & TH_SYN) s += 'S';
  if (flags & TH_FIN) s += 'F';
  if (flags & TH_RST) s += 'R';
  if (flags & TH_PSH) s += 'P';
  if (flags & TH_ACK) s += '.';
  if (flags & TH_URG) s += 'U';
  return s || '-';
}
