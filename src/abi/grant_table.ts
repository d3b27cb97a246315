/**
 * Grant tables (grant_table.h; C header: xen/grant_table.h): GNTTABOP_* commands of
 * hypercall 20, grant entries (v1 and v2), GTF_* / GNTMAP_* / GNTCOPY_* flags, GNTST_*
 * per-entry status codes and every argument struct.
 *
 * Invariants:
 * - Layouts are x86_32 (xen_pfn_t and guest handles are 4 bytes); setup_table, transfer,
 *   copy and get_status_frames differ on x86_64 (noted per struct).
 * - A v1 entry's flags and domid are read and cmpxchg'd by Xen as one 32-bit word (flags
 *   in the low half), at offset 0 of the entry.
 * - Per-entry results are GNTST_* in each struct's `status`; the hypercall itself returns
 *   0 or a negative errno only for whole-batch failures.
 * - Source: shared/abi/grant-tables.md.
 */
import { xen_pfn_t } from './arch_x86_32.ts';
import { domid_t } from './xen.ts';
import { alias, arr, f, handle, i16, struct, u16, u32, u64, union } from './layout.ts';

export * from './gen/grant_table.ts';

/** `grant_ref_t`: index into the granting domain's table. */
export const grant_ref_t = alias('grant_ref_t', u32);
/** `grant_handle_t`: a mapping handle returned by map_grant_ref. */
export const grant_handle_t = alias('grant_handle_t', u32);
/** `grant_status_t`: one v2 status-array entry (GTF_reading/GTF_writing). */
export const grant_status_t = alias('grant_status_t', u16);

// ---- Commands -----------------------------------------------------------------------------

export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
/** Implemented only in 3.0.0; later Xen returns -ENOSYS. */
export const GNTTABOP_dump_table = 3;
export const GNTTABOP_transfer = 4;
/** 3.0.3+ */
export const GNTTABOP_copy = 5;
/** 3.1+ */
export const GNTTABOP_query_size = 6;
/** 3.2+ */
export const GNTTABOP_unmap_and_replace = 7;
/** 4.0+ (v2 grant tables) */
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_status_frames = 9;
export const GNTTABOP_get_version = 10;
export const GNTTABOP_swap_grant_ref = 11;
/** 4.5+ */
export const GNTTABOP_cache_flush = 12;

/** Xen 3.4 limit: a batch of more than this many ops returns -EINVAL. */
export const GNTTABOP_MAX_BATCH = 512;

// ---- Table sizing and reserved entries ------------------------------------------------------

/** v1 entries per 4 KiB frame (8 bytes each). */
export const GNTTAB_V1_ENTRIES_PER_FRAME = 512;
/** v2 entries per 4 KiB frame (16 bytes each). */
export const GNTTAB_V2_ENTRIES_PER_FRAME = 256;
/** v2 status entries per frame (2 bytes each). */
export const GNTTAB_STATUS_ENTRIES_PER_FRAME = 2048;
/** Frames a table starts with (Xen 3.1-3.4). */
export const INITIAL_NR_GRANT_FRAMES = 4;
/** Default maximum frames per table (3.x; boot option gnttab_max_nr_frames). */
export const DEFAULT_MAX_NR_GRANT_FRAMES = 32;
/** Refs 0-7 are reserved for the toolstack; guests allocate from 8 on. */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
/** Ref seeded with the console ring page, granted to the console backend. */
export const GNTTAB_RESERVED_CONSOLE = 0;
/** Ref seeded with the xenstore ring page, granted to xenstored's domain. */
export const GNTTAB_RESERVED_XENSTORE = 1;
/** Maptrack handles per mapping domain (Xen 3.4). */
export const MAPTRACK_MAX_ENTRIES = 16384;

// ---- Grant entries --------------------------------------------------------------------------

export const grant_entry_v1 = struct('grant_entry_v1', [
  f('flags', u16, 'GTF_* type and status bits; guest and Xen'),
  f('domid', domid_t, 'domain being granted the right (guest)'),
  f('frame', u32, 'permit_access: frame (MFN for PV, GFN for HVM); accept_transfer: Xen writes the new MFN'),
], { size: 8, doc: 'A v1 grant entry. Xen reads flags+domid as one 32-bit word.' });

export const grant_entry_header = struct('grant_entry_header', [
  f('flags', u16),
  f('domid', domid_t),
], { size: 4 });

