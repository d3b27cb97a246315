/**
 * The byte layout of domctl (36), sysctl (35) and platform_op (7) arguments in guest
 * memory — Xen 4.17's, for the commands tsxen implements. TypeScript only (no C header).
 *
 * Why a wire layout next to domctl.ts/sysctl.ts: every domain, dom0 included, issues
 * these hypercalls with a guest handle (dom0's native port marshals through its own
 * frames), and a domU that calls domctl must meet Xen's exact checks: the struct is copied
 * in (-EFAULT), its interface version compared (-EACCES), the target domain looked up
 * (-ESRCH), and only then is privilege checked (-EPERM). The version numbers and header
 * layouts below are Xen 4.17's; payloads follow Xen 4.17's structs (uint64_aligned_t is
 * 8-aligned: the tools ABI is the same for 32- and 64-bit callers, hence abi 'x86_64').
 * Added by the hypervisor engineer; the ABI engineer owns this directory.
 *
 * The layouts are declared as descriptors (module-private) and exported as offset tables
 * (`DOMCTL_GETDOMAININFO.tot_pages`) plus sizes, which is what the hypervisor's decoder
 * and dom0's marshaller use.
 */
import { arr, f, offsetOf, struct, u16, u32, u64, u8, union, i32, type StructDef } from './layout.ts';

/** XEN_DOMCTL_INTERFACE_VERSION of Xen 4.17. */
export const XEN_DOMCTL_INTERFACE_VERSION_WIRE = 0x00000015;
/** XEN_SYSCTL_INTERFACE_VERSION of Xen 4.17. */
export const XEN_SYSCTL_INTERFACE_VERSION_WIRE = 0x00000015;

const X64 = { abi: 'x86_64' as const, typedef: null, tsOffsets: false };

/** struct xen_domctl: header + 128-byte union. */
const xen_domctl_wire = struct('xen_domctl_wire', [
  f('cmd', u32, 'XEN_DOMCTL_*', 'IN'),
  f('interface_version', u32, 'XEN_DOMCTL_INTERFACE_VERSION_WIRE', 'IN'),
  f('domain', u16, 'target domain (IN/OUT for createdomain)', 'IN/OUT'),
  arr('_pad', u8, 6),
  f('u', union(null, [arr('pad', u8, 128)], { abi: 'x86_64', typedef: null }), 'per-command payload'),
], { ...X64, size: 144 });
export const XEN_DOMCTL_WIRE_SIZE = 144;
export const XEN_DOMCTL_WIRE_U = 16;

const xen_domctl_createdomain_wire = struct('xen_domctl_createdomain_wire', [
  f('ssidref', u32), arr('handle', u8, 16), f('flags', u32), f('iommu_opts', u32), f('max_vcpus', u32),
  f('max_evtchn_port', u32), f('max_grant_frames', i32), f('max_maptrack_frames', i32), f('grant_opts', u32),
  f('vmtrace_size', u32), f('cpupool_id', u32), f('emulation_flags', u32), f('misc_flags', u32),
], { ...X64, size: 64 });

const xen_domctl_getdomaininfo_wire = struct('xen_domctl_getdomaininfo_wire', [
  f('domain', u16), arr('_pad', u8, 2), f('flags', u32), f('tot_pages', u64), f('max_pages', u64),
  f('outstanding_pages', u64), f('shr_pages', u64), f('paged_pages', u64), f('shared_info_frame', u64),
  f('cpu_time', u64), f('nr_online_vcpus', u32), f('max_vcpu_id', u32), f('ssidref', u32), arr('handle', u8, 16),
  f('cpupool', u32), f('gpaddr_bits', u8), arr('_pad2', u8, 7), f('emulation_flags', u32), f('misc_flags', u32),
], { ...X64, size: 112 });

/** max_mem: max_memkb u64. hypercall_init: gmfn u64. settimeoffset: i64 seconds. */
const xen_domctl_u64_wire = struct('xen_domctl_u64_wire', [f('value', u64)], { ...X64, size: 8 });

/** setvcpucontext / getvcpucontext: vcpu u32, ctxt guest handle (64-bit slot). */
const xen_domctl_vcpucontext_wire = struct('xen_domctl_vcpucontext_wire', [
  f('vcpu', u32), f('ctxt', u64, 'guest address of a vcpu_guest_context (low 32 bits used)'),
], { ...X64, size: 16 });

const xen_domctl_getvcpuinfo_wire = struct('xen_domctl_getvcpuinfo_wire', [
  f('vcpu', u32), f('online', u8), f('blocked', u8), f('running', u8), f('cpu_time', u64), f('cpu', u32),
], { ...X64, size: 24 });

/** getpageframeinfo3: num u64, array guest handle of xen_pfn_t (8 bytes each in the tools ABI). */
const xen_domctl_getpageframeinfo3_wire = struct('xen_domctl_getpageframeinfo3_wire', [
  f('num', u64), f('array', u64, 'guest address of num xen_pfn_t (IN: gmfn, OUT: XEN_DOMCTL_PFINFO_* type)'),
], { ...X64, size: 16 });

