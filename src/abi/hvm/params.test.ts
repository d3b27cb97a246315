import { describe, expect, it } from 'vitest';
import { decodeHvmCallback, encodeHvmCallback, type HvmCallback } from './params.ts';

describe('hvm/params: HVM_PARAM_CALLBACK_IRQ encoding', () => {
  it('decodes the three types of hypercalls-x86_32.md §12.1', () => {
    expect(decodeHvmCallback(0n)).toEqual({ type: 'none' });
    expect(decodeHvmCallback(11n)).toEqual({ type: 'gsi', gsi: 11 });
    // PCI INTx: domain 0, bus 0, devfn 0x18 (00:03.0), INTA.
    expect(decodeHvmCallback((1n << 56n) | (0x18n << 8n))).toEqual({ type: 'pci_intx', domain: 0, bus: 0, devfn: 0x18, intx: 0 });
    // Linux with the vector callback: type 2, vector 0xF3.
    expect(decodeHvmCallback((2n << 56n) | 0xf3n)).toEqual({ type: 'vector', vector: 0xf3 });
  });

  it('reports an unknown type instead of throwing (hostile guest value)', () => {
    expect(decodeHvmCallback(0xff00000000000001n)).toEqual({ type: 'unknown', raw: 0xff00000000000001n });
    expect(decodeHvmCallback(-1n).type).toBe('unknown');
  });

  it('round-trips encode/decode', () => {
    const cases: HvmCallback[] = [
      { type: 'gsi', gsi: 28 }, { type: 'vector', vector: 0xf3 },
      { type: 'pci_intx', domain: 1, bus: 2, devfn: 0x18, intx: 3 }, { type: 'none' },
    ];
    for (const c of cases) expect(decodeHvmCallback(encodeHvmCallback(c))).toEqual(c);
  });
});