export const grant_entry_v2 = union('grant_entry_v2', [
  f('hdr', grant_entry_header),
  f('full_page', struct(null, [
    f('hdr', grant_entry_header),
    f('pad0', u32),
    f('frame', u64),
  ]), 'GTF_permit_access / accept_transfer'),
  f('sub_page', struct(null, [
    f('hdr', grant_entry_header),
    f('page_off', u16),
    f('length', u16),
    f('frame', u64),
  ]), 'GTF_permit_access | GTF_sub_page: copy only'),
  f('transitive', struct(null, [
    f('hdr', grant_entry_header),
    f('trans_domid', domid_t),
    f('pad0', u16),
    f('gref', grant_ref_t),
  ]), 'GTF_transitive: copy only'),
  arr('__spacer', u32, 4),
], { size: 16, doc: 'A v2 grant entry (Xen 4.0+); status bits live in a separate grant_status_t array.' });

// ---- GTF_* flags ------------------------------------------------------------------------------

export const GTF_invalid = 0 << 0;
export const GTF_permit_access = 1 << 0;
export const GTF_accept_transfer = 2 << 0;
/** v2 only. */
export const GTF_transitive = 3 << 0;
export const GTF_type_mask = 3 << 0;
export const _GTF_readonly = 2;
export const GTF_readonly = 1 << 2;
export const _GTF_reading = 3;
export const GTF_reading = 1 << 3;
export const _GTF_writing = 4;
export const GTF_writing = 1 << 4;
export const _GTF_PWT = 5;
export const GTF_PWT = 1 << 5;
export const _GTF_PCD = 6;
export const GTF_PCD = 1 << 6;
export const _GTF_PAT = 7;
export const GTF_PAT = 1 << 7;
export const _GTF_sub_page = 8;
export const GTF_sub_page = 1 << 8;
/** accept_transfer: Xen committed to transferring a page (same bit as GTF_readonly). */
export const _GTF_transfer_committed = 2;
export const GTF_transfer_committed = 1 << 2;
/** accept_transfer: frame now holds the transferred MFN (same bit as GTF_reading). */
export const _GTF_transfer_completed = 3;
export const GTF_transfer_completed = 1 << 3;

// ---- GNTMAP_* flags -----------------------------------------------------------------------------

export const _GNTMAP_device_map = 0;
export const GNTMAP_device_map = 1 << 0;
export const _GNTMAP_host_map = 1;
export const GNTMAP_host_map = 1 << 1;
export const _GNTMAP_readonly = 2;
export const GNTMAP_readonly = 1 << 2;
export const _GNTMAP_application_map = 3;
export const GNTMAP_application_map = 1 << 3;
export const _GNTMAP_contains_pte = 4;
export const GNTMAP_contains_pte = 1 << 4;
/** Bits 16-31 are copied into the PTE's software-available bits. */
export const _GNTMAP_guest_avail0 = 16;
export const GNTMAP_guest_avail_mask = 0xFFFF0000;

// ---- GNTCOPY_* flags ----------------------------------------------------------------------------

export const _GNTCOPY_source_gref = 0;
export const GNTCOPY_source_gref = 1 << 0;
export const _GNTCOPY_dest_gref = 1;
export const GNTCOPY_dest_gref = 1 << 1;

// ---- GNTST_* status codes -----------------------------------------------------------------------

export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;

/** Xen's message for each GNTST_* code, indexed by -status. */
export const GNTTABOP_error_msgs: readonly string[] = [
  'okay',
  'undefined error',
  'unrecognised domain id',
  'invalid grant reference',
  'invalid mapping handle',
  'invalid virtual address',
  'invalid device address',
  'no spare translation slot in the I/O MMU',
  'permission denied',
  'bad page',
  'copy arguments cross page boundary',
  'page address size too large',
  'operation not done; try again',
  'out of space',
];

// ---- Argument structs --------------------------------------------------------------------------

