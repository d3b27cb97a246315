/**
 * Physical device operations (physdev.h; C header: xen/physdev.h): PHYSDEVOP_* commands of
 * physdev_op (hypercall 33: EBX = cmd, ECX = argument) and physdev_op_compat (hypercall 19:
 * one pointer to struct physdev_op {cmd; union}).
 *
 * Invariants:
 * - A domU uses only set_iopl, set_iobitmap, irq_status_query and eoi (and PVHVM guests
 *   map_pirq/unmap_pirq/get_free_pirq); everything else is dom0's and privilege-checked.
 * - The compat form runs the command with its argument at offset 4 of struct physdev_op.
 * - Source: shared/abi/hypercalls-x86_32.md §8.2 (numbers 15-31 cross-checked with Xen's
 *   physdev.h through the code index).
 */
import { xen_pfn_t } from './arch_x86_32.ts';
import { domid_t } from './xen.ts';
import { arr, f, handle, int, struct, u16, u32, u64, u8, uint, ulong, union } from './layout.ts';

export * from './gen/physdev.ts';

// ---- Commands -------------------------------------------------------------------------

/** Obsolete since 3.0.3. */
export const PHYSDEVOP_IRQ_UNMASK_NOTIFY = 4;
export const PHYSDEVOP_irq_status_query = 5;
export const PHYSDEVOP_set_iopl = 6;
export const PHYSDEVOP_set_iobitmap = 7;
export const PHYSDEVOP_apic_read = 8;
export const PHYSDEVOP_apic_write = 9;
export const PHYSDEVOP_alloc_irq_vector = 10;
export const PHYSDEVOP_free_irq_vector = 11;
export const PHYSDEVOP_eoi = 12;
export const PHYSDEVOP_map_pirq = 13;
export const PHYSDEVOP_unmap_pirq = 14;
export const PHYSDEVOP_manage_pci_add = 15;
export const PHYSDEVOP_manage_pci_remove = 16;
export const PHYSDEVOP_pirq_eoi_gmfn_v1 = 17;
export const PHYSDEVOP_restore_msi = 19;
export const PHYSDEVOP_manage_pci_add_ext = 20;
export const PHYSDEVOP_setup_gsi = 21;
export const PHYSDEVOP_get_nr_pirqs = 22;
export const PHYSDEVOP_get_free_pirq = 23;
export const PHYSDEVOP_pci_mmcfg_reserved = 24;
export const PHYSDEVOP_pci_device_add = 25;
export const PHYSDEVOP_pci_device_remove = 26;
export const PHYSDEVOP_restore_msi_ext = 27;
export const PHYSDEVOP_pirq_eoi_gmfn_v2 = 28;
export const PHYSDEVOP_dbgp_op = 29;
export const PHYSDEVOP_prepare_msix = 30;
export const PHYSDEVOP_release_msix = 31;

/** Old upper-case names of the same numbers. */
export const PHYSDEVOP_IRQ_STATUS_QUERY = PHYSDEVOP_irq_status_query;
export const PHYSDEVOP_SET_IOPL = PHYSDEVOP_set_iopl;
export const PHYSDEVOP_SET_IOBITMAP = PHYSDEVOP_set_iobitmap;
export const PHYSDEVOP_APIC_READ = PHYSDEVOP_apic_read;
export const PHYSDEVOP_APIC_WRITE = PHYSDEVOP_apic_write;
export const PHYSDEVOP_ASSIGN_VECTOR = PHYSDEVOP_alloc_irq_vector;
export const PHYSDEVOP_FREE_VECTOR = PHYSDEVOP_free_irq_vector;

// ---- Argument structs ----------------------------------------------------------------

/** irq_status_query flags: the IRQ needs PHYSDEVOP_eoi. */
export const _XENIRQSTAT_needs_eoi = 0;
export const XENIRQSTAT_needs_eoi = 1 << 0;
/** irq_status_query flags: the IRQ is shared with another domain. */
export const _XENIRQSTAT_shared = 1;
export const XENIRQSTAT_shared = 1 << 1;
export const PHYSDEVOP_IRQ_NEEDS_UNMASK_NOTIFY = XENIRQSTAT_needs_eoi;
export const PHYSDEVOP_IRQ_SHARED = XENIRQSTAT_shared;

export const physdev_eoi = struct('physdev_eoi', [f('irq', u32, '', 'IN')], { size: 4 });

export const physdev_pirq_eoi_gmfn = struct('physdev_pirq_eoi_gmfn', [
  f('gmfn', xen_pfn_t, 'frame of the guest\'s PIRQ EOI bitmap', 'IN'),
], { size: 4 });

export const physdev_irq_status_query = struct('physdev_irq_status_query', [
  f('irq', u32, '', 'IN'),
  f('flags', u32, 'XENIRQSTAT_*', 'OUT'),
], { size: 8 });

export const physdev_set_iopl = struct('physdev_set_iopl', [
  f('iopl', u32, 'virtual IOPL 0-3', 'IN'),
], { size: 4 });

