/**
 * Per-vCPU operations (vcpu.h; C header: xen/vcpu.h): VCPUOP_* commands of vcpu_op
 * (hypercall 24: EBX = cmd, ECX = vCPU id, EDX = argument), runstate and timer structs.
 *
 * Invariants:
 * - 32-bit layouts: vcpu_runstate_info is 44 bytes (uint64_t 4-aligned), not 48.
 * - A registration struct holding a guest address as a union of handle/pointer/u64 is read
 *   from its low 4 bytes by a 32-bit guest (it writes only those).
 * - XEN_RUNSTATE_UPDATE (bit 63 of state_entry_time) is set while Xen rewrites a registered
 *   runstate area, when VMASST_TYPE_runstate_update_flag is on.
 * - Source: shared/abi/hypercalls-x86_32.md §7.
 */
import { vcpu_time_info } from './xen.ts';
import { arr, f, handle, int, ptr, struct, u32, u64, union } from './layout.ts';

export * from './gen/vcpu.ts';

/** Set up a vCPU from a vcpu_guest_context (once; it stays down until VCPUOP_up). */
export const VCPUOP_initialise = 0;
export const VCPUOP_up = 1;
export const VCPUOP_down = 2;
/** Returns 1 if up, 0 if down. */
export const VCPUOP_is_up = 3;
export const VCPUOP_get_runstate_info = 4;
export const VCPUOP_register_runstate_memory_area = 5;
/** 3.1+: VIRQ_TIMER every period_ns (< 1 ms: -EINVAL). */
export const VCPUOP_set_periodic_timer = 6;
/** Shortest period VCPUOP_set_periodic_timer accepts (3.4: shorter returns -EINVAL). */
export const VCPUOP_PERIODIC_TIMER_MIN_NS = 1000000;
export const VCPUOP_stop_periodic_timer = 7;
/** 3.1+: calling vCPU only. */
export const VCPUOP_set_singleshot_timer = 8;
export const VCPUOP_stop_singleshot_timer = 9;
/** Move vcpu_info out of shared_info (needed for vCPU >= 32); once per vCPU. */
export const VCPUOP_register_vcpu_info = 10;
/** 3.2+ */
export const VCPUOP_send_nmi = 11;
export const VCPUOP_get_physid = 12;
/** 4.x */
export const VCPUOP_register_vcpu_time_memory_area = 13;
/** 4.18+ */
export const VCPUOP_register_runstate_phys_area = 14;
export const VCPUOP_register_vcpu_time_phys_area = 15;

export const RUNSTATE_running = 0;
export const RUNSTATE_runnable = 1;
export const RUNSTATE_blocked = 2;
export const RUNSTATE_offline = 3;

/** Bit 63 of state_entry_time: the area is being updated (VMASST_TYPE_runstate_update_flag). */
export const XEN_RUNSTATE_UPDATE = 1n << 63n;

export const vcpu_runstate_info = struct('vcpu_runstate_info', [
  f('state', int, 'RUNSTATE_*'),
  f('state_entry_time', u64, 'system time (ns) of entry into state; bit 63 XEN_RUNSTATE_UPDATE'),
  arr('time', u64, 4, 'ns spent in each RUNSTATE_*'),
], { size: 44, doc: 'Runstate accounting (44 bytes on x86_32).' });

export const vcpu_register_runstate_memory_area = struct('vcpu_register_runstate_memory_area', [
  f('addr', union(null, [
    f('h', handle(vcpu_runstate_info)),
    f('v', ptr(vcpu_runstate_info)),
    f('p', u64, 'physical address (VCPUOP_register_runstate_phys_area)'),
  ]), 'guest address of a vcpu_runstate_info', 'IN'),
], { size: 8 });

export const vcpu_set_periodic_timer = struct('vcpu_set_periodic_timer', [
  f('period_ns', u64, '', 'IN'),
], { size: 8 });

/** Return -ETIME if the deadline already passed. */
export const _VCPU_SSHOTTMR_future = 0;
export const VCPU_SSHOTTMR_future = 1 << 0;

export const vcpu_set_singleshot_timer = struct('vcpu_set_singleshot_timer', [
  f('timeout_abs_ns', u64, 'absolute system time', 'IN'),
  f('flags', u32, 'VCPU_SSHOTTMR_*', 'IN'),
], { size: 12 });

export const vcpu_register_vcpu_info = struct('vcpu_register_vcpu_info', [
  f('mfn', u64, 'frame holding the new vcpu_info', 'IN'),
  f('offset', u32, 'offset in the frame (must not cross the page)', 'IN'),
  f('rsvd', u32, 'must be 0', 'IN'),
], { size: 16 });

export const vcpu_get_physid = struct('vcpu_get_physid', [
  f('phys_id', u64, 'APIC id in bits 31:0, ACPI id in 63:32', 'OUT'),
], { size: 8 });

/** xen_vcpu_physid_to_x86_apicid(physid) */
export const xen_vcpu_physid_to_x86_apicid = (physid: bigint): number => Number(physid & 0xFFFFFFFFn);
/** xen_vcpu_physid_to_x86_acpiid(physid) */
export const xen_vcpu_physid_to_x86_acpiid = (physid: bigint): number => Number((physid >> 32n) & 0xFFFFFFFFn);

export const vcpu_register_time_memory_area = struct('vcpu_register_time_memory_area', [
  f('addr', union(null, [
    f('h', handle(vcpu_time_info)),
    f('v', ptr(vcpu_time_info)),
    f('p', u64),
  ]), 'guest address of a vcpu_time_info', 'IN'),
], { size: 8 });
