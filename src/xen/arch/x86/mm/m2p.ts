/**
 * The machine-to-phys table (M2P): one u32 per machine frame giving the guest PFN that
 * frame backs (or INVALID_M2P_ENTRY), kept in hypervisor frames and mapped read-only at
 * MACH2PHYS_VIRT_START in every PV address space (through the Xen-owned L2 slots of the
 * L2 under L3 slot 3, see xen_slots.ts), so a PV guest translates MFN -> PFN by reading
 * memory, as on Xen.
 *
 * Invariants:
 *  - Only the hypervisor writes it (MMU_MACHPHYS_UPDATE, populate_physmap, the builder's
 *    privileged updates); guests see it through read-only, present PTEs.
 *  - Its frames and the L1 tables mapping them are DOMID_XEN frames, never guest-visible
 *    as anything but those read-only mappings.
 *  - Entries for frames no domain owns read INVALID_M2P_ENTRY.
 */
import { maddr } from '../../../../hw/memory/addr.ts';
import { MACH2PHYS_VIRT_START } from '../../../../abi/arch_x86_32.ts';
import type { Mm } from '../../../mm/mm.ts';
import { _PAGE_ACCESSED, _PAGE_PRESENT, _PAGE_USER, PT_ENTRIES } from './pte.ts';
import { assert } from '../../../util/assert.ts';

export const INVALID_M2P_ENTRY = 0xffffffff;

export class M2p {
  /** Hypervisor frames holding the table, in order. */
  readonly tableFrames: readonly number[];
  /** First MFN of each 2 MiB chunk of the table (XENMEM_machphys_mfn_list). */
  readonly chunkMfns: readonly number[];
  /** L1 tables mapping tableFrames read-only (one per 2 MiB of VA). */
  readonly l1Frames: readonly number[];
  private readonly _view: DataView;
  private readonly _base: number[];

  constructor(private readonly _mm: Mm) {
    const entries = _mm.frames;
    const nTable = Math.ceil((entries * 4) / 4096);
    // Xen backs the M2P with 2 MiB superpages; dom0 tools map it by chunk.
    const tables: number[] = [];
    const chunks: number[] = [];
    for (let i = 0; i < nTable; i += PT_ENTRIES) {
      const c = _mm.allocXenPages(9);
      assert(c >= 0, 'no memory for the M2P');
      _mm.mem.fill(maddr(c * 4096), PT_ENTRIES * 4096, 0xff);
      chunks.push(c);
      for (let j = 0; j < PT_ENTRIES && i + j < nTable; j++) tables.push(c + j);
    }
    this.chunkMfns = chunks;
    this.tableFrames = tables;
    this._base = tables.map((f) => f * 4096);
    this._view = _mm.mem.view;
    const l1s: number[] = [];
    for (let i = 0; i < nTable; i += PT_ENTRIES) {
      const l1 = _mm.allocXenPage();
      assert(l1 >= 0, 'no memory for the M2P mappings');
      for (let j = 0; j < PT_ENTRIES && i + j < nTable; j++) {
        const ma = l1 * 4096 + j * 8;
        this._view.setUint32(ma, (tables[i + j]! * 4096) | _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED, true);
        this._view.setUint32(ma + 4, 0, true);
      }
      l1s.push(l1);
    }
    this.l1Frames = l1s;
  }

  get(mfn: number): number {
    if (!(mfn >= 0 && mfn < this._mm.frames)) return INVALID_M2P_ENTRY;
    return this._view.getUint32(this._base[mfn >>> 10]! + (mfn & 1023) * 4, true);
  }

  set(mfn: number, pfn: number): void {
    assert(mfn >= 0 && mfn < this._mm.frames, () => `M2P set of mfn ${mfn}`);
    // The M2P is never code: a plain store keeps the code cache coherent.
    this._view.setUint32(this._base[mfn >>> 10]! + (mfn & 1023) * 4, pfn >>> 0, true);
  }

  /** The guest VA of an MFN's entry. */
  static entryVa(mfn: number): number {
    return MACH2PHYS_VIRT_START + mfn * 4;
  }
}