export const physdev_set_iobitmap = struct('physdev_set_iobitmap', [
  f('bitmap', handle(u8), 'I/O permission bitmap (1 = denied)', 'IN'),
  f('nr_ports', u32, '', 'IN'),
], { size: 8 });

export const physdev_apic = struct('physdev_apic', [
  f('apic_physbase', ulong, '', 'IN'),
  f('reg', u32, '', 'IN'),
  f('value', u32, '', 'IN/OUT'),
], { size: 12 });

export const physdev_irq = struct('physdev_irq', [
  f('irq', u32, '', 'IN'),
  f('vector', u32, '', 'IN/OUT'),
], { size: 8 });

export const MAP_PIRQ_TYPE_MSI = 0;
export const MAP_PIRQ_TYPE_GSI = 1;
export const MAP_PIRQ_TYPE_UNKNOWN = 2;
export const MAP_PIRQ_TYPE_MSI_SEG = 3;
export const MAP_PIRQ_TYPE_MULTI_MSI = 4;

export const physdev_map_pirq = struct('physdev_map_pirq', [
  f('domid', domid_t, '', 'IN'),
  f('type', int, 'MAP_PIRQ_TYPE_*', 'IN'),
  f('index', int, '', 'IN'),
  f('pirq', int, '', 'IN/OUT'),
  f('bus', int, 'high 16 bits: segment for MSI_SEG / MULTI_MSI', 'IN'),
  f('devfn', int, '', 'IN'),
  f('entry_nr', int, '', 'IN/OUT'),
  f('table_base', u64, '', 'IN'),
], { size: 36 });

export const physdev_unmap_pirq = struct('physdev_unmap_pirq', [
  f('domid', domid_t, '', 'IN'),
  f('pirq', int, '', 'IN'),
], { size: 8 });

export const physdev_manage_pci = struct('physdev_manage_pci', [
  f('bus', u8, '', 'IN'),
  f('devfn', u8, '', 'IN'),
], { size: 2 });

export const physdev_restore_msi = struct('physdev_restore_msi', [
  f('bus', u8, '', 'IN'),
  f('devfn', u8, '', 'IN'),
], { size: 2 });

export const physdev_manage_pci_ext = struct('physdev_manage_pci_ext', [
  f('bus', u8, '', 'IN'),
  f('devfn', u8, '', 'IN'),
  f('is_extfn', uint, '', 'IN'),
  f('is_virtfn', uint, '', 'IN'),
  f('physfn', struct(null, [f('bus', u8), f('devfn', u8)]), '', 'IN'),
], { size: 16 });

export const physdev_setup_gsi = struct('physdev_setup_gsi', [
  f('gsi', int, '', 'IN'),
  f('triggering', u8, '', 'IN'),
  f('polarity', u8, '', 'IN'),
], { size: 8 });

export const physdev_nr_pirqs = struct('physdev_nr_pirqs', [
  f('nr_pirqs', u32, '', 'OUT'),
], { size: 4 });

export const physdev_get_free_pirq = struct('physdev_get_free_pirq', [
  f('type', int, 'MAP_PIRQ_TYPE_*', 'IN'),
  f('pirq', u32, '', 'OUT'),
], { size: 8 });

export const XEN_PCI_MMCFG_RESERVED = 0x1;

export const physdev_pci_mmcfg_reserved = struct('physdev_pci_mmcfg_reserved', [
  f('address', u64, '', 'IN'),
  f('segment', u16, '', 'IN'),
  f('start_bus', u8, '', 'IN'),
  f('end_bus', u8, '', 'IN'),
  f('flags', u32, 'XEN_PCI_MMCFG_*', 'IN'),
], { size: 16 });

export const XEN_PCI_DEV_EXTFN = 0x1;
export const XEN_PCI_DEV_VIRTFN = 0x2;
export const XEN_PCI_DEV_PXM = 0x4;

export const physdev_pci_device_add = struct('physdev_pci_device_add', [
  f('seg', u16, '', 'IN'),
  f('bus', u8, '', 'IN'),
  f('devfn', u8, '', 'IN'),
  f('flags', u32, 'XEN_PCI_DEV_*', 'IN'),
  f('physfn', struct(null, [f('bus', u8), f('devfn', u8)]), '', 'IN'),
  arr('optarr', u32, 0, 'optional parameters (PXM first)', 'IN'),
], { size: 12 });

export const physdev_pci_device = struct('physdev_pci_device', [
  f('seg', u16, '', 'IN'),
  f('bus', u8, '', 'IN'),
  f('devfn', u8, '', 'IN'),
], { size: 4 });

/** Argument of the compat hypercall 19: the command and the 3.0-era union. */
export const physdev_op = struct('physdev_op', [
  f('cmd', u32, 'PHYSDEVOP_*'),
  f('u', union(null, [
    f('irq_status_query', physdev_irq_status_query),
    f('set_iopl', physdev_set_iopl),
    f('set_iobitmap', physdev_set_iobitmap),
    f('apic_op', physdev_apic),
    f('irq_op', physdev_irq),
  ]), 'argument; Xen runs the command on &u'),
], { size: 16 });

