/**
 * Xen's core public header (xen.h; C header: xen/xen.h): hypercall numbers, VIRQs,
 * mmu_update / mmuext_op, update_va_mapping flags, VM assists, reserved domain ids,
 * console_io, multicall entries, the shared_info / vcpu_info pages and start_info.
 *
 * Invariants:
 * - Hypercall numbers never change between Xen versions; old names (sched_op_compat,
 *   event_channel_op_compat, physdev_op_compat, dom0_op, acm_op) are aliases of the same
 *   numbers and the hypervisor must accept all of them (a 3.0 guest still uses 6/16/19).
 * - We present the Xen 4.x shared_info (2344 bytes) to 32-bit guests; the 3.x one (2584)
 *   only differs in the arch tail, which guests never index past.
 * - Numbers and layouts come from shared/abi/hypercalls-x86_32.md and event-channels.md.
 */
import {
  arch_shared_info, arch_shared_info_xen3, arch_vcpu_info, xen_pfn_t, xen_ulong_t, XEN_LEGACY_MAX_VCPUS,
} from './arch_x86_32.ts';
import { alias, arr, arrayAlias, char, f, handle, i8, struct, u16, u32, u64, u8, uint, ulong, union } from './layout.ts';

export * from './gen/xen.ts';

// ---- Interface version -------------------------------------------------------------------

/**
 * The interface these headers describe (Xen 4.17's xen-compat.h value). They always declare
 * the latest names; a guest's __XEN_INTERFACE_VERSION__ is not consulted.
 */
export const __XEN_LATEST_INTERFACE_VERSION__ = 0x00040e00;

// ---- Hypercall numbers (EAX; arguments in EBX, ECX, EDX, ESI, EDI) --------------------

export const __HYPERVISOR_set_trap_table = 0;
export const __HYPERVISOR_mmu_update = 1;
export const __HYPERVISOR_set_gdt = 2;
export const __HYPERVISOR_stack_switch = 3;
export const __HYPERVISOR_set_callbacks = 4;
export const __HYPERVISOR_fpu_taskswitch = 5;
/** Old scheduler op taking a value argument (cmds 0-2 only). */
export const __HYPERVISOR_sched_op_compat = 6;
export const __HYPERVISOR_platform_op = 7;
export const __HYPERVISOR_set_debugreg = 8;
export const __HYPERVISOR_get_debugreg = 9;
export const __HYPERVISOR_update_descriptor = 10;
/** 11 is unused (was set_fast_trap) and returns -ENOSYS. */
export const __HYPERVISOR_memory_op = 12;
export const __HYPERVISOR_multicall = 13;
export const __HYPERVISOR_update_va_mapping = 14;
export const __HYPERVISOR_set_timer_op = 15;
/** Old event-channel op: one pointer to struct evtchn_op {cmd; union}. */
export const __HYPERVISOR_event_channel_op_compat = 16;
export const __HYPERVISOR_xen_version = 17;
export const __HYPERVISOR_console_io = 18;
/** Old physdev op: one pointer to struct physdev_op {cmd; union}. */
export const __HYPERVISOR_physdev_op_compat = 19;
export const __HYPERVISOR_grant_table_op = 20;
export const __HYPERVISOR_vm_assist = 21;
export const __HYPERVISOR_update_va_mapping_otherdomain = 22;
/** Return from an exception/event frame; reached by `jmp hypercall_page + 23 * 32`. */
export const __HYPERVISOR_iret = 23;
export const __HYPERVISOR_vcpu_op = 24;
/** 64-bit guests only. */
export const __HYPERVISOR_set_segment_base = 25;
export const __HYPERVISOR_mmuext_op = 26;
export const __HYPERVISOR_xsm_op = 27;
export const __HYPERVISOR_nmi_op = 28;
export const __HYPERVISOR_sched_op = 29;
export const __HYPERVISOR_callback_op = 30;
export const __HYPERVISOR_xenoprof_op = 31;
export const __HYPERVISOR_event_channel_op = 32;
export const __HYPERVISOR_physdev_op = 33;
export const __HYPERVISOR_hvm_op = 34;
export const __HYPERVISOR_sysctl = 35;
export const __HYPERVISOR_domctl = 36;
export const __HYPERVISOR_kexec_op = 37;
export const __HYPERVISOR_tmem_op = 38;
export const __HYPERVISOR_argo_op = 39;
export const __HYPERVISOR_xenpmu_op = 40;
export const __HYPERVISOR_dm_op = 41;
export const __HYPERVISOR_hypfs_op = 42;
export const __HYPERVISOR_arch_0 = 48;
export const __HYPERVISOR_arch_1 = 49;
export const __HYPERVISOR_arch_2 = 50;
export const __HYPERVISOR_arch_3 = 51;
export const __HYPERVISOR_arch_4 = 52;
export const __HYPERVISOR_arch_5 = 53;
export const __HYPERVISOR_arch_6 = 54;
export const __HYPERVISOR_arch_7 = 55;
/** x86: machine-check architecture (arch_0). */
export const __HYPERVISOR_mca = __HYPERVISOR_arch_0;
/** x86: paging domctl continuation (arch_1). */
export const __HYPERVISOR_paging_domctl_cont = __HYPERVISOR_arch_1;
/** Table size: EAX >= this (or an unassigned number) returns -ENOSYS. */
export const NR_hypercalls = 64;

