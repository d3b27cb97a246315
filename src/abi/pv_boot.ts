/**
 * The PV domain builder's contract with a guest kernel (libxc xc_dom_x86 / libxenguest
 * xg_dom_x86; no Xen header — TypeScript only): the layout of the boot-time virtual region
 * and the initial vCPU state a 32-bit PAE PV kernel may rely on.
 *
 * Boot region, from VIRT_BASE, each object page aligned, mapped 1:1 onto the first PFNs:
 *   kernel image | initrd | p2m list (nr_pages × 4) | start_info (ESI) | xenstore page |
 *   console page | page tables (L3, L2s, L1s; mapped read-only) | boot stack (ESP = its end)
 * The region ends on a 4 MiB boundary with at least 512 KiB mapped and unused after the
 * stack (the builder grows it by 4 MiB and recounts page tables until that holds).
 *
 * Source: shared/abi/hypercalls-x86_32.md §9.3-9.4.
 */
import { FLAT_KERNEL_CS, FLAT_KERNEL_DS, VGCF_in_kernel, VGCF_online } from './arch_x86_32.ts';

/** The mapped boot region ends on this boundary. */
export const PV_BOOT_REGION_ALIGN = 0x400000;
/** Mapped, unused pages required after the boot stack (512 KiB). */
export const PV_BOOT_SLACK_PAGES = 128;
/** Pages of boot stack. */
export const PV_BOOT_STACK_PAGES = 1;
/** EFLAGS at entry (IF; IOPL 0). */
export const PV_BOOT_EFLAGS = 0x200;
/** vcpu_guest_context.flags of vCPU 0 at entry. */
export const PV_BOOT_VCPU_FLAGS = VGCF_in_kernel | VGCF_online;
/** CS at entry. */
export const PV_BOOT_CS = FLAT_KERNEL_CS;
/** DS, ES, FS, GS, SS at entry. */
export const PV_BOOT_DS = FLAT_KERNEL_DS;
/** PTE bits the builder writes: L1 P|RW|A; page-table pages P|A (read-only). */
export const PV_BOOT_L1_PROT = 0x023;
export const PV_BOOT_L1_PROT_PAGETABLE = 0x021;
/** L2 entries: P|RW|A|D|US. */
export const PV_BOOT_L2_PROT = 0x067;
/** PAE L3 entries: P only on 32-bit Xen 3.x; current libxenguest writes 0x067 (accept both). */
export const PV_BOOT_L3_PROT = 0x001;
export const PV_BOOT_L3_PROT_COMPAT = 0x067;
/** Legacy PAE L3 allowed bits on 3.x: Present plus available bits 9-11. */
export const PV_L3_PAE_ALLOWED_XEN3 = 0xE01;
