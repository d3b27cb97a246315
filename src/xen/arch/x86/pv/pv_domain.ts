/**
 * The PV part of a domain: the hypervisor frames that make its vCPUs' address spaces work.
 *
 * Xen's part of every PV address space is the top of the L2 under L3 slot 3 (slots 428..511,
 * VA 0xF5800000 and up), written into each PGT_pae_xen_l2 table when it is validated:
 *   slots 428..   the read-only M2P (shared by all domains)
 *   slot 511      this domain's per-domain area (PERDOMAIN_VIRT_START, 2 MiB): per vCPU
 *                 32 pages, the GDT (16 pages: 14 guest-frame shadows, Xen's reserved page
 *                 with the flat selectors, one empty) then the LDT shadow (16 pages).
 *
 * The hardware runs a vCPU with CR3 at its own PDPT (32 bytes in `pdptFrame`): the guest's
 * L3 is validated and reference-counted as Xen does, but a PAE CPU caches only its four
 * entries in PDPTE registers and treats RW/US/A/D there as reserved; the PDPT copy carries
 * P, PWT, PCD, the available bits and the frame, and is rewritten whenever the guest's L3
 * or base pointer changes (a 64-bit Xen gets the same effect from its own L4).
 *
 * Invariants:
 *  - perdomainL1 and pdptFrame are DOMID_XEN frames owned by this domain's lifetime.
 *  - Every present PTE in perdomainL1 is read-only and supervisor-only, so nothing the
 *    guest does can write a descriptor table behind the validation.
 *  - xenSlots caches the 84 entries (lo, hi) written into each Xen L2.
 */
import { HYPERVISOR_L2_FIRST_SLOT_PAE } from '../../../../abi/arch_x86_32.ts';

/** VA of the per-domain area (the last 2 MiB of the address space, above the compat M2P). */
export const PERDOMAIN_VIRT_START = 0xffe00000;
/** Per-vCPU stride in the per-domain area: 16 GDT pages + 16 LDT pages. */
export const PERDOMAIN_VCPU_STRIDE = 0x20000;
/** The per-domain area has room for this many vCPUs. */
export const PV_MAX_VCPUS = 16;
/** Xen L2 slots written into every PGT_pae_xen_l2 table. */
export const XEN_L2_SLOTS = 512 - HYPERVISOR_L2_FIRST_SLOT_PAE;

export function gdtVa(vcpuId: number): number {
  return PERDOMAIN_VIRT_START + vcpuId * PERDOMAIN_VCPU_STRIDE;
}

export function ldtVa(vcpuId: number): number {
  return gdtVa(vcpuId) + 0x10000;
}

export class PvDomain {
  /** L1 table mapping the per-domain area. */
  perdomainL1 = 0;
  /** Frame holding every vCPU's 32-byte PDPT (vCPU i at offset i * 32). */
  pdptFrame = 0;
  readonly xenSlots = new Int32Array(XEN_L2_SLOTS * 2);
  /** The kernel declared (or the builder set) extended-CR3 PAE mode. */
  paeExtendedCr3 = true;
  /** Forced-emulation CPUID prefix accepted (Xen's pv_cpuid_emulation / "pv-emul-cpuid" policy). */
  forcedEmulation = false;
  /** The domain's virtual PCI CONFIG_ADDRESS (port 0xcf8, 32-bit accesses; arch.pci_cf8). */
  pciCf8 = 0;
}
