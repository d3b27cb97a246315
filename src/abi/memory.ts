/**
 * Memory reservation and physmap (memory.h; C header: xen/memory.h): XENMEM_* commands of
 * hypercall 12, their 32-bit argument structs, XENMEMF_* flags and XENMAPSPACE_* spaces.
 *
 * Invariants:
 * - cmd bits 5:0 are the command; bits 6 and up carry the start extent of a continuation
 *   (MEMOP_EXTENT_SHIFT). Guests pass plain commands.
 * - increase_reservation returns MFNs and does not touch the M2P; populate_physmap takes
 *   PFNs, returns MFNs and updates the M2P (PV).
 * - Source: shared/abi/hypercalls-x86_32.md §6 and pv-devices.md §5.
 */
import { xen_pfn_t, xen_ulong_t } from './arch_x86_32.ts';
import { domid_t } from './xen.ts';
import { f, handle, struct, u16, uint } from './layout.ts';

export * from './gen/memory.ts';

// ---- Commands -----------------------------------------------------------------------------

export const XENMEM_increase_reservation = 0;
export const XENMEM_decrease_reservation = 1;
/** Returns the highest machine frame number of RAM; arg NULL. */
export const XENMEM_maximum_ram_page = 2;
/** Arg: pointer to domid_t; returns the pages currently allocated. */
export const XENMEM_current_reservation = 3;
/** Arg: pointer to domid_t; returns max pages. */
export const XENMEM_maximum_reservation = 4;
export const XENMEM_machphys_mfn_list = 5;
export const XENMEM_populate_physmap = 6;
/** Translated (HVM) guests only; -EINVAL for PV. */
export const XENMEM_add_to_physmap = 7;
/** Removed after 3.x. */
export const XENMEM_translate_gpfn_list = 8;
/** Guest e820 set by the toolstack; -ENOSYS if none was set. */
export const XENMEM_memory_map = 9;
/** Host e820 (privileged). */
export const XENMEM_machine_memory_map = 10;
export const XENMEM_exchange = 11;
/** VA range of the M2P and max MFN (HVM: -ENOSYS). */
export const XENMEM_machphys_mapping = 12;
/** Toolstack sets a domain's e820. */
export const XENMEM_set_memory_map = 13;
/** Arg: pointer to domid_t; returns the max GPFN. */
export const XENMEM_maximum_gpfn = 14;
/** 4.2+ */
export const XENMEM_remove_from_physmap = 15;
export const XENMEM_set_pod_target = 16;
export const XENMEM_get_pod_target = 17;
export const XENMEM_get_sharing_freed_pages = 18;
export const XENMEM_get_sharing_shared_pages = 19;
export const XENMEM_paging_op = 20;
export const XENMEM_access_op = 21;
export const XENMEM_sharing_op = 22;
export const XENMEM_add_to_physmap_batch = 23;
export const XENMEM_claim_pages = 24;
export const XENMEM_machphys_compat_mfn_list = 25;
export const XENMEM_get_vnumainfo = 26;
export const XENMEM_reserved_device_memory_map = 27;
export const XENMEM_acquire_resource = 28;

/** Command bits of the cmd word. */
export const MEMOP_CMD_MASK = 0x3F;
/** Continuation: start extent << MEMOP_EXTENT_SHIFT is OR-ed into cmd by Xen. */
export const MEMOP_EXTENT_SHIFT = 6;

// ---- mem_flags (xen_memory_reservation, interface >= 0x00030209) -----------------------------

/** Bits 7:0: address-width limit of the frames (0 = none). */
export const XENMEMF_address_bits_mask = 0xFF;
/** Bits 15:8: NUMA node + 1. */
export const XENMEMF_node_shift = 8;
/** Bit 16: populate-on-demand. */
export const XENMEMF_populate_on_demand = 1 << 16;
/** Bit 17: the node request is exact (4.x). */
export const XENMEMF_exact_node_request = 1 << 17;
/** Bit 18: the node is a virtual node (4.x). */
export const XENMEMF_vnode = 1 << 18;