/** max_vcpus: max u32. set/get_address_size: size u32. */
const xen_domctl_u32_wire = struct('xen_domctl_u32_wire', [f('value', u32)], { ...X64, size: 4 });

const xen_domctl_scheduler_op_wire = struct('xen_domctl_scheduler_op_wire', [
  f('sched_id', u32), f('cmd', u32), f('weight', u16), f('cap', u16),
], { ...X64, size: 12 });

const xen_domctl_vcpuaffinity_wire = struct('xen_domctl_vcpuaffinity_wire', [
  f('vcpu', u32), f('flags', u32), f('hard_bitmap', u64), f('hard_nr_bits', u32), f('_p1', u32),
  f('soft_bitmap', u64), f('soft_nr_bits', u32), f('_p2', u32),
], { ...X64, size: 40 });

const xen_domctl_irq_permission_wire = struct('xen_domctl_irq_permission_wire', [
  f('pirq', u32), f('allow_access', u8),
], { ...X64, size: 8 });

const xen_domctl_iomem_permission_wire = struct('xen_domctl_iomem_permission_wire', [
  f('first_mfn', u64), f('nr_mfns', u64), f('allow_access', u8),
], { ...X64, size: 24 });

const xen_domctl_ioport_permission_wire = struct('xen_domctl_ioport_permission_wire', [
  f('first_port', u32), f('nr_ports', u32), f('allow_access', u8),
], { ...X64, size: 12 });

/** struct xen_sysctl: header + 128-byte union at offset 8. */
const xen_sysctl_wire = struct('xen_sysctl_wire', [
  f('cmd', u32, 'XEN_SYSCTL_*', 'IN'),
  f('interface_version', u32, 'XEN_SYSCTL_INTERFACE_VERSION_WIRE', 'IN'),
  f('u', union(null, [arr('pad', u8, 128)], { abi: 'x86_64', typedef: null }), 'per-command payload'),
], { ...X64, size: 136 });
export const XEN_SYSCTL_WIRE_SIZE = 136;
export const XEN_SYSCTL_WIRE_U = 8;

const xen_sysctl_readconsole_wire = struct('xen_sysctl_readconsole_wire', [
  f('clear', u8), f('incremental', u8), f('_pad0', u8), f('_pad1', u8), f('index', u32),
  f('buffer', u64, 'guest address of the text buffer'), f('count', u32),
], { ...X64, size: 24 });

const xen_sysctl_physinfo_wire = struct('xen_sysctl_physinfo_wire', [
  f('threads_per_core', u32), f('cores_per_socket', u32), f('nr_cpus', u32), f('max_cpu_id', u32),
  f('nr_nodes', u32), f('max_node_id', u32), f('cpu_khz', u32), f('capabilities', u32), f('arch_capabilities', u32),
  f('_pad', u32), f('total_pages', u64), f('free_pages', u64), f('scrub_pages', u64), f('outstanding_pages', u64),
  f('max_mfn', u64), arr('hw_cap', u32, 8),
], { ...X64, size: 112 });

const xen_sysctl_getdomaininfolist_wire = struct('xen_sysctl_getdomaininfolist_wire', [
  f('first_domain', u16), arr('_pad', u8, 2), f('max_domains', u32), f('buffer', u64), f('num_domains', u32),
], { ...X64, size: 24 });

/** XEN_SYSCTL_tbuf_op: cmd, then (get_info) the trace buffer's frames. */
const xen_sysctl_tbuf_op_wire = struct('xen_sysctl_tbuf_op_wire', [
  f('cmd', u32), f('_pad', u32), f('cpu_mask_bitmap', u64), f('cpu_mask_nr_bits', u32), f('evt_mask', u32),
  f('buffer_mfn', u64), f('size', u32), f('_pad2', u32),
], { ...X64, size: 40 });
export const XEN_SYSCTL_TBUFOP_get_info = 0;
export const XEN_SYSCTL_TBUFOP_set_cpu_mask = 1;
export const XEN_SYSCTL_TBUFOP_set_evt_mask = 2;
export const XEN_SYSCTL_TBUFOP_set_size = 3;
export const XEN_SYSCTL_TBUFOP_enable = 4;
export const XEN_SYSCTL_TBUFOP_disable = 5;

/** XEN_SYSCTL_getcpuinfo: info is a guest array of max_cpus u64 idletime (ns). */
const xen_sysctl_getcpuinfo_wire = struct('xen_sysctl_getcpuinfo_wire', [
  f('max_cpus', u32), f('_pad', u32), f('info', u64, 'guest address of xen_sysctl_cpuinfo_t[max_cpus]'), f('nr_cpus', u32),
], { ...X64, size: 24 });

/** XEN_SYSCTL_scheduler_op with the credit scheduler's parameters (the union is 8-aligned). */
const xen_sysctl_scheduler_op_wire = struct('xen_sysctl_scheduler_op_wire', [
  f('cpupool_id', u32), f('sched_id', u32), f('cmd', u32), f('_pad', u32),
  f('tslice_ms', u32), f('ratelimit_us', u32), f('vcpu_migr_delay_us', u32), f('_pad2', u32),
], { ...X64, size: 32 });

