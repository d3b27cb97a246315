/**
 * Domain control (domctl.h): the toolstack's interface to the hypervisor (hypercall 36,
 * privileged). TypeScript only — no C header.
 *
 * What is Xen's and what is ours:
 * - Command numbers, XEN_DOMINF_* and XEN_DOMCTL_CDF_* flags are Xen 4.17's, so xl-style
 *   semantics read the same (createdomain, getdomaininfo, max_mem, hypercall_init, ...).
 * - The payloads are our own stable TypeScript shapes, not Xen's byte layout: Xen's domctl
 *   layout changes with every XEN_DOMCTL_INTERFACE_VERSION, and our dom0 is a native
 *   (TypeScript) domain whose control port carries objects, not guest memory. Field names
 *   keep Xen's spelling so the code cross-reads with libxl/libxc.
 * - Errors are the usual negative errno (errno.ts).
 * Invariant: a domctl from a domain without control privilege fails with -EPERM.
 */
import type { DomId, Gfn, Mfn, VcpuId } from './types.ts';

/** Version of the payload shapes below (ours; bump on an incompatible change). */
export const XEN_DOMCTL_INTERFACE_VERSION = 1;

export const XEN_DOMCTL_createdomain = 1;
export const XEN_DOMCTL_destroydomain = 2;
export const XEN_DOMCTL_pausedomain = 3;
export const XEN_DOMCTL_unpausedomain = 4;
export const XEN_DOMCTL_getdomaininfo = 5;
export const XEN_DOMCTL_setvcpuaffinity = 9;
export const XEN_DOMCTL_shadow_op = 10;
export const XEN_DOMCTL_max_mem = 11;
export const XEN_DOMCTL_setvcpucontext = 12;
export const XEN_DOMCTL_getvcpucontext = 13;
export const XEN_DOMCTL_getvcpuinfo = 14;
export const XEN_DOMCTL_max_vcpus = 15;
export const XEN_DOMCTL_scheduler_op = 16;
export const XEN_DOMCTL_setdomainhandle = 17;
export const XEN_DOMCTL_setdebugging = 18;
export const XEN_DOMCTL_irq_permission = 19;
export const XEN_DOMCTL_iomem_permission = 20;
export const XEN_DOMCTL_ioport_permission = 21;
/** Fill a PV guest's hypercall page (the builder's step before unpausing). */
export const XEN_DOMCTL_hypercall_init = 22;
export const XEN_DOMCTL_settimeoffset = 24;
export const XEN_DOMCTL_getvcpuaffinity = 25;
export const XEN_DOMCTL_resumedomain = 27;
export const XEN_DOMCTL_sendtrigger = 28;
export const XEN_DOMCTL_subscribe = 29;
export const XEN_DOMCTL_gethvmcontext = 33;
export const XEN_DOMCTL_sethvmcontext = 34;
export const XEN_DOMCTL_set_address_size = 35;
export const XEN_DOMCTL_get_address_size = 36;
export const XEN_DOMCTL_assign_device = 37;
export const XEN_DOMCTL_bind_pt_irq = 38;
export const XEN_DOMCTL_memory_mapping = 39;
export const XEN_DOMCTL_ioport_mapping = 40;
export const XEN_DOMCTL_set_ext_vcpucontext = 42;
export const XEN_DOMCTL_get_ext_vcpucontext = 43;
export const XEN_DOMCTL_test_assign_device = 45;
/** Give a (stub) domain rights over another. */
export const XEN_DOMCTL_set_target = 46;
export const XEN_DOMCTL_deassign_device = 47;
export const XEN_DOMCTL_unbind_pt_irq = 48;
export const XEN_DOMCTL_get_device_group = 50;
export const XEN_DOMCTL_debug_op = 54;
export const XEN_DOMCTL_gethvmcontext_partial = 55;
export const XEN_DOMCTL_vm_event_op = 56;
export const XEN_DOMCTL_mem_sharing_op = 57;
export const XEN_DOMCTL_gettscinfo = 59;
export const XEN_DOMCTL_settscinfo = 60;
export const XEN_DOMCTL_getpageframeinfo3 = 61;
export const XEN_DOMCTL_setvcpuextstate = 62;
export const XEN_DOMCTL_getvcpuextstate = 63;
export const XEN_DOMCTL_set_access_required = 64;
export const XEN_DOMCTL_audit_p2m = 65;
/** Route a global VIRQ to this domain instead of dom0 (e.g. VIRQ_DOM_EXC to a xenstore domain). */
export const XEN_DOMCTL_set_virq_handler = 66;
export const XEN_DOMCTL_set_broken_page_p2m = 67;
export const XEN_DOMCTL_setnodeaffinity = 68;
export const XEN_DOMCTL_getnodeaffinity = 69;
export const XEN_DOMCTL_cacheflush = 71;
export const XEN_DOMCTL_get_vcpu_msrs = 72;
export const XEN_DOMCTL_set_vcpu_msrs = 73;
export const XEN_DOMCTL_setvnumainfo = 74;
export const XEN_DOMCTL_psr_cmt_op = 75;
export const XEN_DOMCTL_monitor_op = 77;
export const XEN_DOMCTL_psr_alloc = 78;
export const XEN_DOMCTL_soft_reset = 79;
export const XEN_DOMCTL_vuart_op = 81;
export const XEN_DOMCTL_get_cpu_policy = 82;
export const XEN_DOMCTL_set_cpu_policy = 83;
export const XEN_DOMCTL_vmtrace_op = 84;
export const XEN_DOMCTL_get_paging_mempool_size = 85;
export const XEN_DOMCTL_set_paging_mempool_size = 86;