/** Xen 3.0.2's name for sched_op (29). */
export const __HYPERVISOR_sched_op_new = __HYPERVISOR_sched_op;
/** Pre-3.0.3 name of platform_op. */
export const __HYPERVISOR_dom0_op = __HYPERVISOR_platform_op;
/** Pre-3.1 name of xsm_op. */
export const __HYPERVISOR_acm_op = __HYPERVISOR_xsm_op;

// ---- Virtual IRQs ----------------------------------------------------------------------

/** Per-vCPU: timer (set_timer_op / periodic / singleshot) expired. */
export const VIRQ_TIMER = 0;
/** Per-vCPU: request to dump debug info. */
export const VIRQ_DEBUG = 1;
/** Global: bytes arrived on Xen's emergency console (dom0). */
export const VIRQ_CONSOLE = 2;
/** Global: a domain shut down, crashed or died (xenstored fires @releaseDomain). */
export const VIRQ_DOM_EXC = 3;
/** Global: trace buffer has records. */
export const VIRQ_TBUF = 4;
/** Global: a domain paused for debugging. */
export const VIRQ_DEBUGGER = 6;
/** Per-vCPU: xenoprof sample available. */
export const VIRQ_XENOPROF = 7;
/** Global: bytes arrived on the console ring (3.1+). */
export const VIRQ_CON_RING = 8;
/** Global: physical CPU state changed. */
export const VIRQ_PCPU_STATE = 9;
/** Global: memory event. */
export const VIRQ_MEM_EVENT = 10;
/** Per-domain: Argo. */
export const VIRQ_ARGO = 11;
/** Global: Xen is low on heap. */
export const VIRQ_ENOMEM = 12;
/** Per-vCPU: PMU interrupt. */
export const VIRQ_XENPMU = 13;
export const VIRQ_ARCH_0 = 16;
export const VIRQ_ARCH_1 = 17;
export const VIRQ_ARCH_2 = 18;
export const VIRQ_ARCH_3 = 19;
export const VIRQ_ARCH_4 = 20;
export const VIRQ_ARCH_5 = 21;
export const VIRQ_ARCH_6 = 22;
export const VIRQ_ARCH_7 = 23;
/** x86 machine check (global, dom0). */
export const VIRQ_MCA = VIRQ_ARCH_0;
export const NR_VIRQS = 24;

// ---- mmu_update ------------------------------------------------------------------------

/** ptr & 3 == 0: ptr is the machine address of a PTE; Xen validates and writes val. */
export const MMU_NORMAL_PT_UPDATE = 0;
/** ptr & 3 == 1: M2P[ptr >> 12] = val (a PFN). */
export const MMU_MACHPHYS_UPDATE = 1;
/** ptr & 3 == 2: as NORMAL, but OR the PTE's current Accessed/Dirty bits into val (3.3+). */
export const MMU_PT_UPDATE_PRESERVE_AD = 2;
/** ptr & 3 == 3: later Xen only; -ENOSYS on 3.x. */
export const MMU_PT_UPDATE_NO_TRANSLATE = 3;

export const mmu_update = struct('mmu_update', [
  f('ptr', u64, 'machine address of the PTE (or MFN << 12) | MMU_* command in bits 1:0', 'IN'),
  f('val', u64, 'new PTE contents (machine address form) or PFN for MMU_MACHPHYS_UPDATE', 'IN'),
], { size: 16, doc: 'One request of HYPERVISOR_mmu_update.' });

// ---- mmuext_op -------------------------------------------------------------------------

