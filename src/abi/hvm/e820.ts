/**
 * HVM memory map constants and the e820 entry (hvm/e820.h; C header: xen/hvm/e820.h), also
 * the element type of XENMEM_memory_map / XENMEM_set_memory_map buffers.
 *
 * Invariants:
 * - An e820 entry is 20 bytes, packed (no padding between entries).
 * - RAM below 4 GiB ends at HVM_BELOW_4G_RAM_END; the rest of the low 4 GiB is MMIO.
 * - Source: shared/abi/hypercalls-x86_32.md §6 and §12.5.
 */
import { f, struct, u32, u64 } from '../layout.ts';

export * from '../gen/hvm/e820.ts';

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;
export const E820_DISABLED = 6;
export const E820_PMEM = 7;

/** Maximum entries the builder writes. */
export const E820MAX = 128;

/** 3.2 builder: e820 table in guest page 0x90 (Linux zero page): count byte at +0x1E8, entries at +0x2D0. */
export const HVM_E820_PAGE = 0x00090;
export const HVM_E820_NR_OFFSET = 0x000001E8;
export const HVM_E820_OFFSET = 0x000002D0;

export const HVM_BELOW_4G_RAM_END = 0xF0000000;
export const HVM_BELOW_4G_MMIO_START = HVM_BELOW_4G_RAM_END;
export const HVM_BELOW_4G_MMIO_LENGTH = 0x10000000;

/**
 * HVM special pages the builder places just below this PFN (current libxenguest: 8 pages —
 * paging, access, sharing, bufioreq, xenstore, ioreq, identity PT, console; 3.4: 5 pages at
 * 0xFEFFB-0xFEFFF — bufioreq, xenstore, ioreq, identity PT, shared_info).
 */
export const HVM_SPECIAL_PAGES_END_PFN = 0xFF000;
export const HVM_NR_SPECIAL_PAGES = 8;

export const e820entry = struct('e820entry', [
  f('addr', u64, 'start of the range'),
  f('size', u64, 'length in bytes'),
  f('type', u32, 'E820_*'),
], { size: 20, packed: true, typedef: null });
