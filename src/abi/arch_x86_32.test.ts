import { describe, expect, it } from 'vitest';
import {
  FLAT_KERNEL_CS, FLAT_KERNEL_DS, FLAT_USER_CS, FLAT_USER_DS, FIRST_RESERVED_GDT_ENTRY, HYPERVISOR_L2_FIRST_SLOT_PAE,
  HYPERVISOR_VIRT_START, MACH2PHYS_NR_ENTRIES, tiGetDpl, tiGetIf, xen_cr3_to_pfn, xen_pfn_to_cr3,
} from './arch_x86_32.ts';

describe('arch_x86_32', () => {
  it('flat selectors are GDT entries 7171-7174 of the reserved area with RPL 1/3', () => {
    expect(FLAT_KERNEL_CS >> 3).toBe(FIRST_RESERVED_GDT_ENTRY + 3);
    expect(FLAT_KERNEL_DS >> 3).toBe(FIRST_RESERVED_GDT_ENTRY + 4);
    expect(FLAT_USER_CS >> 3).toBe(FIRST_RESERVED_GDT_ENTRY + 5);
    expect(FLAT_USER_DS >> 3).toBe(FIRST_RESERVED_GDT_ENTRY + 6);
    expect([FLAT_KERNEL_CS & 3, FLAT_USER_CS & 3]).toEqual([1, 3]);
  });

  it('the hypervisor hole starts at L2 slot 428 of L3 slot 3; the M2P has 4M entries', () => {
    expect((HYPERVISOR_VIRT_START / 0x200000) % 512).toBe(HYPERVISOR_L2_FIRST_SLOT_PAE);
    expect(Math.floor(HYPERVISOR_VIRT_START / 0x40000000)).toBe(3);
    expect(MACH2PHYS_NR_ENTRIES).toBe(0x400000);
  });

  it('xen_pfn_to_cr3 is a 32-bit rotate; xen_cr3_to_pfn inverts it', () => {
    expect(xen_pfn_to_cr3(0x12345)).toBe(0x12345000);
    // A frame above 4 GiB: its top 12 bits land in CR3 bits 11:0.
    expect(xen_pfn_to_cr3(0x123456)).toBe(0x23456001);
    for (const pfn of [0, 1, 0xfffff, 0x100000, 0xabcdef12, 0xffffffff]) expect(xen_cr3_to_pfn(xen_pfn_to_cr3(pfn))).toBe(pfn >>> 0);
  });

  it('trap_info flags: DPL in bits 1:0, IF in bit 2', () => {
    expect(tiGetDpl(0b111)).toBe(3);
    expect(tiGetIf(0b100)).toBe(4);
    expect(tiGetIf(0b011)).toBe(0);
  });
});