export const MMUEXT_PIN_L1_TABLE = 0;
export const MMUEXT_PIN_L2_TABLE = 1;
/** Top level of a PAE guest's tables. */
export const MMUEXT_PIN_L3_TABLE = 2;
/** 64-bit guests only. */
export const MMUEXT_PIN_L4_TABLE = 3;
export const MMUEXT_UNPIN_TABLE = 4;
/** Load a new CR3 (MFN of the L3 for PAE). */
export const MMUEXT_NEW_BASEPTR = 5;
export const MMUEXT_TLB_FLUSH_LOCAL = 6;
export const MMUEXT_INVLPG_LOCAL = 7;
export const MMUEXT_TLB_FLUSH_MULTI = 8;
export const MMUEXT_INVLPG_MULTI = 9;
export const MMUEXT_TLB_FLUSH_ALL = 10;
export const MMUEXT_INVLPG_ALL = 11;
export const MMUEXT_FLUSH_CACHE = 12;
export const MMUEXT_SET_LDT = 13;
/** 64-bit guests only. */
export const MMUEXT_NEW_USER_BASEPTR = 15;
/** Zero a frame (3.4+). */
export const MMUEXT_CLEAR_PAGE = 16;
/** Copy src_mfn to mfn (3.4+). */
export const MMUEXT_COPY_PAGE = 17;
export const MMUEXT_FLUSH_CACHE_GLOBAL = 18;
export const MMUEXT_MARK_SUPER = 19;
export const MMUEXT_UNMARK_SUPER = 20;

export const mmuext_op = struct('mmuext_op', [
  f('cmd', uint, 'MMUEXT_*', 'IN'),
  f('arg1', union(null, [
    f('mfn', xen_pfn_t, 'PIN_*, UNPIN, NEW_BASEPTR, NEW_USER_BASEPTR, CLEAR_PAGE, COPY_PAGE (dest), [UN]MARK_SUPER'),
    f('linear_addr', ulong, 'INVLPG_*, SET_LDT (page aligned)'),
  ]), undefined, 'IN'),
  f('arg2', union(null, [
    f('nr_ents', uint, 'SET_LDT (<= 8192)'),
    f('vcpumask', handle('const_void'), 'TLB_FLUSH_MULTI, INVLPG_MULTI: bitmap of vCPUs'),
    f('src_mfn', xen_pfn_t, 'COPY_PAGE'),
  ]), undefined, 'IN'),
], { size: 12, doc: 'One request of HYPERVISOR_mmuext_op.' });

// ---- update_va_mapping flags -----------------------------------------------------------

export const UVMF_NONE = 0;
export const UVMF_TLB_FLUSH = 1;
export const UVMF_INVLPG = 2;
export const UVMF_FLUSHTYPE_MASK = 3;
/** Flush on the vCPUs in the bitmap whose (4-aligned) address is OR-ed into the flags. */
export const UVMF_MULTI = 0;
export const UVMF_LOCAL = 0;
export const UVMF_ALL = 4;

// ---- vm_assist ---------------------------------------------------------------------------

export const VMASST_CMD_enable = 0;
export const VMASST_CMD_disable = 1;
export const VMASST_TYPE_4gb_segments = 0;
export const VMASST_TYPE_4gb_segments_notify = 1;
export const VMASST_TYPE_writable_pagetables = 2;
export const VMASST_TYPE_pae_extended_cr3 = 3;
/** 4.7+: iret and bounce frames carry the virtual IOPL. */
export const VMASST_TYPE_architectural_iopl = 4;
/** 4.8+: XEN_RUNSTATE_UPDATE is set while the runstate area is updated. */
export const VMASST_TYPE_runstate_update_flag = 5;
/** 64-bit guests only. */
export const VMASST_TYPE_m2p_strict = 32;

// ---- Reserved domain ids -----------------------------------------------------------------

/** `domid_t`: a domain id (16 bits). */
export const domid_t = alias('domid_t', u16);
export const DOMID_FIRST_RESERVED = 0x7FF0;
/** "The calling domain". */
export const DOMID_SELF = 0x7FF0;
/** mmu_update foreigndom: only I/O (non-RAM) mappings. */
export const DOMID_IO = 0x7FF1;
/** Privileged: map Xen heap pages. */
export const DOMID_XEN = 0x7FF2;
/** 4.x: owner of shared (copy-on-write) pages. */
export const DOMID_COW = 0x7FF3;
/** Invalid/unknown domain: 0x7FF4 in Xen 4.x (0x7FFF in 3.x). */
export const DOMID_INVALID = 0x7FF4;
/** 4.x: wildcard. */
export const DOMID_ANY = 0x7FF5;
/** 4.x: the idle domain. */
export const DOMID_IDLE = 0x7FFF;
export const DOMID_MASK = 0x7FFF;

