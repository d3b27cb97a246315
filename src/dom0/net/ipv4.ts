/**
 * IPv4 header codec (RFC 791). parse() validates everything a receiver must before it trusts
 * a field, and reports the first problem as an Ipv4Error so the caller counts it by name.
 *
 * Invariants of a parsed header (after parse() returned Ipv4Error.Ok):
 * - version 4, 20 <= headerLen <= 60, headerLen <= totalLen <= bytes available; the header
 *   checksum verifies. Link padding past totalLen is excluded from the payload.
 * - Options are accepted and skipped (none changes what the gateway does with a datagram;
 *   source routes are not honoured, which RFC 7126 recommends for a middlebox).
 * - fragOffset is in bytes (the field times 8); isFragment() is MF set or offset non-zero.
 */
import { asIpv4, readIpv4, writeIpv4, type Ipv4Addr } from './addr.ts';
import { finish, sum16 } from './checksum.ts';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HLEN = 20;
const IP_MF = 0x2000;
const IP_DF = 0x4000;
const IP_OFFMASK = 0x1fff;

export const enum Ipv4Error { Ok = 0, Truncated, Version, HeaderLength, TotalLength, Checksum, Source }

export const IPV4_ERROR_NAMES = ['ok', 'truncated', 'version', 'header-length', 'total-length', 'checksum', 'source'] as const;

export class Ipv4Header {
  headerLen = 0;
  totalLen = 0;
  tos = 0;
  id = 0;
  dontFragment = false;
  moreFragments = false;
  fragOffset = 0;
  ttl = 0;
  protocol = 0;
  src: Ipv4Addr = asIpv4(0);
  dst: Ipv4Addr = asIpv4(0);
  /** Offset of the payload in the buffer given to parse(). */
  payloadOff = 0;
  payloadLen = 0;

  isFragment(): boolean {
    return this.moreFragments || this.fragOffset !== 0;
  }

  /** Parse the header at b[off .. off+avail). */
  parse(b: Uint8Array, off: number, avail: number): Ipv4Error {
    if (avail < IPV4_HLEN) return Ipv4Error.Truncated;
    if (b[off] >> 4 !== 4) return Ipv4Error.Version;
    const hl = (b[off] & 0xf) * 4;
    if (hl < IPV4_HLEN || hl > avail) return Ipv4Error.HeaderLength;
    const total = (b[off + 2] << 8) | b[off + 3];
    if (total < hl || total > avail) return Ipv4Error.TotalLength;
    if (finish(sum16(b, off, hl)) !== 0) return Ipv4Error.Checksum;
    const src = readIpv4(b, off + 12);
    // RFC 1122 3.2.1.3: a source that is multicast, broadcast or loopback is invalid.
    if (src >>> 28 === 0xe || src === 0xffff_ffff || src >>> 24 === 127) return Ipv4Error.Source;
    const fl = (b[off + 6] << 8) | b[off + 7];
    this.headerLen = hl;
    this.totalLen = total;
    this.tos = b[off + 1];
    this.id = (b[off + 4] << 8) | b[off + 5];
    this.dontFragment = (fl & IP_DF) !== 0;
    this.moreFragments = (fl & IP_MF) !== 0;
    this.fragOffset = (fl & IP_OFFMASK) * 8;
    this.ttl = b[off + 8];
    this.protocol = b[off + 9];
    this.src = src;
    this.dst = readIpv4(b, off + 16);
    this.payloadOff = off + hl;
    this.payloadLen = total - hl;
    return Ipv4Error.Ok;
  }
}

/**
 * Write a 20-byte header (no options, DF set, TTL 64) at b[off] for a payload of
 * `payloadLen` bytes, checksum included.
 */
export function writeIpv4Header(b: Uint8Array, off: number, proto: number, src: Ipv4Addr, dst: Ipv4Addr,
  payloadLen: number, id: number, dontFragment = true): void {
  const total = IPV4_HLEN + payloadLen;
  b[off] = 0x45; b[off + 1] = 0;
  b[off + 2] = total >>> 8; b[off + 3] = total & 0xff;
  b[off + 4] = (id >>> 8) & 0xff; b[off + 5] = id & 0xff;
  b[off + 6] = dontFragment ? 0x40 : 0; b[off + 7] = 0;
  b[off + 8] = 64; b[off + 9] = proto;
  b[off + 10] = 0; b[off + 11] = 0;
  writeIpv4(b, off + 12, src);
  writeIpv4(b, off + 16, dst);
  const c = finish(sum16(b, off, IPV4_HLEN));
  b[off + 10] = c >>> 8; b[off + 11] = c & 0xff;
}
