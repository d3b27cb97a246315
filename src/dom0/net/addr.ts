/**
 * Link and network addresses as branded numbers, so a MAC never passes where an IPv4 address
 * is meant (and neither passes where a port or a length is).
 *
 * Invariants:
 * - A MacAddr is the 48-bit big-endian value of the six octets (0 .. 2^48-1), exact in a
 *   double; it is a Map key without allocation. Bit 40 (the I/G bit of the first octet) set
 *   means group (multicast/broadcast).
 * - An Ipv4Addr is the 32-bit big-endian value, 0 .. 2^32-1 (unsigned; never stored as a
 *   negative int32, so equality and Map keys are plain number equality).
 * - Readers take (bytes, offset) and never throw on in-range offsets; callers check lengths.
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A 48-bit Ethernet address. */
export type MacAddr = Brand<number, 'MacAddr'>;
/** An IPv4 address, unsigned 32-bit. */
export type Ipv4Addr = Brand<number, 'Ipv4Addr'>;

const TWO32 = 0x1_0000_0000;

// SAFETY: the two casts below are the brands' only constructors; inputs are range-checked
// by the callers (readers produce in-range values by construction).
export const asMac = (n: number): MacAddr => n as MacAddr;
export const asIpv4 = (n: number): Ipv4Addr => n as Ipv4Addr;

export const MAC_BROADCAST = asMac(0xffff_ffff_ffff);
export const MAC_ZERO = asMac(0);
export const IPV4_ANY = asIpv4(0);
export const IPV4_BROADCAST = asIpv4(0xffff_ffff);

export function readMac(b: Uint8Array, off: number): MacAddr {
  return asMac((b[off] * 0x100 + b[off + 1]) * TWO32
    + ((b[off + 2] << 24) >>> 0) + (b[off + 3] << 16) + (b[off + 4] << 8) + b[off + 5]);
}

export function writeMac(b: Uint8Array, off: number, mac: MacAddr): void {
  const hi = Math.floor(mac / TWO32);
  const lo = mac - hi * TWO32;
  b[off] = hi >>> 8; b[off + 1] = hi & 0xff;
  b[off + 2] = lo >>> 24; b[off + 3] = (lo >>> 16) & 0xff; b[off + 4] = (lo >>> 8) & 0xff; b[off + 5] = lo & 0xff;
}

/** Group (multicast or broadcast) address: the I/G bit of the first octet. */
export function isGroupMac(mac: MacAddr): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

export function macToString(mac: MacAddr): string {
  const b = new Uint8Array(6);
  writeMac(b, 0, mac);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parses "aa:bb:cc:dd:ee:ff" (also '-' separated); throws naming the bad value. */
export function parseMac(s: string): MacAddr {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(s);
  if (!m) throw new RangeError(`MAC address ${JSON.stringify(s)} is not six hex octets`);
  const b = Uint8Array.from(m.slice(1), (x) => parseInt(x, 16));
  return readMac(b, 0);
}

export function readIpv4(b: Uint8Array, off: number): Ipv4Addr {
  return asIpv4(((b[off] << 24) >>> 0) + (b[off + 1] << 16) + (b[off + 2] << 8) + b[off + 3]);
}

export function writeIpv4(b: Uint8Array, off: number, ip: Ipv4Addr): void {
  b[off] = ip >>> 24; b[off + 1] = (ip >>> 16) & 0xff; b[off + 2] = (ip >>> 8) & 0xff; b[off + 3] = ip & 0xff;
}

export function ipv4ToString(ip: Ipv4Addr): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Parses dotted-quad "a.b.c.d"; throws naming the bad value. */
export function parseIpv4(s: string): Ipv4Addr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  const parts = m ? m.slice(1).map(Number) : [];
  if (!m || parts.some((p) => p > 255)) throw new RangeError(`IPv4 address ${JSON.stringify(s)} is not a dotted quad`);
  return asIpv4(((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]);
}

/** Network mask of `bits` leading ones (0..32). */
export function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
}

export function inSubnet(ip: Ipv4Addr, net: Ipv4Addr, bits: number): boolean {
  const m = prefixMask(bits);
  return ((ip & m) >>> 0) === ((net & m) >>> 0);
}

/** 224.0.0.0/4 */
export function isMulticastIpv4(ip: Ipv4Addr): boolean {
  return ip >>> 28 === 0xe;
}
