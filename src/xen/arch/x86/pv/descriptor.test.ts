import { describe, expect, it } from 'vitest';
import { checkDescriptor, fixedDesc } from './descriptor.ts';

/** A code/data descriptor: base 0, limit, access byte, flags nibble. */
function seg(limit: number, access: number, flags: number, base = 0): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = (base & 0xff000000) | ((flags & 0xf) << 20) | (limit & 0xf0000) | (access << 8) | ((base >>> 16) & 0xff);
  return [lo | 0, hi | 0];
}

describe('check_descriptor (32-bit PV guest)', () => {
  it('accepts not-present descriptors unchanged', () => {
    expect(checkDescriptor(0x12345678, 0x00007f00)).toBe(true);
    expect(Array.from(fixedDesc)).toEqual([0x12345678, 0x00007f00]);
  });

  it('raises DPL 0 to DPL 1 and keeps ring-1/3 descriptors', () => {
    const [lo, hi] = seg(0xfffff, 0x9a, 0xc); // ring-0 code
    expect(checkDescriptor(lo, hi)).toBe(true);
    expect((fixedDesc[1]! >>> 13) & 3).toBe(1);
    const [lo3, hi3] = seg(0xfffff, 0xf2, 0xc);
    expect(checkDescriptor(lo3, hi3)).toBe(true);
    expect(fixedDesc[1]).toBe(hi3);
  });

  it('widens a base-0 segment reaching into the hypervisor hole to 4 GiB', () => {
    const [lo, hi] = seg(0xf67ff, 0xb2, 0xc); // limit 0xF67FFFFF (old PAE kernels)
    expect(checkDescriptor(lo, hi)).toBe(true);
    expect(fixedDesc[0]! & 0xffff).toBe(0xffff);
    expect(fixedDesc[1]! & 0xf0000).toBe(0xf0000);
    const [lo2, hi2] = seg(0x100, 0xb2, 0xc, 0x10000); // based elsewhere: unchanged
    expect(checkDescriptor(lo2, hi2)).toBe(true);
    expect(fixedDesc[0]).toBe(lo2);
  });

  it('refuses 64-bit code, TSS, LDT, interrupt/trap/task gates', () => {
    const [lo, hi] = seg(0xfffff, 0xba, 0xa); // L bit set
    expect(checkDescriptor(lo, hi)).toBe(false);
    for (const type of [0x89, 0x82, 0x8e, 0x8f, 0x85, 0x84]) expect(checkDescriptor(0, type << 8), `type ${type}`).toBe(false);
  });

  it('stores a call gate with DPL 0 and its DPL in the target selector RPL', () => {
    const lo = (0xe019 << 16) | 0x1234, hi = 0x56780000 | (0xec << 8); // DPL 3 call gate
    expect(checkDescriptor(lo, hi)).toBe(true);
    expect((fixedDesc[1]! >>> 13) & 3).toBe(0);
    expect(fixedDesc[0]! >>> 16).toBe(0xe01b);
    // A gate into Xen's reserved GDT area (other than the flat ring-1 CS) is refused.
    expect(checkDescriptor((0xe008 << 16) | 0x1234, hi)).toBe(false);
    // Parameter count bits 5-7 must be clear.
    expect(checkDescriptor(lo, hi | 0xe0)).toBe(false);
  });
});
