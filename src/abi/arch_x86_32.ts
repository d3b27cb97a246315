/**
 * The x86_32 (PAE) architecture part of Xen's public ABI: Xen's arch-x86/xen.h and
 * arch-x86/xen-x86_32.h (C header: xen/arch-x86_32.h). Word-sized types, the hypervisor
 * hole and read-only M2P window, Xen's flat selectors, trap_info, cpu_user_regs,
 * vcpu_guest_context and the arch parts of vcpu_info / shared_info.
 *
 * Invariants:
 * - Layouts are the 32-bit PV guest's view, which is what a 64-bit Xen 4.x shows a 32-bit
 *   guest in compat mode; where 3.x and 4.x differ (arch_shared_info) we present 4.x and keep
 *   the 3.x layout beside it for reference.
 * - `unsigned long`, `xen_ulong_t` and `xen_pfn_t` are 4 bytes; `uint64_t` members are
 *   4-byte aligned (layout.ts).
 */
import { alias, arr, char, f, struct, u16, u32, u64, u8, ulong } from './layout.ts';

export * from './gen/arch_x86_32.ts';

// ---- Word types and machine constants ------------------------------------------------

/** `xen_ulong_t`: the ABI's word (4 bytes on x86_32). */
export const xen_ulong_t = alias('xen_ulong_t', ulong);
/** `xen_pfn_t`: a frame number in hypercall arguments (4 bytes on x86_32). */
export const xen_pfn_t = alias('xen_pfn_t', ulong);

/** log2 of Xen's page size. */
export const XEN_PAGE_SHIFT = 12;
/** Xen's page size in bytes. */
export const XEN_PAGE_SIZE = 4096;

/** vcpu_info slots in shared_info (vCPUs beyond this need VCPUOP_register_vcpu_info). */
export const XEN_LEGACY_MAX_VCPUS = 32;
/** Xen 3.x name of XEN_LEGACY_MAX_VCPUS. */
export const MAX_VIRT_CPUS = 32;

/** Vector of the PV hypercall trap (`int $0x82`, gate DPL 1: ring-1 kernels only). */
export const HYPERCALL_VECTOR = 0x82;
/** The hypercall trap instruction, for inline assembly. */
export const TRAP_INSTR = 'int $0x82';
/** Bytes per hypercall-page slot: hypercall N lives at hypercall_page + N * 32. */
export const HYPERCALL_PAGE_SLOT_SIZE = 32;
/** Slots in the (one) hypercall page. */
export const HYPERCALL_PAGE_SLOTS = 128;

/**
 * Stub bytes Xen writes per slot for a 32-bit PV kernel: `mov $N,%eax; int $0x82; ret`,
 * with the little-endian N at bytes 1..4. The rest of the page is 0xCC (int3).
 * @tsonly
 */
export const HYPERCALL_STUB_PV32: readonly number[] = [0xb8, 0, 0, 0, 0, 0xcd, 0x82, 0xc3];
/** Slot 23 (iret) for PV: `push %eax; mov $23,%eax; int $0x82`, no ret — guests jump here. @tsonly */
export const HYPERCALL_STUB_PV32_IRET: readonly number[] = [0x50, 0xb8, 23, 0, 0, 0, 0xcd, 0x82];
/** HVM on Intel (VMX): `mov $N,%eax; vmcall; ret`. @tsonly */
export const HYPERCALL_STUB_VMX: readonly number[] = [0xb8, 0, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3];
/** HVM on AMD (SVM): `mov $N,%eax; vmmcall; ret`. @tsonly */
export const HYPERCALL_STUB_SVM: readonly number[] = [0xb8, 0, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3];
/** HVM slot 23: `ud2` (iret is not available to HVM guests). @tsonly */
export const HYPERCALL_STUB_HVM_IRET: readonly number[] = [0x0f, 0x0b];
/** Filler of a hypercall page (int3). */
export const HYPERCALL_PAGE_FILL = 0xcc;

/** I/O port whose writes Xen prints on its console (HVM debug console). */
export const XEN_HVM_DEBUGCONS_IOPORT = 0xe9;

// ---- The hypervisor hole and the read-only M2P (PAE) ---------------------------------

