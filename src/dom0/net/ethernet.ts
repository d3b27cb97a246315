/**
 * Ethernet II framing (IEEE 802.3 with an EtherType >= 0x0600). 802.1Q-tagged frames and
 * 802.3 length-field (LLC) frames are not ours: classify() names them so the caller can drop
 * them with a counter.
 *
 * Layout: dst MAC (6) | src MAC (6) | EtherType (2) | payload (46..1500, no FCS: the virtual
 * link carries none, like netif and a TAP device).
 */
import { readMac, writeMac, type MacAddr } from './addr.ts';

export const ETH_HLEN = 14;
export const ETH_MIN_FRAME = 60; // without FCS; shorter frames are padded by senders, not required of them
export const ETH_P_IPV4 = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_VLAN = 0x8100;
export const ETH_P_QINQ = 0x88a8;

export const enum EthKind { Ok = 0, Runt = 1, Vlan = 2, Llc = 3 }

export function ethDst(f: Uint8Array): MacAddr { return readMac(f, 0); }
export function ethSrc(f: Uint8Array): MacAddr { return readMac(f, 6); }
export function ethType(f: Uint8Array): number { return (f[12] << 8) | f[13]; }

/** What kind of frame this is, for the parts of the stack that only speak Ethernet II. */
export function classify(f: Uint8Array): EthKind {
  if (f.length < ETH_HLEN) return EthKind.Runt;
  const t = ethType(f);
  if (t === ETH_P_VLAN || t === ETH_P_QINQ) return EthKind.Vlan;
  if (t < 0x0600) return EthKind.Llc;
  return EthKind.Ok;
}

export function writeEthHeader(f: Uint8Array, dst: MacAddr, src: MacAddr, type: number): void {
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f[12] = type >>> 8; f[13] = type & 0xff;
}
