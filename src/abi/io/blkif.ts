/**
 * Virtual block devices (io/blkif.h; C header: xen/io/blkif.h): the request/response
 * layouts on the blkif ring, operation and status codes, and the VDISK_* info bits.
 *
 * Invariants:
 * - Two ABIs exist on the wire and the frontend's `protocol` key selects one:
 *   "x86_32-abi" (native here: blkif_request 108 bytes, id at 4) and "x86_64-abi"
 *   (blkif_x86_64_request 112 bytes, id at 8). A missing key means the backend's native
 *   ABI, which for our 32-bit ABI is x86_32.
 * - Sector numbers are always 512-byte units, whatever `sector-size` says.
 * - READ/WRITE carry 1..BLKIF_MAX_SEGMENTS_PER_REQUEST segments; first_sect <= last_sect <= 7.
 * - One-page rings hold 32 requests in both ABIs.
 * - Source: shared/abi/pv-devices.md §3.
 */
import { alias, arr, f, i16, struct, u16, u32, u64, u8 } from '../layout.ts';
import { grant_ref_t } from '../grant_table.ts';
import { ringTypes } from './ring.ts';

export * from '../gen/io/blkif.ts';

/** `blkif_vdev_t`: the frontend's device handle. */
export const blkif_vdev_t = alias('blkif_vdev_t', u16);
/** `blkif_sector_t`: a 512-byte sector number. */
export const blkif_sector_t = alias('blkif_sector_t', u64);

// ---- Operations and status --------------------------------------------------------------

export const BLKIF_OP_READ = 0;
export const BLKIF_OP_WRITE = 1;
/** 3.0.4+, only if the backend wrote feature-barrier = 1. */
export const BLKIF_OP_WRITE_BARRIER = 2;
/** 3.2+, only if feature-flush-cache = 1; may carry 0 segments. */
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
/** 4.x: reserved (SLES). */
export const BLKIF_OP_RESERVED_1 = 4;
/** 4.2+: blkif_request_discard, feature-discard. */
export const BLKIF_OP_DISCARD = 5;
/** 4.4+: blkif_request_indirect, feature-max-indirect-segments. */
export const BLKIF_OP_INDIRECT = 6;

export const BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_RSP_ERROR = -1;
export const BLKIF_RSP_OKAY = 0;

export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** Segment descriptors per indirect page (4096 / 8). */
export const BLKIF_SEGS_PER_INDIRECT_FRAME = 512;
/** Bytes per sector in every sector field. */
export const BLKIF_SECTOR_SIZE = 512;
/** Sectors per 4 KiB page: last_sect <= 7. */
export const BLKIF_SECTORS_PER_PAGE = 8;

/** blkif_request_discard.flag bit 0: secure discard. */
export const _BLKIF_DISCARD_SECURE = 0;
export const BLKIF_DISCARD_SECURE = 1 << 0;

/** Bits of the backend's `info` key. */
export const VDISK_CDROM = 0x1;
export const VDISK_REMOVABLE = 0x2;
export const VDISK_READONLY = 0x4;

// ---- x86_32 layouts (native) ----------------------------------------------------------

export const blkif_request_segment = struct('blkif_request_segment', [
  f('gref', grant_ref_t, 'grant of a 4 KiB data page'),
  f('first_sect', u8, 'first 512-byte sector in the page (0-7), inclusive'),
  f('last_sect', u8, 'last sector in the page (0-7), inclusive'),
], { size: 8, typedef: null });

export const blkif_request = struct('blkif_request', [
  f('operation', u8, 'BLKIF_OP_*'),
  f('nr_segments', u8, 'segments (<= BLKIF_MAX_SEGMENTS_PER_REQUEST)'),
  f('handle', blkif_vdev_t, 'only for read/write requests'),
  f('id', u64, 'private guest value, echoed in the response'),
  f('sector_number', blkif_sector_t, 'start sector on disk (512-byte units)'),
  arr('seg', blkif_request_segment, BLKIF_MAX_SEGMENTS_PER_REQUEST),
], { size: 108, doc: 'A block request, x86_32 ABI ("x86_32-abi").' });

export const blkif_request_discard = struct('blkif_request_discard', [
  f('operation', u8, 'BLKIF_OP_DISCARD'),
  f('flag', u8, 'BLKIF_DISCARD_*'),
  f('handle', blkif_vdev_t),
  f('id', u64),
  f('sector_number', blkif_sector_t, 'start sector'),
  f('nr_sectors', u64, 'number of sectors'),
], { size: 28, doc: 'BLKIF_OP_DISCARD request, x86_32 ABI.' });

export const blkif_request_indirect = struct('blkif_request_indirect', [
  f('operation', u8, 'BLKIF_OP_INDIRECT'),
  f('indirect_op', u8, 'BLKIF_OP_READ / WRITE'),
  f('nr_segments', u16, 'segments in the indirect pages'),
  f('id', u64),
  f('sector_number', blkif_sector_t),
  f('handle', blkif_vdev_t),
  f('_pad2', u16),
  arr('indirect_grefs', grant_ref_t, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, 'pages of blkif_request_segment'),
  f('_pad3', u64, 'x86_32 tail: the request is 64 bytes in both ABIs'),
], { size: 64, doc: 'BLKIF_OP_INDIRECT request, x86_32 ABI.' });

export const blkif_response = struct('blkif_response', [
  f('id', u64, 'copied from the request'),
  f('operation', u8, 'copied from the request'),
  f('status', i16, 'BLKIF_RSP_*'),
], { size: 12, doc: 'A block response, x86_32 ABI.' });

export const blkif_ring = ringTypes('blkif', blkif_request, blkif_response);

// ---- x86_64 layouts (a 64-bit frontend's "x86_64-abi") --------------------------------

export const blkif_x86_64_request = struct('blkif_x86_64_request', [
  f('operation', u8),
  f('nr_segments', u8),
  f('handle', blkif_vdev_t),
  f('id', u64, 'at 8: uint64_t is 8-aligned on x86_64'),
  f('sector_number', blkif_sector_t),
  arr('seg', blkif_request_segment, BLKIF_MAX_SEGMENTS_PER_REQUEST),
], { size: 112, abi: 'x86_64', doc: 'A block request, x86_64 ABI ("x86_64-abi").' });

export const blkif_x86_64_request_discard = struct('blkif_x86_64_request_discard', [
  f('operation', u8),
  f('flag', u8),
  f('handle', blkif_vdev_t),
  f('id', u64),
  f('sector_number', blkif_sector_t),
  f('nr_sectors', u64),
], { size: 32, abi: 'x86_64' });

export const blkif_x86_64_request_indirect = struct('blkif_x86_64_request_indirect', [
  f('operation', u8),
  f('indirect_op', u8),
  f('nr_segments', u16),
  f('_pad1', u32),
  f('id', u64),
  f('sector_number', blkif_sector_t),
  f('handle', blkif_vdev_t),
  f('_pad2', u16),
  arr('indirect_grefs', grant_ref_t, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST),
], { size: 64, abi: 'x86_64' });

export const blkif_x86_64_response = struct('blkif_x86_64_response', [
  f('id', u64),
  f('operation', u8),
  f('status', i16),
], { size: 16, abi: 'x86_64', doc: 'A block response, x86_64 ABI.' });

export const blkif_x86_64_ring = ringTypes('blkif_x86_64', blkif_x86_64_request, blkif_x86_64_response);
