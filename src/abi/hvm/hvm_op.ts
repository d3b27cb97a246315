/**
 * HVM operations (hvm/hvm_op.h; C header: xen/hvm/hvm_op.h): HVMOP_* of hvm_op
 * (hypercall 34: EBX = op, ECX = argument) and the guest-visible argument structs.
 *
 * Invariants:
 * - An HVM guest must call from CPL 0 (else -EPERM) and uses these 32-bit layouts.
 * - Ops 2-8 and 11-13 are the device model's; our device model is native TypeScript in
 *   dom0 and reaches them through the control port, so only their numbers are here.
 * - Source: shared/abi/hypercalls-x86_32.md §12.1.
 */
import { domid_t } from '../xen.ts';
import { arr, f, struct, u16, u32, u64, u8 } from '../layout.ts';

export * from '../gen/hvm/hvm_op.ts';

export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;
export const HVMOP_set_pci_intx_level = 2;
export const HVMOP_set_isa_irq_level = 3;
export const HVMOP_set_pci_link_route = 4;
/** Flush every vCPU's TLB; argument NULL. */
export const HVMOP_flush_tlbs = 5;
export const HVMOP_track_dirty_vram = 6;
export const HVMOP_modified_memory = 7;
export const HVMOP_set_mem_type = 8;
/** Linux PVHVM hint: a page table is being torn down. */
export const HVMOP_pagetable_dying = 9;
/** Xen system time in ns. */
export const HVMOP_get_time = 10;
export const HVMOP_xentrace = 11;
export const HVMOP_set_mem_access = 12;
export const HVMOP_get_mem_access = 13;
export const HVMOP_get_mem_type = 15;
/** 4.x: per-vCPU upcall vector, delivered through the LAPIC (needs EOI). */
export const HVMOP_set_evtchn_upcall_vector = 23;
export const HVMOP_guest_request_vm_event = 24;
export const HVMOP_altp2m = 25;

export const xen_hvm_param = struct('xen_hvm_param', [
  f('domid', domid_t, 'DOMID_SELF', 'IN'),
  f('pad', u16),
  f('index', u32, 'HVM_PARAM_*', 'IN'),
  f('value', u64, 'set: IN, get: OUT', 'IN/OUT'),
], { size: 16 });

export const xen_hvm_pagetable_dying = struct('xen_hvm_pagetable_dying', [
  f('domid', domid_t, 'DOMID_SELF', 'IN'),
  arr('pad', u16, 3),
  f('gpa', u64, 'guest-physical address of the top-level page table', 'IN'),
], { size: 16 });

export const xen_hvm_get_time = struct('xen_hvm_get_time', [
  f('now', u64, 'Xen system time, ns', 'OUT'),
], { size: 8 });

export const xen_hvm_evtchn_upcall_vector = struct('xen_hvm_evtchn_upcall_vector', [
  f('vcpu', u32, '', 'IN'),
  f('vector', u8, '', 'IN'),
], { size: 8 });