export const gnttab_map_grant_ref = struct('gnttab_map_grant_ref', [
  f('host_addr', u64, 'PV: VA in the caller\'s address space (PTE machine address with contains_pte); HVM: GPA', 'IN'),
  f('flags', u32, 'GNTMAP_*', 'IN'),
  f('ref', grant_ref_t, 'grant ref in dom\'s table', 'IN'),
  f('dom', domid_t, 'granting domain', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
  f('handle', grant_handle_t, 'for unmap', 'OUT'),
  f('dev_bus_addr', u64, 'MFN << 12 of the granted frame', 'OUT'),
], { size: 32 });

export const gnttab_unmap_grant_ref = struct('gnttab_unmap_grant_ref', [
  f('host_addr', u64, '0 = ignore', 'IN'),
  f('dev_bus_addr', u64, '0 = ignore', 'IN'),
  f('handle', grant_handle_t, '', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 24 });

export const gnttab_setup_table = struct('gnttab_setup_table', [
  f('dom', domid_t, 'DOMID_SELF or privileged other', 'IN'),
  f('nr_frames', u32, 'frames wanted (table grows, never shrinks)', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
  f('frame_list', handle(xen_pfn_t), 'receives nr_frames frame numbers (MFNs for PV)', 'IN'),
], { size: 16, doc: '16 bytes on x86_32 (24 on x86_64).' });

export const gnttab_dump_table = struct('gnttab_dump_table', [
  f('dom', domid_t, '', 'IN'),
  f('status', i16, '', 'OUT'),
], { size: 4 });

export const gnttab_transfer = struct('gnttab_transfer', [
  f('mfn', xen_pfn_t, 'caller\'s frame to give away (GMFN)', 'IN'),
  f('domid', domid_t, 'receiver', 'IN'),
  f('ref', grant_ref_t, 'receiver\'s accept_transfer grant', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 16, doc: '16 bytes on x86_32 (24 on x86_64).' });

const gnttab_copy_ptr = struct(null, [
  f('u', union(null, [
    f('ref', grant_ref_t, 'GNTCOPY_*_gref set: grant ref in domid\'s table'),
    f('gmfn', xen_pfn_t, 'else: a local frame (domid must be DOMID_SELF)'),
  ])),
  f('domid', domid_t),
  f('offset', u16, 'byte offset in the page'),
]);

export const gnttab_copy = struct('gnttab_copy', [
  f('source', gnttab_copy_ptr, '', 'IN'),
  f('dest', gnttab_copy_ptr, '', 'IN'),
  f('len', u16, 'bytes; offset + len <= 4096 on both sides', 'IN'),
  f('flags', u16, 'GNTCOPY_*', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 24, doc: '24 bytes on x86_32 (40 on x86_64).' });

export const gnttab_query_size = struct('gnttab_query_size', [
  f('dom', domid_t, '', 'IN'),
  f('nr_frames', u32, 'current frames', 'OUT'),
  f('max_nr_frames', u32, '', 'OUT'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 16 });

export const gnttab_unmap_and_replace = struct('gnttab_unmap_and_replace', [
  f('host_addr', u64, '', 'IN'),
  f('new_addr', u64, 'its PTE replaces the grant PTE and is zapped', 'IN'),
  f('handle', grant_handle_t, '', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 24 });

export const gnttab_set_version = struct('gnttab_set_version', [
  f('version', u32, '1 or 2; OUT: the version in force', 'IN/OUT'),
], { size: 4 });

export const gnttab_get_status_frames = struct('gnttab_get_status_frames', [
  f('nr_frames', u32, '', 'IN'),
  f('dom', domid_t, '', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
  f('frame_list', handle(u64), 'receives nr_frames frame numbers', 'IN'),
], { size: 12, doc: '12 bytes on x86_32 (16 on x86_64).' });

export const gnttab_get_version = struct('gnttab_get_version', [
  f('dom', domid_t, '', 'IN'),
  f('pad', u16),
  f('version', u32, '', 'OUT'),
], { size: 8 });

export const gnttab_swap_grant_ref = struct('gnttab_swap_grant_ref', [
  f('ref_a', grant_ref_t, '', 'IN'),
  f('ref_b', grant_ref_t, '', 'IN'),
  f('status', i16, 'GNTST_*', 'OUT'),
], { size: 12 });

export const GNTTAB_CACHE_CLEAN = 1 << 0;
export const GNTTAB_CACHE_INVAL = 1 << 1;
export const GNTTAB_CACHE_SOURCE_GREF = 0x80000000;

export const gnttab_cache_flush = struct('gnttab_cache_flush', [
  f('a', union(null, [
    f('dev_bus_addr', u64),
    f('ref', grant_ref_t),
  ]), '', 'IN'),
  f('offset', u16, '', 'IN'),
  f('length', u16, '', 'IN'),
  f('op', u32, 'GNTTAB_CACHE_*', 'IN'),
], { size: 16 });
