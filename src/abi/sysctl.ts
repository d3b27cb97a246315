/**
 * System control (sysctl.h): host-wide queries and controls of the toolstack (hypercall 35,
 * privileged). TypeScript only — no C header.
 *
 * As for domctl.ts: command numbers and flag bits are Xen 4.17's; payloads are our own
 * stable TypeScript shapes (Xen's layout is versioned by XEN_SYSCTL_INTERFACE_VERSION and
 * our dom0 is native), with Xen's field names.
 */
import type { xen_domctl_getdomaininfo } from './domctl.ts';
import type { DomId } from './types.ts';

/** Version of the payload shapes below (ours). */
export const XEN_SYSCTL_INTERFACE_VERSION = 1;

/** Read Xen's console ring (xl dmesg). */
export const XEN_SYSCTL_readconsole = 1;
export const XEN_SYSCTL_tbuf_op = 2;
/** Host CPUs, memory, capabilities (xl info). */
export const XEN_SYSCTL_physinfo = 3;
export const XEN_SYSCTL_sched_id = 4;
export const XEN_SYSCTL_perfc_op = 5;
/** Info for a range of domains (xl list). */
export const XEN_SYSCTL_getdomaininfolist = 6;
/** Inject debug keys (xl debug-keys). */
export const XEN_SYSCTL_debug_keys = 7;
export const XEN_SYSCTL_getcpuinfo = 8;
export const XEN_SYSCTL_availheap = 9;
export const XEN_SYSCTL_get_pmstat = 10;
export const XEN_SYSCTL_cpu_hotplug = 11;
export const XEN_SYSCTL_pm_op = 12;
export const XEN_SYSCTL_page_offline_op = 14;
export const XEN_SYSCTL_lockprof_op = 15;
export const XEN_SYSCTL_cputopoinfo = 16;
export const XEN_SYSCTL_numainfo = 17;
export const XEN_SYSCTL_cpupool_op = 18;
export const XEN_SYSCTL_scheduler_op = 19;
export const XEN_SYSCTL_coverage_op = 20;
export const XEN_SYSCTL_psr_cmt_op = 21;
export const XEN_SYSCTL_pcitopoinfo = 22;
export const XEN_SYSCTL_psr_alloc = 23;
export const XEN_SYSCTL_get_cpu_featureset = 26;
export const XEN_SYSCTL_livepatch_op = 27;
export const XEN_SYSCTL_get_cpu_policy = 29;

/** XEN_SYSCTL_scheduler_op commands and xen_sysctl_credit_schedule limits. */
export const XEN_SYSCTL_SCHEDOP_putinfo = 0;
export const XEN_SYSCTL_SCHEDOP_getinfo = 1;
export const XEN_SYSCTL_CSCHED_TSLICE_MAX = 1000;
export const XEN_SYSCTL_CSCHED_TSLICE_MIN = 1;
export const XEN_SYSCTL_SCHED_RATELIMIT_MAX = 500000;
export const XEN_SYSCTL_SCHED_RATELIMIT_MIN = 100;
export const XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US = 100 * 1000;

/** XEN_SYSCTL_cpupool_op operations. */
export const XEN_SYSCTL_CPUPOOL_OP_CREATE = 1;
export const XEN_SYSCTL_CPUPOOL_OP_DESTROY = 2;
export const XEN_SYSCTL_CPUPOOL_OP_INFO = 3;
export const XEN_SYSCTL_CPUPOOL_OP_ADDCPU = 4;
export const XEN_SYSCTL_CPUPOOL_OP_RMCPU = 5;
export const XEN_SYSCTL_CPUPOOL_OP_MOVEDOMAIN = 6;
export const XEN_SYSCTL_CPUPOOL_OP_FREEINFO = 7;
export const XEN_SYSCTL_CPUPOOL_PAR_ANY = 0xffffffff;

/** physinfo.capabilities bits. */
export const XEN_SYSCTL_PHYSCAP_hvm = 1 << 0;
export const XEN_SYSCTL_PHYSCAP_pv = 1 << 1;
export const XEN_SYSCTL_PHYSCAP_directio = 1 << 2;
export const XEN_SYSCTL_PHYSCAP_hap = 1 << 3;
export const XEN_SYSCTL_PHYSCAP_shadow = 1 << 4;
export const XEN_SYSCTL_PHYSCAP_iommu_hap_pt_share = 1 << 5;

export interface xen_sysctl_readconsole {
  /** IN: clear the ring after reading. */
  clear: boolean;
  /** IN: continue from `index` instead of the start. */
  incremental: boolean;
  /** IN/OUT: read position. */
  index: number;
  /** IN: max bytes; OUT: the text read. */
  count: number;
  text?: string;
}

export interface xen_sysctl_physinfo {
  threads_per_core: number;
  cores_per_socket: number;
  nr_cpus: number;
  max_cpu_id: number;
  nr_nodes: number;
  max_node_id: number;
  cpu_khz: number;
  /** XEN_SYSCTL_PHYSCAP_*. */
  capabilities: number;
  total_pages: number;
  free_pages: number;
  scrub_pages: number;
  outstanding_pages: number;
  max_mfn: number;
  hw_cap: readonly number[];
}

export interface xen_sysctl_sched_id { sched_id: number }
export interface xen_sysctl_getdomaininfolist { first_domain: DomId; max_domains: number; buffer?: xen_domctl_getdomaininfo[] }
export interface xen_sysctl_debug_keys { keys: string }
export interface xen_sysctl_getcpuinfo { max_cpus: number; info?: Array<{ idletime: bigint }> }

/** A sysctl: command and payload. */
export type XenSysctl =
  | { cmd: typeof XEN_SYSCTL_readconsole; u: xen_sysctl_readconsole }
  | { cmd: typeof XEN_SYSCTL_physinfo; u?: xen_sysctl_physinfo }
  | { cmd: typeof XEN_SYSCTL_sched_id; u?: xen_sysctl_sched_id }
  | { cmd: typeof XEN_SYSCTL_getdomaininfolist; u: xen_sysctl_getdomaininfolist }
  | { cmd: typeof XEN_SYSCTL_debug_keys; u: xen_sysctl_debug_keys }
  | { cmd: typeof XEN_SYSCTL_getcpuinfo; u: xen_sysctl_getcpuinfo };
