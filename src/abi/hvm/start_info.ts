/**
 * PVH start of day (arch-x86/hvm/start_info.h; C header: xen/arch-x86/hvm/start_info.h):
 * the hvm_start_info block EBX points at when a kernel with XEN_ELFNOTE_PHYS32_ENTRY is
 * entered in 32-bit protected mode with paging off.
 *
 * Invariants:
 * - All addresses are guest-physical; all structures are fixed-size with u64 fields.
 * - version 1 adds memmap_paddr/memmap_entries (56 bytes); version 0 ended at rsdp_paddr.
 * - Source: shared/abi/hypercalls-x86_32.md §12.5.
 */
import { f, struct, u32, u64 } from '../layout.ts';

export * from '../gen/hvm/start_info.ts';

/** "xEn3" with bit 7 of 'E' set. */
export const XEN_HVM_START_MAGIC_VALUE = 0x336EC578;

export const XEN_HVM_MEMMAP_TYPE_RAM = 1;
export const XEN_HVM_MEMMAP_TYPE_RESERVED = 2;
export const XEN_HVM_MEMMAP_TYPE_ACPI = 3;
export const XEN_HVM_MEMMAP_TYPE_NVS = 4;
export const XEN_HVM_MEMMAP_TYPE_UNUSABLE = 5;
export const XEN_HVM_MEMMAP_TYPE_DISABLED = 6;
export const XEN_HVM_MEMMAP_TYPE_PMEM = 7;

export const hvm_start_info = struct('hvm_start_info', [
  f('magic', u32, 'XEN_HVM_START_MAGIC_VALUE'),
  f('version', u32, '1'),
  f('flags', u32, 'SIF_*'),
  f('nr_modules', u32),
  f('modlist_paddr', u64, 'array of hvm_modlist_entry'),
  f('cmdline_paddr', u64, 'NUL-terminated command line'),
  f('rsdp_paddr', u64, 'ACPI RSDP'),
  f('memmap_paddr', u64, 'v1: array of hvm_memmap_table_entry'),
  f('memmap_entries', u32, 'v1'),
  f('reserved', u32, 'must be 0'),
], { size: 56, typedef: null });

export const hvm_modlist_entry = struct('hvm_modlist_entry', [
  f('paddr', u64),
  f('size', u64),
  f('cmdline_paddr', u64),
  f('reserved', u64),
], { size: 32, typedef: null });

export const hvm_memmap_table_entry = struct('hvm_memmap_table_entry', [
  f('addr', u64),
  f('size', u64),
  f('type', u32, 'XEN_HVM_MEMMAP_TYPE_*'),
  f('reserved', u32),
], { size: 24, typedef: null });
