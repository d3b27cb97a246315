/**
 * ARP for IPv4 over Ethernet (RFC 826): the only hardware/protocol pair a virtual Ethernet
 * carries. Anything else (other htype/ptype/lengths, opcodes other than request/reply) is
 * rejected by parse().
 *
 * Layout after the Ethernet header (28 bytes): htype 1 | ptype 0x0800 | hlen 6 | plen 4 |
 * op | sha | spa | tha | tpa.
 */
import { asIpv4, asMac, readIpv4, readMac, writeIpv4, writeMac, type Ipv4Addr, type MacAddr } from './addr.ts';
import { ETH_HLEN, ETH_P_ARP, writeEthHeader } from './ethernet.ts';

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export class ArpPacket {
  op = 0;
  sha: MacAddr = asMac(0);
  spa: Ipv4Addr = asIpv4(0);
  tha: MacAddr = asMac(0);
  tpa: Ipv4Addr = asIpv4(0);

  /** Parse the ARP body at f[ETH_HLEN..]; false if it is not IPv4-over-Ethernet request/reply. */
  parse(f: Uint8Array): boolean {
    const o = ETH_HLEN;
    if (f.length < o + ARP_LEN) return false;
    if (f[o] !== 0 || f[o + 1] !== 1 || f[o + 2] !== 0x08 || f[o + 3] !== 0 || f[o + 4] !== 6 || f[o + 5] !== 4) return false;
    const op = (f[o + 6] << 8) | f[o + 7];
    if (op !== ARPOP_REQUEST && op !== ARPOP_REPLY) return false;
    this.op = op;
    this.sha = readMac(f, o + 8);
    this.spa = readIpv4(f, o + 14);
    this.tha = readMac(f, o + 18);
    this.tpa = readIpv4(f, o + 24);
    return true;
  }
}

/** Build a complete ARP frame (padded to the 60-byte Ethernet minimum) into f; returns its length. */
export function buildArp(f: Uint8Array, ethDst: MacAddr, op: number, sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr): number {
  writeEthHeader(f, ethDst, sha, ETH_P_ARP);
  const o = ETH_HLEN;
  f[o] = 0; f[o + 1] = 1; f[o + 2] = 0x08; f[o + 3] = 0; f[o + 4] = 6; f[o + 5] = 4;
  f[o + 6] = 0; f[o + 7] = op;
  writeMac(f, o + 8, sha); writeIpv4(f, o + 14, spa);
  writeMac(f, o + 18, tha); writeIpv4(f, o + 24, tpa);
  f.fill(0, o + ARP_LEN, 60);
  return 60;
}
