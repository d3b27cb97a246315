/**
 * The HVM info table (hvm/hvm_info_table.h; C header: xen/hvm/hvm_info_table.h): what the
 * domain builder tells the HVM firmware, at guest-physical 0x9F800.
 *
 * Invariants:
 * - The bytes of `length` bytes from the signature sum to 0 (mod 256) via `checksum`.
 * - We present the Xen 4.x layout (48 bytes with the vcpu_online bitmap); 3.4 had
 *   acpi_enabled at 13 and apic_mode at 14 and ended at 32.
 * - Page ends are frame numbers: RAM is [0, low_mem_pgend) and [4 GiB, high_mem_pgend).
 * - Source: shared/abi/hypercalls-x86_32.md §12.5.
 */
import { arr, char, f, struct, u32, u8 } from '../layout.ts';

export * from '../gen/hvm/hvm_info_table.ts';

export const HVM_INFO_PFN = 0x09F;
export const HVM_INFO_OFFSET = 0x800;
export const HVM_INFO_PADDR = 0x9F800;
/** The signature, 8 bytes, no NUL. */
export const HVM_INFO_SIGNATURE = 'HVM INFO';
/** vCPUs the online bitmap can name. */
export const HVM_MAX_VCPUS = 128;

export const hvm_info_table = struct('hvm_info_table', [
  arr('signature', char, 8, '"HVM INFO"'),
  f('length', u32, 'bytes covered by the checksum'),
  f('checksum', u8, 'makes the byte sum 0'),
  f('apic_mode', u8, 'non-zero: the guest has APICs'),
  f('nr_vcpus', u32),
  f('low_mem_pgend', u32, 'end (PFN) of RAM below 4 GiB'),
  f('reserved_mem_pgstart', u32, 'first PFN of the special pages'),
  f('high_mem_pgend', u32, 'end (PFN) of RAM above 4 GiB; 0 if none'),
  arr('vcpu_online', u8, HVM_MAX_VCPUS / 8, 'bitmap of online vCPUs'),
], { size: 48, typedef: null });