/** `xen_domain_handle_t`: a domain's 16-byte UUID. */
export const xen_domain_handle_t = arrayAlias('xen_domain_handle_t', u8, 16);

// ---- console_io ---------------------------------------------------------------------------

export const CONSOLEIO_write = 0;
export const CONSOLEIO_read = 1;

// ---- multicall -------------------------------------------------------------------------

export const multicall_entry = struct('multicall_entry', [
  f('op', xen_ulong_t, 'hypercall number', 'IN'),
  f('result', xen_ulong_t, 'return value', 'OUT'),
  arr('args', xen_ulong_t, 6, 'EBX..EDI (5 used); 64-bit arguments take two slots, low word first', 'IN'),
], { size: 32, doc: 'One entry of HYPERVISOR_multicall.' });

// ---- Event channel bitmaps -----------------------------------------------------------------

/** Ports of the 2-level event ABI: sizeof(xen_ulong_t)^2 * 64 = 1024 on x86_32. */
export const EVTCHN_2L_NR_CHANNELS = 1024;
/** Xen 3.x name of EVTCHN_2L_NR_CHANNELS. */
export const NR_EVENT_CHANNELS = EVTCHN_2L_NR_CHANNELS;

// ---- Time ---------------------------------------------------------------------------------

/** vcpu_time_info.flags bit 0 (4.7+): the TSC is stable across vCPUs. */
export const XEN_PVCLOCK_TSC_STABLE_BIT = 1 << 0;
/** vcpu_time_info.flags bit 1: the guest was stopped. */
export const XEN_PVCLOCK_GUEST_STOPPED = 1 << 1;

export const vcpu_time_info = struct('vcpu_time_info', [
  f('version', u32, 'odd while Xen updates; readers retry on odd or changed'),
  f('pad0', u32),
  f('tsc_timestamp', u64, 'TSC at the last update'),
  f('system_time', u64, 'ns since boot at tsc_timestamp'),
  f('tsc_to_system_mul', u32, '32.32 fixed-point ns per (shifted) TSC tick'),
  f('tsc_shift', i8, 'shift TSC delta left (>= 0) or right (< 0) before the multiply'),
  f('flags', u8, 'XEN_PVCLOCK_* (4.7+; padding in 3.x)'),
  arr('pad1', u8, 2),
], { size: 32, doc: 'Per-vCPU time (pvclock), written by Xen, read with the version seqlock.' });

/**
 * pvclock: ns elapsed for a TSC delta, as a guest computes it from vcpu_time_info —
 * shift the delta left by tsc_shift (right if negative), multiply by tsc_to_system_mul
 * (64x32 → 96 bits) and keep bits 95:32. now = system_time + this.
 */
export function pvclockScaleDelta(delta: bigint, tscToSystemMul: number, tscShift: number): bigint {
  let d = BigInt.asUintN(64, delta);
  d = tscShift >= 0 ? BigInt.asUintN(64, d << BigInt(tscShift)) : d >> BigInt(-tscShift);
  return (d * BigInt(tscToSystemMul >>> 0)) >> 32n;
}

/** TSC frequency (Hz) a vcpu_time_info describes: ((10^9 << 32) / mul), shifted back by tsc_shift. */
export function pvclockTscHz(tscToSystemMul: number, tscShift: number): bigint {
  const hz = (1000000000n << 32n) / BigInt(tscToSystemMul >>> 0);
  return tscShift >= 0 ? hz >> BigInt(tscShift) : hz << BigInt(-tscShift);
}

// ---- vcpu_info / shared_info ----------------------------------------------------------------

export const vcpu_info = struct('vcpu_info', [
  f('evtchn_upcall_pending', u8, 'Xen sets to 1; the guest clears it first in its upcall handler'),
  f('evtchn_upcall_mask', u8, 'guest-owned virtual IF (1 = events masked); Xen sets it when delivering an upcall'),
  f('evtchn_pending_sel', xen_ulong_t, 'bit n: word n of evtchn_pending has news; guest exchanges with 0'),
  f('arch', arch_vcpu_info),
  f('time', vcpu_time_info),
], { size: 64, doc: 'One vCPU\'s event and time state (in shared_info or registered with VCPUOP_register_vcpu_info).' });

