/**
 * Xen's CPUID leaves and hypercall-page MSR (arch-x86/cpuid.h; C header:
 * xen/arch-x86/cpuid.h): how an HVM guest discovers Xen and installs its hypercall page,
 * and how a PV guest forces Xen to emulate CPUID.
 *
 * Invariants:
 * - Xen's leaves start at 0x40000000, or 0x40000100 when Viridian is on; guests scan in
 *   steps of 0x100 for "XenVMMXenVMM" and need EAX - base >= 2.
 * - The page MSR takes a page-aligned guest-physical address whose low 12 bits (the page
 *   index) must be 0, else #GP.
 * - Source: shared/abi/hypercalls-x86_32.md §1.3-1.4.
 */
export const XEN_CPUID_FIRST_LEAF = 0x40000000;
/** Base when Viridian (Hyper-V) enlightenments are on. */
export const XEN_CPUID_VIRIDIAN_BASE = 0x40000100;
/** Distance between candidate bases when scanning. */
export const XEN_CPUID_BASE_STEP = 0x100;
/** Highest base Linux scans. */
export const XEN_CPUID_LAST_BASE = 0x4000FF00;

/** XEN_CPUID_LEAF(i): leaf i from the (default) base. */
export const XEN_CPUID_LEAF = (i: number): number => XEN_CPUID_FIRST_LEAF + i;

/** base+0 EBX/ECX/EDX: "XenV" "MMXe" "nVMM". */
export const XEN_CPUID_SIGNATURE_EBX = 0x566E6558;
export const XEN_CPUID_SIGNATURE_ECX = 0x65584D4D;
export const XEN_CPUID_SIGNATURE_EDX = 0x4D4D566E;
/** Highest Xen leaf we report in base+0 EAX (3.x: base+2). */
export const XEN_CPUID_MAX_LEAF_OFFSET = 2;

/** MSR that installs the hypercall page (base+2 EBX). */
export const XEN_HYPERCALL_MSR = 0x40000000;
/** The same MSR when Viridian is on. */
export const XEN_HYPERCALL_MSR_VIRIDIAN = 0x40000200;
/** Hypercall pages (base+2 EAX). */
export const XEN_CPUID_NR_HYPERCALL_PAGES = 1;

/** base+2 ECX bit 0 (PV only): MMU_PT_UPDATE_PRESERVE_AD is supported. */
export const _XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD = 0;
export const XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD = 1 << 0;

/** base+3 sub-leaf 0 EAX bits (4.0+). */
export const XEN_CPUID_TSC_EMULATED = 1 << 0;
export const XEN_CPUID_HOST_TSC_RELIABLE = 1 << 1;
export const XEN_CPUID_RDTSCP_INSTR_AVAIL = 1 << 2;
/** base+3 sub-leaf 0 EBX: tsc_mode. */
export const XEN_CPUID_TSC_MODE_DEFAULT = 0;
export const XEN_CPUID_TSC_MODE_ALWAYS_EMULATE = 1;
export const XEN_CPUID_TSC_MODE_NEVER_EMULATE = 2;
export const XEN_CPUID_TSC_MODE_PVRDTSCP = 3;

/** base+4 EAX (HVM, later 4.x). */
export const XEN_HVM_CPUID_APIC_ACCESS_VIRT = 1 << 0;
export const XEN_HVM_CPUID_X2APIC_VIRT = 1 << 1;
export const XEN_HVM_CPUID_IOMMU_MAPPINGS = 1 << 2;
/** EBX holds the vCPU id. */
export const XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;
/** ECX holds the domain id. */
export const XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;
export const XEN_HVM_CPUID_EXT_DEST_ID = 1 << 5;
export const XEN_HVM_CPUID_UPCALL_VECTOR = 1 << 6;

/** base+5 EBX[7:0] (PV, later 4.x): max machine address width. */
export const XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK = 0xFF;

/**
 * PV forced-emulation prefix: `ud2; .ascii "xen"` immediately before `cpuid` makes Xen
 * emulate that CPUID with the guest's policy (a bare cpuid runs natively).
 * @tsonly
 */
export const XEN_EMULATE_PREFIX_BYTES: readonly number[] = [0x0f, 0x0b, 0x78, 0x65, 0x6e];
