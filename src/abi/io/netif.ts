/**
 * Virtual network interfaces (io/netif.h; C header: xen/io/netif.h): tx/rx ring layouts,
 * NETTXF_/NETRXF_ flags, NETIF_RSP_* status and the extra-info slots (GSO, multicast).
 *
 * Invariants:
 * - Layouts are identical on x86_32 and x86_64 (no 64-bit fields).
 * - A packet's first tx slot carries the total length in `size`; later slots their own
 *   fragment length; NETTXF_more_data chains slots, NETTXF_extra_info says the next slot
 *   is a netif_extra_info.
 * - Every tx request slot (and extra-info slot) gets its own response slot (NETIF_RSP_NULL
 *   for extras); one-page rings hold 256 tx and 256 rx entries.
 * - An rx response `status` > 0 is a byte count, <= 0 a NETIF_RSP_* code.
 * - Source: shared/abi/pv-devices.md §4.
 */
import { arr, f, i16, struct, u16, u8, union } from '../layout.ts';
import { grant_ref_t } from '../grant_table.ts';
import { ringTypes } from './ring.ts';

export * from '../gen/io/netif.ts';

// ---- Flags and status --------------------------------------------------------------------

/** L4 checksum not filled in (the backend or NIC must compute it). */
export const _NETTXF_csum_blank = 0;
export const NETTXF_csum_blank = 1 << 0;
/** Checksum already validated. */
export const _NETTXF_data_validated = 1;
export const NETTXF_data_validated = 1 << 1;
/** The packet continues in the next slot. */
export const _NETTXF_more_data = 2;
export const NETTXF_more_data = 1 << 2;
/** The next slot(s) are netif_extra_info. */
export const _NETTXF_extra_info = 3;
export const NETTXF_extra_info = 1 << 3;

export const _NETRXF_data_validated = 0;
export const NETRXF_data_validated = 1 << 0;
/** Xen 3.0.0 name of NETRXF_data_validated. */
export const NETRXF_csum_valid = NETRXF_data_validated;
export const _NETRXF_csum_blank = 1;
export const NETRXF_csum_blank = 1 << 1;
export const _NETRXF_more_data = 2;
export const NETRXF_more_data = 1 << 2;
export const _NETRXF_extra_info = 3;
export const NETRXF_extra_info = 1 << 3;
/** 4.7+ headers: a GSO prefix slot precedes the data. */
export const _NETRXF_gso_prefix = 4;
export const NETRXF_gso_prefix = 1 << 4;

export const NETIF_RSP_DROPPED = -2;
export const NETIF_RSP_ERROR = -1;
export const NETIF_RSP_OKAY = 0;
/** Response slot of an extra-info request. */
export const NETIF_RSP_NULL = 1;

export const XEN_NETIF_EXTRA_TYPE_NONE = 0;
export const XEN_NETIF_EXTRA_TYPE_GSO = 1;
/** 3.2+ */
export const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
export const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
/** 4.7+ */
export const XEN_NETIF_EXTRA_TYPE_HASH = 4;
export const XEN_NETIF_EXTRA_TYPE_MAX = 5;

/** netif_extra_info.flags bit 0: another extra-info slot follows. */
export const _XEN_NETIF_EXTRA_FLAG_MORE = 0;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;

export const XEN_NETIF_GSO_TYPE_NONE = 0;
export const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
/** Later headers. */
export const XEN_NETIF_GSO_TYPE_TCPV6 = 2;

/** Largest packet a tx chain may describe. */
export const XEN_NETIF_MAX_TX_SIZE = 0xFFFF;
/** Slots per packet a backend must accept (later header; 3.x netback: MAX_SKB_FRAGS + 1). */
export const XEN_NETIF_NR_SLOTS_MIN = 18;
/** The first tx slot must hold at least an Ethernet header. */
export const NETIF_TX_MIN_FIRST_FRAGMENT = 14;

// ---- Ring layouts ------------------------------------------------------------------------

export const netif_tx_request = struct('netif_tx_request', [
  f('gref', grant_ref_t, 'grant of the page holding this fragment (read-only grant)'),
  f('offset', u16, 'offset of the data in that page'),
  f('flags', u16, 'NETTXF_*'),
  f('id', u16, 'echoed in the response'),
  f('size', u16, 'first slot: total packet length; later slots: this fragment\'s length'),
], { size: 12 });

export const netif_extra_info = struct('netif_extra_info', [
  f('type', u8, 'XEN_NETIF_EXTRA_TYPE_*'),
  f('flags', u8, 'XEN_NETIF_EXTRA_FLAG_*'),
  f('u', union(null, [
    f('gso', struct(null, [
      f('size', u16, 'MSS'),
      f('type', u8, 'XEN_NETIF_GSO_TYPE_*'),
      f('pad', u8),
      f('features', u16, 'GSO features (none defined)'),
    ])),
    f('mcast', struct(null, [arr('addr', u8, 6, 'multicast MAC')])),
    f('hash', struct(null, [
      f('type', u8),
      f('algorithm', u8),
      arr('value', u8, 4),
    ]), '4.7+'),
    arr('pad', u16, 3),
  ])),
], { size: 8, doc: 'Extra information slot (overlays a tx request or rx response slot).' });

export const netif_tx_response = struct('netif_tx_response', [
  f('id', u16, 'the request\'s id'),
  f('status', i16, 'NETIF_RSP_*'),
], { size: 4 });

export const netif_rx_request = struct('netif_rx_request', [
  f('id', u16, 'echoed in the response'),
  f('pad', u16),
  f('gref', grant_ref_t, 'writable grant (copy mode) or accept_transfer grant (flip mode)'),
], { size: 8 });

export const netif_rx_response = struct('netif_rx_response', [
  f('id', u16, 'id of the rx request whose buffer was used'),
  f('offset', u16, 'where the data starts in the page'),
  f('flags', u16, 'NETRXF_*'),
  f('status', i16, '> 0: bytes in this slot; <= 0: NETIF_RSP_*'),
], { size: 8 });

export const netif_tx_ring = ringTypes('netif_tx', netif_tx_request, netif_tx_response);
export const netif_rx_ring = ringTypes('netif_rx', netif_rx_request, netif_rx_response);
