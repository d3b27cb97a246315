/**
 * UDP (RFC 768) codec. A datagram's length field must fit the IP payload; a zero checksum
 * means "not computed" and is accepted; a non-zero one must verify over the pseudo-header.
 */
import type { Ipv4Addr } from './addr.ts';
import { finish, pseudoSum, sum16 } from './checksum.ts';
import { IPPROTO_UDP } from './ipv4.ts';

export const UDP_HLEN = 8;

export const enum UdpError { Ok = 0, Truncated, Length, Checksum }
export const UDP_ERROR_NAMES = ['ok', 'truncated', 'length', 'checksum'] as const;

export class UdpHeader {
  srcPort = 0;
  dstPort = 0;
  payloadOff = 0;
  payloadLen = 0;

  parse(b: Uint8Array, off: number, avail: number, src: Ipv4Addr, dst: Ipv4Addr): UdpError {
    if (avail < UDP_HLEN) return UdpError.Truncated;
    const len = (b[off + 4] << 8) | b[off + 5];
    if (len < UDP_HLEN || len > avail) return UdpError.Length;
    const csum = (b[off + 6] << 8) | b[off + 7];
    if (csum !== 0 && finish(pseudoSum(src, dst, IPPROTO_UDP, len) + sum16(b, off, len)) !== 0) return UdpError.Checksum;
    this.srcPort = (b[off] << 8) | b[off + 1];
    this.dstPort = (b[off + 2] << 8) | b[off + 3];
    this.payloadOff = off + UDP_HLEN;
    this.payloadLen = len - UDP_HLEN;
    return UdpError.Ok;
  }
}

/** Write the UDP header at b[off] for the payload already at b[off+8 ..], checksum included. */
export function writeUdpHeader(b: Uint8Array, off: number, src: Ipv4Addr, dst: Ipv4Addr, srcPort: number, dstPort: number, payloadLen: number): void {
  const len = UDP_HLEN + payloadLen;
  b[off] = srcPort >>> 8; b[off + 1] = srcPort & 0xff;
  b[off + 2] = dstPort >>> 8; b[off + 3] = dstPort & 0xff;
  b[off + 4] = len >>> 8; b[off + 5] = len & 0xff;
  b[off + 6] = 0; b[off + 7] = 0;
  let c = finish(pseudoSum(src, dst, IPPROTO_UDP, len) + sum16(b, off, len));
  if (c === 0) c = 0xffff;
  b[off + 6] = c >>> 8; b[off + 7] = c & 0xff;
}