// ---- createdomain flags -------------------------------------------------------------------

export const XEN_DOMCTL_CDF_hvm = 1 << 0;
export const XEN_DOMCTL_CDF_hap = 1 << 1;
export const XEN_DOMCTL_CDF_s3_integrity = 1 << 2;
export const XEN_DOMCTL_CDF_oos_off = 1 << 3;
/** The domain runs xenstored. */
export const XEN_DOMCTL_CDF_xs_domain = 1 << 4;
export const XEN_DOMCTL_CDF_iommu = 1 << 5;
export const XEN_DOMCTL_CDF_nested_virt = 1 << 6;
export const XEN_DOMCTL_CDF_vpmu = 1 << 7;
export const XEN_DOMCTL_CDF_MAX = XEN_DOMCTL_CDF_vpmu;

// ---- getdomaininfo flags ---------------------------------------------------------------------

export const XEN_DOMINF_dying = 1 << 0;
export const XEN_DOMINF_hvm_guest = 1 << 1;
export const XEN_DOMINF_shutdown = 1 << 2;
export const XEN_DOMINF_paused = 1 << 3;
export const XEN_DOMINF_blocked = 1 << 4;
export const XEN_DOMINF_running = 1 << 5;
export const XEN_DOMINF_debugged = 1 << 6;
export const XEN_DOMINF_xs_domain = 1 << 7;
export const XEN_DOMINF_hap = 1 << 8;
/** The guest's SHUTDOWN_* code sits in flags bits 23:16. */
export const XEN_DOMINF_shutdownmask = 255;
export const XEN_DOMINF_shutdownshift = 16;
/** max_vcpu_id of a domain without vCPUs. */
export const XEN_INVALID_MAX_VCPU_ID = 0xFFFFFFFF;

// ---- Other sub-op values ----------------------------------------------------------------------

export const XEN_SCHEDULER_CREDIT = 5;
export const XEN_SCHEDULER_CREDIT2 = 6;
export const XEN_SCHEDULER_ARINC653 = 7;
export const XEN_SCHEDULER_RTDS = 8;
export const XEN_SCHEDULER_NULL = 9;
export const XEN_DOMCTL_SCHEDOP_putinfo = 0;
export const XEN_DOMCTL_SCHEDOP_getinfo = 1;
export const XEN_DOMCTL_SCHEDOP_putvcpuinfo = 2;
export const XEN_DOMCTL_SCHEDOP_getvcpuinfo = 3;
/** setvcpuaffinity / getvcpuaffinity flags: which maps (IN) to set or get. */
export const XEN_VCPUAFFINITY_HARD = 1 << 0;
export const XEN_VCPUAFFINITY_SOFT = 1 << 1;
export const XEN_VCPUAFFINITY_FORCE = 1 << 2;