export const shared_info = struct('shared_info', [
  arr('vcpu_info', vcpu_info, XEN_LEGACY_MAX_VCPUS, 'vCPU n at 64 * n'),
  arr('evtchn_pending', xen_ulong_t, 32, 'port p: bit p % 32 of word p / 32; Xen sets, guest clears'),
  arr('evtchn_mask', xen_ulong_t, 32, 'guest-owned; Xen only reads'),
  f('wc_version', u32, 'wall-clock seqlock (odd while updating)'),
  f('wc_sec', u32, 'UTC seconds at system time 0 (low 32 bits; high in arch.wc_sec_hi)'),
  f('wc_nsec', u32, 'nanoseconds part'),
  f('arch', arch_shared_info),
], { size: 2344, doc: 'The shared_info page (Xen 4.x layout; 3.x: shared_info_xen3, 2584 bytes). The page is 4096 bytes; guests must not depend on the struct size.' });

/** The Xen 3.x shared_info (2584 bytes), for reference. */
export const shared_info_xen3 = struct('shared_info_xen3', [
  arr('vcpu_info', vcpu_info, XEN_LEGACY_MAX_VCPUS),
  arr('evtchn_pending', xen_ulong_t, 32),
  arr('evtchn_mask', xen_ulong_t, 32),
  f('wc_version', u32),
  f('wc_sec', u32),
  f('wc_nsec', u32),
  f('arch', arch_shared_info_xen3),
], { size: 2584, typedef: null, doc: 'Xen 3.x layout of shared_info (we present the 4.x one).' });

// ---- start_info -----------------------------------------------------------------------------

/** start_info.magic of a 32-bit PAE PV guest (names the interface, not the Xen release). */
export const XEN_START_INFO_MAGIC_X86_32P = 'xen-3.0-x86_32p';
/** Obsolete non-PAE magic. */
export const XEN_START_INFO_MAGIC_X86_32 = 'xen-3.0-x86_32';
export const MAX_GUEST_CMDLINE = 1024;

/** The domain is privileged. */
export const SIF_PRIVILEGED = 1 << 0;
/** The domain is the initial domain (dom0). */
export const SIF_INITDOMAIN = 1 << 1;
/** 4.x: the module is a multiboot-style module package. */
export const SIF_MULTIBOOT_MOD = 1 << 2;
/** 4.x: mod_start is a PFN, not a VA. */
export const SIF_MOD_START_PFN = 1 << 3;
/** 4.x: the p2m is mapped for tools at a virtual address. */
export const SIF_VIRT_P2M_4TOOLS = 1 << 4;
/** dom0 power-management options. */
export const SIF_PM_MASK = 0xFF << 8;

export const start_info = struct('start_info', [
  arr('magic', char, 32, '"xen-3.0-x86_32p"'),
  f('nr_pages', ulong, 'total pages of the domain (p2m entries)'),
  f('shared_info', ulong, 'MACHINE address of the shared_info page'),
  f('flags', u32, 'SIF_*'),
  f('store_mfn', xen_pfn_t, 'MFN of the xenstore ring page'),
  f('store_evtchn', u32, 'its event channel'),
  f('console', union(null, [
    f('domU', struct(null, [
      f('mfn', xen_pfn_t, 'MFN of the console ring page'),
      f('evtchn', u32, 'its event channel'),
    ])),
    f('dom0', struct(null, [
      f('info_off', u32, 'offset of the VGA console info in this page'),
      f('info_size', u32, 'its size'),
    ])),
  ])),
  f('pt_base', ulong, 'VA of the bootstrap top-level (PAE L3) page table'),
  f('nr_pt_frames', ulong, 'number of bootstrap page-table frames'),
  f('mfn_list', ulong, 'VA of the p2m array (u32 MFN per PFN)'),
  f('mod_start', ulong, 'VA of the initrd/module (PFN if SIF_MOD_START_PFN)'),
  f('mod_len', ulong, 'module size in bytes'),
  arr('cmd_line', char, MAX_GUEST_CMDLINE, 'NUL-terminated command line'),
  f('first_p2m_pfn', ulong, 'first PFN of a separately mapped p2m (later Xen)'),
  f('nr_p2m_frames', ulong, 'its frame count'),
], { size: 1112, doc: 'The PV boot page; ESI points at it on entry. Fields up to console are refilled on resume.' });

// The word typedefs live in arch_x86_32.ts (as in Xen); re-exported for convenience.
export { xen_pfn_t, xen_ulong_t };