/** XEN_SYSCTL_cpupool_op: cpumap is a xenctl_bitmap (guest address, nr_bits). */
const xen_sysctl_cpupool_op_wire = struct('xen_sysctl_cpupool_op_wire', [
  f('op', u32), f('cpupool_id', u32), f('sched_id', u32), f('domid', u32), f('cpu', u32), f('n_dom', u32),
  f('cpumap_bitmap', u64), f('cpumap_nr_bits', u32),
], { ...X64, size: 40 });

/** platform_op header: cmd, interface_version, then a 128-byte union. */
export const XENPF_WIRE_SIZE = 136;

/** Field offsets of a wire struct (top-level fields only), plus its size. */
export type WireOffsets = Readonly<Record<string, number>> & { readonly SIZE: number };

function offsets(def: StructDef): WireOffsets {
  const o: Record<string, number> = { SIZE: def.size };
  for (const fld of def.fields) if (!fld.name.startsWith('_')) o[fld.name] = offsetOf(def, fld.name);
  return Object.freeze(o) as WireOffsets;
}

export const DOMCTL_HDR = offsets(xen_domctl_wire);
export const DOMCTL_CREATEDOMAIN = offsets(xen_domctl_createdomain_wire);
export const DOMCTL_GETDOMAININFO = offsets(xen_domctl_getdomaininfo_wire);
export const DOMCTL_U64 = offsets(xen_domctl_u64_wire);
export const DOMCTL_U32 = offsets(xen_domctl_u32_wire);
export const DOMCTL_VCPUCONTEXT = offsets(xen_domctl_vcpucontext_wire);
export const DOMCTL_GETVCPUINFO = offsets(xen_domctl_getvcpuinfo_wire);
export const DOMCTL_SCHEDULER_OP = offsets(xen_domctl_scheduler_op_wire);
export const DOMCTL_GETPAGEFRAMEINFO3 = offsets(xen_domctl_getpageframeinfo3_wire);
export const DOMCTL_VCPUAFFINITY = offsets(xen_domctl_vcpuaffinity_wire);
export const DOMCTL_IRQ_PERMISSION = offsets(xen_domctl_irq_permission_wire);
export const DOMCTL_IOMEM_PERMISSION = offsets(xen_domctl_iomem_permission_wire);
export const DOMCTL_IOPORT_PERMISSION = offsets(xen_domctl_ioport_permission_wire);
export const SYSCTL_HDR = offsets(xen_sysctl_wire);
export const SYSCTL_READCONSOLE = offsets(xen_sysctl_readconsole_wire);
export const SYSCTL_PHYSINFO = offsets(xen_sysctl_physinfo_wire);
export const SYSCTL_GETDOMAININFOLIST = offsets(xen_sysctl_getdomaininfolist_wire);
export const SYSCTL_TBUF_OP = offsets(xen_sysctl_tbuf_op_wire);
export const SYSCTL_GETCPUINFO = offsets(xen_sysctl_getcpuinfo_wire);
export const SYSCTL_SCHEDULER_OP = offsets(xen_sysctl_scheduler_op_wire);
export const SYSCTL_CPUPOOL_OP = offsets(xen_sysctl_cpupool_op_wire);

// ---- the trace buffer (tsxen's xentrace) ------------------------------------------------
//
// Hypervisor-owned frames dom0 maps as DOMID_XEN's after sysctl tbuf_op get_info
// (buffer_mfn, size in bytes). Little endian: a 64-byte header
//   0 magic 'TSXT'  4 version 1  8 record size 32  12 capacity (records)
//   16 total records ever made (u64: a reader detects loss)  24 event mask
// then `capacity` records of 32 bytes at 64 + (n % capacity) * 32:
//   0 time (ns, u64)  8 event (u32)  12 a (i32)  16 b (i32)  20-31 zero

export const TRACE_MAGIC = 0x54585354; // 'TSXT'
export const TRACE_HEADER = 64;
export const TRACE_RECORD = 32;
/** The buffer's frames: 2^order contiguous pages. */
export const TRACE_ORDER = 6;

export interface TraceRecord {
  readonly time: number;
  readonly event: number;
  readonly a: number;
  readonly b: number;
}

/** Decode a trace buffer's bytes (the hypervisor's own view, or dom0's mapping of it). */
export function readTraceRecords(view: DataView, base: number, from = 0, max = Infinity): { total: number; records: TraceRecord[] } {
  const capacity = view.getUint32(base + 12, true);
  const total = view.getUint32(base + 16, true) + view.getUint32(base + 20, true) * 0x100000000;
  const oldest = Math.max(0, total - capacity);
  const records: TraceRecord[] = [];
  for (let n = Math.max(from, oldest); n < total && records.length < max; n++) {
    const o = base + TRACE_HEADER + (n % capacity) * TRACE_RECORD;
    records.push({
      time: view.getUint32(o, true) + view.getUint32(o + 4, true) * 0x100000000,
      event: view.getUint32(o + 8, true), a: view.getInt32(o + 12, true), b: view.getInt32(o + 16, true),
    });
  }
  return { total, records };
}