/** XENMEMF_address_bits(x) */
export const XENMEMF_address_bits = (bits: number): number => bits & XENMEMF_address_bits_mask;
/** XENMEMF_get_address_bits(flags) */
export const XENMEMF_get_address_bits = (flags: number): number => flags & XENMEMF_address_bits_mask;
/** XENMEMF_node(n): encode NUMA node n. */
export const XENMEMF_node = (node: number): number => ((node + 1) & 0xFF) << XENMEMF_node_shift;
/** XENMEMF_get_node(flags): the NUMA node, or -1 for none. */
export const XENMEMF_get_node = (flags: number): number => ((flags >>> XENMEMF_node_shift) & 0xFF) - 1;

// ---- Argument structs ----------------------------------------------------------------------------

export const xen_memory_reservation = struct('xen_memory_reservation', [
  f('extent_start', handle(xen_pfn_t), 'IN: GMFNs (decrease) / GPFNs (populate); OUT: MFNs; may be NULL for increase', 'IN/OUT'),
  f('nr_extents', xen_ulong_t, 'extents to process', 'IN'),
  f('extent_order', uint, 'pages per extent = 2^order', 'IN'),
  f('mem_flags', uint, 'XENMEMF_* (address_bits before interface 0x00030209)', 'IN'),
  f('domid', domid_t, 'DOMID_SELF for guests', 'IN'),
], { size: 20, doc: '20 bytes on x86_32 (32 on x86_64).' });

export const xen_memory_exchange = struct('xen_memory_exchange', [
  f('in', xen_memory_reservation, 'extents to give up', 'IN'),
  f('out', xen_memory_reservation, 'extents to receive', 'IN/OUT'),
  f('nr_exchanged', xen_ulong_t, 'caller sets 0; progress', 'OUT'),
], { size: 44 });

export const xen_machphys_mfn_list = struct('xen_machphys_mfn_list', [
  f('max_extents', uint, 'capacity of extent_start', 'IN'),
  f('extent_start', handle(xen_pfn_t), 'receives MFNs of the 2 MiB M2P chunks', 'IN'),
  f('nr_extents', uint, 'entries written', 'OUT'),
], { size: 12 });

export const xen_machphys_mapping = struct('xen_machphys_mapping', [
  f('v_start', xen_ulong_t, 'first VA of the M2P', 'OUT'),
  f('v_end', xen_ulong_t, 'end VA (exclusive)', 'OUT'),
  f('max_mfn', xen_ulong_t, 'highest MFN it covers', 'OUT'),
], { size: 12 });

/** Map space: the shared_info page (idx 0). */
export const XENMAPSPACE_shared_info = 0;
/** Map space: grant-table frame idx (OR XENMAPIDX_grant_table_status for v2 status frames). */
export const XENMAPSPACE_grant_table = 1;
/** Map space: move an existing guest frame. */
export const XENMAPSPACE_gmfn = 2;
/** 4.2+: a range of guest frames (size field). */
export const XENMAPSPACE_gmfn_range = 3;
/** Batch only: a foreign domain's frame. */
export const XENMAPSPACE_gmfn_foreign = 4;
/** ARM only. */
export const XENMAPSPACE_dev_mmio = 5;
export const XENMAPIDX_grant_table_status = 0x80000000;

export const xen_add_to_physmap = struct('xen_add_to_physmap', [
  f('domid', domid_t, 'DOMID_SELF', 'IN'),
  f('size', u16, '4.x: frames for XENMAPSPACE_gmfn_range (padding in 3.x)', 'IN'),
  f('space', uint, 'XENMAPSPACE_*', 'IN'),
  f('idx', xen_ulong_t, 'index within the space', 'IN'),
  f('gpfn', xen_pfn_t, 'where the frame appears', 'IN'),
], { size: 16 });

export const xen_remove_from_physmap = struct('xen_remove_from_physmap', [
  f('domid', domid_t, '', 'IN'),
  f('gpfn', xen_pfn_t, '', 'IN'),
], { size: 8 });

export const xen_memory_map = struct('xen_memory_map', [
  f('nr_entries', uint, 'IN: capacity of buffer; OUT: entries written', 'IN/OUT'),
  f('buffer', handle('void'), 'array of e820 entries (20 bytes each, packed)', 'IN'),
], { size: 8 });

export const xen_foreign_memory_map = struct('xen_foreign_memory_map', [
  f('domid', domid_t, '', 'IN'),
  f('map', xen_memory_map, '', 'IN'),
], { size: 12 });