/** Start of Xen's reserved virtual range for a PAE guest; the guest owns 0 .. this - 1. */
export const __HYPERVISOR_VIRT_START_PAE = 0xF5800000;
/** Start of the read-only machine-to-phys table (u32 PFN per MFN) mapped into every PAE guest. */
export const __MACH2PHYS_VIRT_START_PAE = 0xF5800000;
/** End of the read-only M2P on 32-bit Xen (16 MiB: MFNs < 0x400000). */
export const __MACH2PHYS_VIRT_END_PAE = 0xF6800000;
export const __HYPERVISOR_VIRT_START = __HYPERVISOR_VIRT_START_PAE;
export const __MACH2PHYS_VIRT_START = __MACH2PHYS_VIRT_START_PAE;
export const __MACH2PHYS_VIRT_END = __MACH2PHYS_VIRT_END_PAE;
export const HYPERVISOR_VIRT_START = __HYPERVISOR_VIRT_START;
export const MACH2PHYS_VIRT_START = __MACH2PHYS_VIRT_START;
export const MACH2PHYS_VIRT_END = __MACH2PHYS_VIRT_END;
/** Entries of the read-only M2P (4 bytes each). */
export const MACH2PHYS_NR_ENTRIES = (0xF6800000 - 0xF5800000) >> 2;
/**
 * End of the compat M2P a 64-bit Xen 4.x maps for 32-bit PV guests (what
 * XENMEM_machphys_mapping reports there as v_end); 32-bit Xen 3.x reports
 * MACH2PHYS_VIRT_END instead.
 */
export const MACH2PHYS_COMPAT_VIRT_END = 0xFFE00000;
/** Obsolete non-PAE layout (3.0 era), for reference. */
export const __HYPERVISOR_VIRT_START_NONPAE = 0xFC000000;
export const __MACH2PHYS_VIRT_START_NONPAE = 0xFC000000;
export const __MACH2PHYS_VIRT_END_NONPAE = 0xFC400000;
/** Highest MFN a 32-bit Xen's M2P covers (XENMEM_machphys_mapping max_mfn on 3.x). */
export const MACH2PHYS_MAX_MFN_X86_32 = 0x3FFFFF;
/**
 * First L2 slot Xen owns in the L2 under PAE L3 slot 3 (VA >= HYPERVISOR_VIRT_START):
 * (0xF5800000 >> 21) & 511. A guest may use slots 0..427 of that L2 only.
 */
export const HYPERVISOR_L2_FIRST_SLOT_PAE = 428;
/**
 * End of guest segments on 32-bit Xen: code/data descriptor limits are truncated to end here
 * (below Xen's own mappings); a 64-bit Xen has no such limit for 32-bit guests.
 */
export const GUEST_SEGMENT_MAX_ADDR = 0xF6800000;

// ---- Flat selectors in Xen's reserved GDT area --------------------------------------

/** First GDT page Xen reserves; guest GDTs may use pages 0..13 (7168 descriptors). */
export const FIRST_RESERVED_GDT_PAGE = 14;
export const FIRST_RESERVED_GDT_BYTE = 57344;
export const FIRST_RESERVED_GDT_ENTRY = 7168;
/** Ring-1 (guest kernel) flat code selector: GDT index 7171, RPL 1. */
export const FLAT_RING1_CS = 0xe019;
/** Ring-1 flat data/stack selector: GDT index 7172, RPL 1. */
export const FLAT_RING1_DS = 0xe021;
export const FLAT_RING1_SS = 0xe021;
/** Ring-3 (user) flat code selector: GDT index 7173, RPL 3. */
export const FLAT_RING3_CS = 0xe02b;
/** Ring-3 flat data/stack selector: GDT index 7174, RPL 3. */
export const FLAT_RING3_DS = 0xe033;
export const FLAT_RING3_SS = 0xe033;
export const FLAT_KERNEL_CS = FLAT_RING1_CS;
export const FLAT_KERNEL_DS = FLAT_RING1_DS;
export const FLAT_KERNEL_SS = FLAT_RING1_SS;
export const FLAT_USER_CS = FLAT_RING3_CS;
export const FLAT_USER_DS = FLAT_RING3_DS;
export const FLAT_USER_SS = FLAT_RING3_SS;
/**
 * Access bytes of the four flat descriptors on 32-bit Xen (P, DPL, S, type; flags G=1 D=1;
 * limit ends at MACH2PHYS_VIRT_END - 1 there, 4 GiB on a 64-bit Xen).
 */
export const FLAT_RING1_CODE_ACCESS = 0xba;
export const FLAT_RING1_DATA_ACCESS = 0xb2;
export const FLAT_RING3_CODE_ACCESS = 0xfa;
export const FLAT_RING3_DATA_ACCESS = 0xf2;
/** Xen's own ring-0 code selector (never loaded by guests). */
export const __HYPERVISOR_CS = 0xe008;
/** Xen's own ring-0 data selector. */
export const __HYPERVISOR_DS = 0xe010;

