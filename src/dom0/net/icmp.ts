/**
 * ICMP (RFC 792): the gateway answers echo requests addressed to itself, and sends
 * destination-unreachable errors. Every message carries a checksum over the whole ICMP
 * message; parse() verifies it.
 */
import { finish, sum16 } from './checksum.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
/** Destination unreachable codes (RFC 792, RFC 1812 5.2.7.1). */
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_ADMIN_PROHIBITED = 13;
export const ICMP_HLEN = 8;

export const enum IcmpError { Ok = 0, Truncated, Checksum }

export function parseIcmp(b: Uint8Array, off: number, len: number): IcmpError {
  if (len < ICMP_HLEN) return IcmpError.Truncated;
  if (finish(sum16(b, off, len)) !== 0) return IcmpError.Checksum;
  return IcmpError.Ok;
}

/** Fill the checksum of the ICMP message at b[off .. off+len). */
export function writeIcmpChecksum(b: Uint8Array, off: number, len: number): void {
  b[off + 2] = 0; b[off + 3] = 0;
  const c = finish(sum16(b, off, len));
  b[off + 2] = c >>> 8; b[off + 3] = c & 0xff;
}
