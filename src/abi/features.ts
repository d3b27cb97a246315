/**
 * Feature flags (features.h; C header: xen/features.h): XENFEAT_* bit numbers in submap 0
 * of XENVER_get_features, and the names the ELF FEATURES note uses for them.
 *
 * Invariants:
 * - Values are bit numbers, not masks (XENFEAT_pae_pgdir_above_4gb = 4 → mask 1 << 4).
 * - What a 3.x PV32 domU sees: writable_page_tables and auto_translated_physmap only when
 *   translated; pae_pgdir_above_4gb iff the pae_extended_cr3 assist is on;
 *   mmu_pt_update_preserve_ad, highmem_assist and gnttab_map_avail_bits set.
 * - Source: shared/abi/hypercalls-x86_32.md §5.5 and §11.
 */
export const XENFEAT_writable_page_tables = 0;
export const XENFEAT_writable_descriptor_tables = 1;
export const XENFEAT_auto_translated_physmap = 2;
export const XENFEAT_supervisor_mode_kernel = 3;
export const XENFEAT_pae_pgdir_above_4gb = 4;
export const XENFEAT_mmu_pt_update_preserve_ad = 5;
/** MMUEXT_CLEAR_PAGE / MMUEXT_COPY_PAGE available. */
export const XENFEAT_highmem_assist = 6;
export const XENFEAT_gnttab_map_avail_bits = 7;
export const XENFEAT_hvm_callback_vector = 8;
export const XENFEAT_hvm_safe_pvclock = 9;
export const XENFEAT_hvm_pirqs = 10;
export const XENFEAT_dom0 = 11;
export const XENFEAT_memory_op_vnode_supported = 13;
export const XENFEAT_ARM_SMCCC_supported = 14;
export const XENFEAT_linux_rsdp_unrestricted = 15;
export const XENFEAT_not_direct_mapped = 16;
export const XENFEAT_direct_mapped = 17;
export const XENFEAT_runstate_phys_area = 18;
export const XENFEAT_vcpu_time_phys_area = 19;
export const XENFEAT_dm_msix_all_writes = 20;
export const XENFEAT_NR_SUBMAPS = 1;

/**
 * Feature names accepted in the ELF FEATURES note / legacy FEATURES key ('|'-separated,
 * '!' prefix = required). A '!'-prefixed name not in this table fails the load.
 * @tsonly
 */
export const XENFEAT_NAMES: Readonly<Record<string, number>> = Object.freeze({
  writable_page_tables: XENFEAT_writable_page_tables,
  writable_descriptor_tables: XENFEAT_writable_descriptor_tables,
  auto_translated_physmap: XENFEAT_auto_translated_physmap,
  supervisor_mode_kernel: XENFEAT_supervisor_mode_kernel,
  pae_pgdir_above_4gb: XENFEAT_pae_pgdir_above_4gb,
  hvm_callback_vector: XENFEAT_hvm_callback_vector,
  dom0: XENFEAT_dom0,
});