/** getpageframeinfo3 page types (public/domctl.h), in bits 28-31 of each answer. */
export const XEN_DOMCTL_PFINFO_LTAB_SHIFT = 28;
export const XEN_DOMCTL_PFINFO_NOTAB = 0x0 << 28;
export const XEN_DOMCTL_PFINFO_L1TAB = 0x1 << 28;
export const XEN_DOMCTL_PFINFO_L2TAB = 0x2 << 28;
export const XEN_DOMCTL_PFINFO_L3TAB = 0x3 << 28;
export const XEN_DOMCTL_PFINFO_L4TAB = 0x4 << 28;
export const XEN_DOMCTL_PFINFO_LTABTYPE_MASK = 0x7 << 28;
export const XEN_DOMCTL_PFINFO_LPINTAB = 0x8 << 28;
/** A broken page (no contents to save). */
export const XEN_DOMCTL_PFINFO_BROKEN = 0xd << 28;
/** Allocate only (no contents). */
export const XEN_DOMCTL_PFINFO_XALLOC = 0xe << 28;
/** An invalid page: not the domain's. */
export const XEN_DOMCTL_PFINFO_XTAB = 0xf << 28;
export const XEN_DOMCTL_PFINFO_LTAB_MASK = 0xf << 28;
/** Most frames one getpageframeinfo3 call answers (more is -E2BIG). */
export const XEN_DOMCTL_PFINFO_MAX = 1024;

export const XEN_DOMCTL_SENDTRIGGER_NMI = 0;
export const XEN_DOMCTL_SENDTRIGGER_RESET = 1;
export const XEN_DOMCTL_SENDTRIGGER_INIT = 2;
export const XEN_DOMCTL_SENDTRIGGER_POWER = 3;
export const XEN_DOMCTL_SENDTRIGGER_SLEEP = 4;

// ---- Payloads (our stable TypeScript shapes) -----------------------------------------------------

export interface xen_domctl_createdomain {
  ssidref: number;
  /** 16-byte UUID. */
  handle: Uint8Array;
  /** XEN_DOMCTL_CDF_*. */
  flags: number;
  max_vcpus: number;
  max_evtchn_port: number;
  /** < 0: the hypervisor's default. */
  max_grant_frames: number;
  max_maptrack_frames: number;
}

export interface xen_domctl_getdomaininfo {
  domain: DomId;
  /** XEN_DOMINF_* | shutdown code << XEN_DOMINF_shutdownshift. */
  flags: number;
  tot_pages: number;
  max_pages: number;
  outstanding_pages: number;
  shr_pages: number;
  paged_pages: number;
  /** Frame of the shared_info page (GMFN). */
  shared_info_frame: Mfn;
  /** ns of CPU time consumed. */
  cpu_time: bigint;
  nr_online_vcpus: number;
  max_vcpu_id: number;
  ssidref: number;
  handle: Uint8Array;
  cpupool: number;
}

export interface xen_domctl_max_mem { max_memkb: number }
export interface xen_domctl_max_vcpus { max: number }
export interface xen_domctl_vcpucontext {
  vcpu: VcpuId;
  /** A vcpu_guest_context laid out per arch_x86_32.ts (2800 bytes); OUT for getvcpucontext. */
  ctxt: Uint8Array;
}
export interface xen_domctl_getvcpuinfo {
  vcpu: VcpuId;
  online: boolean;
  blocked: boolean;
  running: boolean;
  cpu_time: bigint;
  /** Physical CPU it currently runs on. */
  cpu: number;
}
export interface xen_domctl_vcpuaffinity { vcpu: VcpuId; cpumap_hard: Uint8Array; cpumap_soft: Uint8Array }
export interface xen_domctl_sched_credit { weight: number; cap: number }
export interface xen_domctl_scheduler_op { sched_id: number; cmd: number; credit: xen_domctl_sched_credit }
export interface xen_domctl_setdomainhandle { handle: Uint8Array }
export interface xen_domctl_setdebugging { enable: boolean }
export interface xen_domctl_irq_permission { pirq: number; allow_access: boolean }
export interface xen_domctl_iomem_permission { first_mfn: Mfn; nr_mfns: number; allow_access: boolean }
export interface xen_domctl_ioport_permission { first_port: number; nr_ports: number; allow_access: boolean }
/** The guest frame of the hypercall page (GMFN: MFN for PV). */
export interface xen_domctl_hypercall_init { gmfn: Gfn }
export interface xen_domctl_settimeoffset { time_offset_seconds: bigint }
export interface xen_domctl_sendtrigger { trigger: number; vcpu: VcpuId }
export interface xen_domctl_subscribe { port: number }
export interface xen_domctl_hvmcontext { buffer: Uint8Array }
export interface xen_domctl_address_size { size: number }
export interface xen_domctl_set_target { target: DomId }
export interface xen_domctl_set_virq_handler { virq: number }
export interface xen_domctl_memory_mapping { first_gfn: Gfn; first_mfn: Mfn; nr_mfns: number; add_mapping: boolean }
export interface xen_domctl_ioport_mapping { first_gport: number; first_mport: number; nr_ports: number; add_mapping: boolean }