// ---- trap_info: the virtual IDT ------------------------------------------------------

/** trap_info.flags bits 1:0: the DPL allowed to raise the vector with `int n`. */
export const TI_DPL_MASK = 3;
/** trap_info.flags bit 2: mask events on entry (behave like an interrupt gate). */
export const TI_IF_FLAG = 4;

export const trap_info = struct('trap_info', [
  f('vector', u8, 'exception/interrupt vector 0-255', 'IN'),
  f('flags', u8, 'bits 1:0 DPL for `int n`; bit 2 mask events on entry', 'IN'),
  f('cs', u16, 'handler code selector (RPL 0 is changed to 1)', 'IN'),
  f('address', ulong, 'handler EIP; 0 terminates a set_trap_table array', 'IN'),
], { size: 8, doc: 'One virtual IDT entry (set_trap_table, vcpu_guest_context.trap_ctxt).' });

/** TI_GET_DPL(ti) */
export const tiGetDpl = (flags: number): number => flags & TI_DPL_MASK;
/** TI_GET_IF(ti): non-zero if events are masked on entry. */
export const tiGetIf = (flags: number): number => flags & TI_IF_FLAG;

// ---- cpu_user_regs, the guest register frame ------------------------------------------

export const cpu_user_regs = struct('cpu_user_regs', [
  f('ebx', u32), f('ecx', u32), f('edx', u32), f('esi', u32), f('edi', u32), f('ebp', u32), f('eax', u32),
  f('error_code', u16, 'private'),
  f('entry_vector', u16, 'private'),
  f('eip', u32),
  f('cs', u16),
  f('saved_upcall_mask', u8),
  f('_pad0', u8),
  f('eflags', u32, 'eflags.IF == !saved_upcall_mask'),
  f('esp', u32),
  f('ss', u16), f('_pad1', u16),
  f('es', u16), f('_pad2', u16),
  f('ds', u16), f('_pad3', u16),
  f('fs', u16), f('_pad4', u16),
  f('gs', u16), f('_pad5', u16),
], { size: 68, doc: 'x86_32 register frame (vcpu_guest_context.user_regs).' });

// ---- vcpu_guest_context (VCPUOP_initialise, the builder's initial vCPU 0 state) -------

export const _VGCF_i387_valid = 0;
export const VGCF_i387_valid = 1 << 0;
export const VGCF_I387_VALID = VGCF_i387_valid;
export const _VGCF_in_kernel = 2;
export const VGCF_in_kernel = 1 << 2;
export const VGCF_IN_KERNEL = VGCF_in_kernel;
export const _VGCF_failsafe_disables_events = 3;
export const VGCF_failsafe_disables_events = 1 << 3;
export const _VGCF_syscall_disables_events = 4;
export const VGCF_syscall_disables_events = 1 << 4;
export const _VGCF_online = 5;
export const VGCF_online = 1 << 5;
/** 64-bit guests' iret_context only; a 32-bit iret frame has no flags word. */
export const VGCF_in_syscall = 1 << 8;

export const vcpu_guest_context = struct('vcpu_guest_context', [
  f('fpu_ctxt', struct(null, [arr('x', char, 512)], { typedef: null }), 'FXSAVE image of the FPU/SSE state', 'IN/OUT'),
  f('flags', ulong, 'VGCF_*', 'IN/OUT'),
  f('user_regs', cpu_user_regs, 'user-level CPU registers', 'IN/OUT'),
  arr('trap_ctxt', trap_info, 256, 'virtual IDT', 'IN/OUT'),
  f('ldt_base', ulong, 'LDT linear address (page aligned)', 'IN/OUT'),
  f('ldt_ents', ulong, 'LDT entries (<= 8192)', 'IN/OUT'),
  arr('gdt_frames', ulong, 16, 'GDT frames (MFNs)', 'IN/OUT'),
  f('gdt_ents', ulong, 'GDT entries', 'IN/OUT'),
  f('kernel_ss', ulong, 'kernel stack segment (stack_switch)', 'IN/OUT'),
  f('kernel_sp', ulong, 'kernel stack pointer (stack_switch)', 'IN/OUT'),
  arr('ctrlreg', ulong, 8, 'CR0-7; CR3 in xen_pfn_to_cr3 form', 'IN/OUT'),
  arr('debugreg', ulong, 8, 'DR0-7', 'IN/OUT'),
  f('event_callback_cs', ulong, 'event upcall CS', 'IN/OUT'),
  f('event_callback_eip', ulong, 'event upcall EIP', 'IN/OUT'),
  f('failsafe_callback_cs', ulong, 'failsafe callback CS', 'IN/OUT'),
  f('failsafe_callback_eip', ulong, 'failsafe callback EIP', 'IN/OUT'),
  f('vm_assist', ulong, 'bitmap of enabled VMASST_TYPE_*', 'IN/OUT'),
], { size: 2800, doc: 'A PV vCPU\'s complete state (x86_32).' });

