/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum.
 *
 * Invariants:
 * - sum16() returns an unfolded partial sum (a non-negative integer < 2^53 for any frame we
 *   accept), so partial sums over pieces (pseudo-header, header, payload) add, then fold once.
 *   An odd-length piece is padded with a zero octet at its end: only the last piece of a
 *   checksummed range may be odd (all callers sum headers, then the payload last).
 * - finish() folds and complements; a checksum field computed over data that already contains
 *   a correct checksum finishes to 0, which is how verify is done (RFC 1071 section 2).
 * - completeL4Checksum() is the seam for netback: a frame sent with the checksum left blank
 *   (netif NETTXF_csum_blank) is completed here before it reaches a consumer that checks it.
 */

/** Unfolded big-endian 16-bit word sum of b[off .. off+len). */
export function sum16(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  const end = off + (len & ~1);
  let i = off;
  // Unrolled by 8 bytes: this is the hot loop of every TCP segment.
  for (; i + 8 <= end; i += 8) {
    s += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) + ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
  }
  for (; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  return s;
}

/** Fold a partial sum to 16 bits and complement it. */
export function finish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header (RFC 793 section 3.1, RFC 768). */
export function pseudoSum(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

const ETH_HLEN = 14;

/**
 * Fill the TCP or UDP checksum of an untagged Ethernet II / IPv4 frame whose L4 checksum
 * field is blank (or stale). Returns false, leaving the frame alone, when it is not an
 * unfragmented IPv4 TCP/UDP frame with consistent lengths.
 */
export function completeL4Checksum(f: Uint8Array): boolean {
  if (f.length < ETH_HLEN + 20 || f[12] !== 0x08 || f[13] !== 0x00) return false;
  const ip = ETH_HLEN;
  const ihl = (f[ip] & 0x0f) * 4;
  const total = (f[ip + 2] << 8) | f[ip + 3];
  if ((f[ip] >> 4) !== 4 || ihl < 20 || total < ihl || ip + total > f.length) return false;
  if (((f[ip + 6] & 0x3f) | f[ip + 7]) !== 0) return false; // a fragment (MF or offset)
  const proto = f[ip + 9];
  const l4 = ip + ihl;
  const l4len = total - ihl;
  let field: number;
  if (proto === 6 && l4len >= 20) field = l4 + 16;
  else if (proto === 17 && l4len >= 8) field = l4 + 6;
  else return false;
  f[field] = 0; f[field + 1] = 0;
  const src = ((f[ip + 12] << 24) | (f[ip + 13] << 16) | (f[ip + 14] << 8) | f[ip + 15]) >>> 0;
  const dst = ((f[ip + 16] << 24) | (f[ip + 17] << 16) | (f[ip + 18] << 8) | f[ip + 19]) >>> 0;
  let c = finish(pseudoSum(src, dst, proto, l4len) + sum16(f, l4, l4len));
  if (proto === 17 && c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones
  f[field] = c >>> 8; f[field + 1] = c & 0xff;
  return true;
}