/** A domctl: command, target domain, payload. The payload type follows the command. */
export type XenDomctl =
  | { cmd: typeof XEN_DOMCTL_createdomain; domain: DomId; u: xen_domctl_createdomain }
  | { cmd: typeof XEN_DOMCTL_destroydomain | typeof XEN_DOMCTL_pausedomain | typeof XEN_DOMCTL_unpausedomain | typeof XEN_DOMCTL_resumedomain | typeof XEN_DOMCTL_soft_reset; domain: DomId }
  | { cmd: typeof XEN_DOMCTL_getdomaininfo; domain: DomId }
  | { cmd: typeof XEN_DOMCTL_max_mem; domain: DomId; u: xen_domctl_max_mem }
  | { cmd: typeof XEN_DOMCTL_max_vcpus; domain: DomId; u: xen_domctl_max_vcpus }
  | { cmd: typeof XEN_DOMCTL_setvcpucontext | typeof XEN_DOMCTL_getvcpucontext; domain: DomId; u: xen_domctl_vcpucontext }
  | { cmd: typeof XEN_DOMCTL_getvcpuinfo; domain: DomId; u: { vcpu: VcpuId } }
  | { cmd: typeof XEN_DOMCTL_setvcpuaffinity | typeof XEN_DOMCTL_getvcpuaffinity; domain: DomId; u: xen_domctl_vcpuaffinity }
  | { cmd: typeof XEN_DOMCTL_scheduler_op; domain: DomId; u: xen_domctl_scheduler_op }
  | { cmd: typeof XEN_DOMCTL_setdomainhandle; domain: DomId; u: xen_domctl_setdomainhandle }
  | { cmd: typeof XEN_DOMCTL_setdebugging; domain: DomId; u: xen_domctl_setdebugging }
  | { cmd: typeof XEN_DOMCTL_irq_permission; domain: DomId; u: xen_domctl_irq_permission }
  | { cmd: typeof XEN_DOMCTL_iomem_permission; domain: DomId; u: xen_domctl_iomem_permission }
  | { cmd: typeof XEN_DOMCTL_ioport_permission; domain: DomId; u: xen_domctl_ioport_permission }
  | { cmd: typeof XEN_DOMCTL_hypercall_init; domain: DomId; u: xen_domctl_hypercall_init }
  | { cmd: typeof XEN_DOMCTL_settimeoffset; domain: DomId; u: xen_domctl_settimeoffset }
  | { cmd: typeof XEN_DOMCTL_sendtrigger; domain: DomId; u: xen_domctl_sendtrigger }
  | { cmd: typeof XEN_DOMCTL_subscribe; domain: DomId; u: xen_domctl_subscribe }
  | { cmd: typeof XEN_DOMCTL_gethvmcontext | typeof XEN_DOMCTL_sethvmcontext; domain: DomId; u: xen_domctl_hvmcontext }
  | { cmd: typeof XEN_DOMCTL_set_address_size | typeof XEN_DOMCTL_get_address_size; domain: DomId; u: xen_domctl_address_size }
  | { cmd: typeof XEN_DOMCTL_set_target; domain: DomId; u: xen_domctl_set_target }
  | { cmd: typeof XEN_DOMCTL_set_virq_handler; domain: DomId; u: xen_domctl_set_virq_handler }
  | { cmd: typeof XEN_DOMCTL_memory_mapping; domain: DomId; u: xen_domctl_memory_mapping }
  | { cmd: typeof XEN_DOMCTL_ioport_mapping; domain: DomId; u: xen_domctl_ioport_mapping };

/** The shutdown code carried in getdomaininfo flags. */
export const dominfShutdownCode = (flags: number): number => (flags >>> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