/**
 * CR3 packing for PAE frames above 4 GiB: xen_pfn_to_cr3(pfn) = (pfn << 12) | (pfn >> 20)
 * (a 32-bit rotate: the frame's top 12 bits land in CR3 bits 11:0).
 */
export const xen_pfn_to_cr3 = (pfn: number): number => ((pfn << 12) | (pfn >>> 20)) >>> 0;
/** Inverse of xen_pfn_to_cr3. */
export const xen_cr3_to_pfn = (cr3: number): number => ((cr3 >>> 12) | (cr3 << 20)) >>> 0;

// ---- arch parts of vcpu_info and shared_info -----------------------------------------

export const arch_vcpu_info = struct('arch_vcpu_info', [
  f('cr2', ulong, 'page-fault linear address, written by Xen before a #PF bounce'),
  arr('pad', ulong, 5, 'sizeof(vcpu_info) == 64'),
], { size: 24 });

/** Value of pfn_to_mfn_frame_list_list meaning "the guest's p2m is not usable". */
export const INVALID_P2M_ENTRY = 0xFFFFFFFF;

export const arch_shared_info = struct('arch_shared_info', [
  f('max_pfn', ulong, 'guest-maintained: size of its p2m'),
  f('pfn_to_mfn_frame_list_list', xen_pfn_t, 'guest-maintained: MFN of the 3-level p2m list (0 unset)'),
  f('nmi_reason', ulong, 'XEN_NMIREASON_* bits'),
  f('p2m_cr3', xen_pfn_t, '4.x: cr3 of a linear p2m (0 none)'),
  f('p2m_vaddr', ulong, '4.x: VA of the linear p2m'),
  f('p2m_generation', ulong, '4.x: bumped around p2m updates'),
  f('wc_sec_hi', u32, '4.x: upper 32 bits of shared_info.wc_sec'),
], { size: 28, doc: 'Xen 4.x layout (what we present). Xen 3.x ended after nmi_reason with uint64_t pad[32] (268 bytes): see arch_shared_info_xen3.' });

/** The Xen 3.x arch_shared_info (268 bytes), for reference; guests must not depend on the size. */
export const arch_shared_info_xen3 = struct('arch_shared_info_xen3', [
  f('max_pfn', ulong),
  f('pfn_to_mfn_frame_list_list', xen_pfn_t),
  f('nmi_reason', ulong),
  arr('pad', u64, 32),
], { size: 268, doc: 'Xen 3.x layout of arch_shared_info (we present the 4.x one).' });

// ---- Callbacks (set_callbacks, callback_op) --------------------------------------------

export const xen_callback = struct(null, [
  f('cs', ulong, 'code selector (RPL 0 becomes 1)'),
  f('eip', ulong, 'entry point'),
], { size: 8, typedef: 'xen_callback_t', doc: 'A 32-bit callback address (CS:EIP).' });

// ---- Frames Xen builds on the guest stack ---------------------------------------------

/**
 * The CS word of a bounce frame carries the saved evtchn_upcall_mask in bits 23:16
 * (the frame's EFLAGS.IF is !saved mask).
 */
export const BOUNCE_FRAME_UPCALL_MASK_SHIFT = 16;

/**
 * Frame on the guest stack when it jumps to the iret slot (hypercall 23), lowest address
 * first: EAX pushed by the stub, then EIP, CS, EFLAGS, and ESP/SS only when returning to
 * ring 2/3 (the struct shows the full form). 32-bit frames have no flags word.
 */
export const iret_frame_x86_32 = struct('iret_frame_x86_32', [
  f('eax', u32, 'restored EAX (pushed by the stub)'),
  f('eip', u32),
  f('cs', u32, 'upper half ignored'),
  f('eflags', u32, 'IF sets evtchn_upcall_mask = !IF'),
  f('esp', u32, 'only when returning to ring 2/3'),
  f('ss', u32, 'only when returning to ring 2/3'),
], { size: 24, typedef: null });
