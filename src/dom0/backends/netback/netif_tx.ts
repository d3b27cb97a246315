/**
 * Transmit requests off a netif tx ring, one packet at a time (pv-devices.md §4.5; Linux
 * netback's count_requests/get_extras): the first slot, its extra-info slots, then the
 * fragments chained by NETTXF_more_data. Each consumed slot records the response it will
 * get (OKAY, ERROR, or NULL for an extra-info slot), in ring order.
 *
 * Checks (all hostile input): a packet's slots must all be published (a more_data or
 * extra chain that runs past req_prod is a protocol violation: `fatal`); at most
 * MAX_DATA_SLOTS data slots; an extra of unknown type, or a GSO extra (not advertised), is
 * an error; the first fragment's own length (total minus the later ones) must be at least
 * an Ethernet header and no fragment may be larger than what is left of the total; every
 * fragment must fit its page (offset + length <= 4096); the packet must fit the bridge
 * (maxFrame). A packet that fails gets ERROR on all its slots (NULL on extras) and is not
 * sent; the ring goes on.
 *
 * Invariants: parse() consumes exactly the slots it reports (slotCount); data slots are
 * listed in order with their own lengths; no allocation.
 */
import {
  NETTXF_csum_blank, NETTXF_extra_info, NETTXF_more_data, NETIF_RSP_ERROR, NETIF_RSP_NULL, NETIF_RSP_OKAY,
  XEN_NETIF_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_MAX, XEN_NETIF_EXTRA_TYPE_NONE,
  XEN_NETIF_NR_SLOTS_MIN,
} from '../../../abi/io/netif.ts';

/** Data slots a packet may use (Linux: MAX_SKB_FRAGS + 1 = XEN_NETIF_NR_SLOTS_MIN). */
export const MAX_DATA_SLOTS = XEN_NETIF_NR_SLOTS_MIN;
/** All slots of one packet, extras included: a chain can never be longer than the ring. */
export const MAX_PACKET_SLOTS = 256;
const ETH_HLEN = 14;
const PAGE = 4096;

/** Where parse() gets slots from: the next request of the ring (false: unreadable). */
export interface TxSlotSource {
  /** Requests published and not yet consumed. */
  available(): number;
  /** Copy the next request (12 bytes) into `dst` and consume it. */
  take(dst: Uint8Array): boolean;
}

export class TxPacket {
  /** Ring index of its first slot (set by the caller, for traces). */
  ringIdx = 0;
  /** Slots consumed (data and extra), in ring order. */
  slotCount = 0;
  /** Per consumed slot: the request id and the response status it gets. */
  readonly slotId = new Uint16Array(MAX_PACKET_SLOTS);
  readonly slotStatus = new Int16Array(MAX_PACKET_SLOTS);
  readonly slotExtra = new Uint8Array(MAX_PACKET_SLOTS);
  /** Data fragments. */
  nfrags = 0;
  readonly gref = new Uint32Array(MAX_DATA_SLOTS);
  readonly offset = new Uint16Array(MAX_DATA_SLOTS);
  readonly len = new Uint16Array(MAX_DATA_SLOTS);
  /** Index of each fragment's slot among the consumed slots. */
  readonly fragSlot = new Uint8Array(MAX_DATA_SLOTS);
  /** Total packet length (the first slot's size). */
  total = 0;
  flags = 0;
  /** Why it failed (null: send it). */
  error: string | null = null;
  /** The ring broke the protocol: disconnect the device. */
  fatal: string | null = null;

  get csumBlank(): boolean {
    return (this.flags & NETTXF_csum_blank) !== 0;
  }

  /** Fail the packet: ERROR on every data slot, NULL on extras. */
  fail(why: string): void {
    if (this.error === null) this.error = why;
    for (let i = 0; i < this.slotCount; i++) this.slotStatus[i] = this.slotExtra[i] !== 0 ? NETIF_RSP_NULL : NETIF_RSP_ERROR;
  }
}

const SLOT = new Uint8Array(12);
const SV = new DataView(SLOT.buffer);

function takeSlot(src: TxSlotSource, p: TxPacket, extra: boolean): boolean {
  if (p.slotCount >= MAX_PACKET_SLOTS) return false;
  if (src.available() <= 0 || !src.take(SLOT)) return false;
  const i = p.slotCount++;
  p.slotExtra[i] = extra ? 1 : 0;
  p.slotStatus[i] = extra ? NETIF_RSP_NULL : NETIF_RSP_OKAY;
  // An extra-info slot has no id of its own; its response carries the packet's first id.
  p.slotId[i] = extra ? p.slotId[0]! : SV.getUint16(8, true);
  return true;
}

/** Parse the next packet; the ring must have at least one request. */
export function parseTxPacket(src: TxSlotSource, p: TxPacket, maxFrame: number): void {
  p.slotCount = 0;
  p.nfrags = 0;
  p.error = null;
  p.fatal = null;
  if (!takeSlot(src, p, false)) {
    p.fatal = 'tx ring unreadable';
    return;
  }
  let flags = SV.getUint16(6, true);
  p.flags = flags;
  p.total = SV.getUint16(10, true);
  p.gref[0] = SV.getUint32(0, true);
  p.offset[0] = SV.getUint16(4, true);
  p.fragSlot[0] = 0;
  p.nfrags = 1;
  // Extra-info slots follow the first request.
  if ((flags & NETTXF_extra_info) !== 0) {
    let more = true;
    while (more) {
      if (!takeSlot(src, p, true)) {
        p.fatal = 'tx extra-info chain runs past the published requests';
        return;
      }
      const type = SLOT[0]!;
      more = (SLOT[1]! & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
      if (type === XEN_NETIF_EXTRA_TYPE_NONE || type >= XEN_NETIF_EXTRA_TYPE_MAX) p.error ??= `bad extra-info type ${type}`;
      else if (type === XEN_NETIF_EXTRA_TYPE_GSO) p.error ??= 'GSO not offered';
    }
  }
  // Fragments.
  while ((flags & NETTXF_more_data) !== 0) {
    if (!takeSlot(src, p, false)) {
      p.fatal = 'tx fragment chain runs past the published requests';
      return;
    }
    flags = SV.getUint16(6, true);
    if (p.nfrags >= MAX_DATA_SLOTS) {
      p.error ??= `more than ${MAX_DATA_SLOTS} slots in a packet`;
      continue;
    }
    const k = p.nfrags++;
    p.gref[k] = SV.getUint32(0, true);
    p.offset[k] = SV.getUint16(4, true);
    p.len[k] = SV.getUint16(10, true);
    p.fragSlot[k] = p.slotCount - 1;
  }
  if (p.error !== null) {
    p.fail(p.error);
    return;
  }
  // Lengths: the first fragment holds what the later ones do not.
  let rest = p.total;
  for (let k = 1; k < p.nfrags; k++) {
    if (p.len[k]! > rest) {
      p.fail(`fragment ${k} (${p.len[k]} bytes) larger than the ${rest} left of the packet`);
      return;
    }
    rest -= p.len[k]!;
  }
  p.len[0] = rest;
  if (rest < ETH_HLEN) {
    p.fail(`first fragment of ${rest} bytes is shorter than an Ethernet header`);
    return;
  }
  for (let k = 0; k < p.nfrags; k++) {
    if (p.offset[k]! + p.len[k]! > PAGE) {
      p.fail(`fragment ${k} crosses its page (offset ${p.offset[k]}, ${p.len[k]} bytes)`);
      return;
    }
  }
  if (p.total > maxFrame) p.fail(`${p.total}-byte frame is larger than ${maxFrame}`);
}
