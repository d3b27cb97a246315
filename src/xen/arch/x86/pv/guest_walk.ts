/**
 * Walking a PV guest's page tables in software, as the hypervisor's own accesses to guest
 * memory do (copy_from_guest / copy_to_guest run with the guest's tables loaded, at CPL 0,
 * CR0.WP set). The walk reads the guest's validated L3 (its base pointer), L2 and L1 in
 * machine memory.
 *
 * Rules: a not-present entry at any level fails; a write needs RW in both the L2 and L1
 * entries (WP semantics for a supervisor write); U/S is irrelevant (the hypervisor is
 * supervisor); PSE never occurs (Xen refuses it in guest L2s). Like the hardware, the walk
 * sets Accessed in the L2 and L1 entries and Dirty in the L1 entry on a write.
 *
 * Invariants: the walk never follows a frame outside machine memory (a validated table can
 * name I/O frames only in L1 entries, and those are refused as targets of hypervisor
 * accesses: Xen's copy to an MMIO page would fault too).
 */
import type { MachineMemory } from '../../../../hw/memory/machine_memory.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW } from '../mm/pte.ts';

/** Machine address for `va` under the PAE tables whose L3 is at machine address `l3ma`, or -1. */
export function guestWalk(mem: MachineMemory, l3ma: number, va: number, write: boolean): number {
  const view = mem.view;
  const size = mem.size;
  const l3e = l3ma + (va >>> 30) * 8;
  const l3lo = view.getInt32(l3e, true), l3hi = view.getInt32(l3e + 4, true);
  if ((l3lo & _PAGE_PRESENT) === 0 || (l3hi & 0xfffff) !== 0) return -1;
  const l2t = l3lo & ~0xfff;
  if (l2t >= size || l2t < 0) return -1;
  const l2e = l2t + ((va >>> 21) & 511) * 8;
  const l2lo = view.getInt32(l2e, true), l2hi = view.getInt32(l2e + 4, true);
  if ((l2lo & _PAGE_PRESENT) === 0 || (l2hi & 0xfffff) !== 0) return -1;
  if (write && (l2lo & _PAGE_RW) === 0) return -1;
  const l1t = l2lo & ~0xfff;
  if (l1t >= size || l1t < 0) return -1;
  const l1e = l1t + ((va >>> 12) & 511) * 8;
  const l1lo = view.getInt32(l1e, true), l1hi = view.getInt32(l1e + 4, true);
  if ((l1lo & _PAGE_PRESENT) === 0 || (l1hi & 0xfffff) !== 0) return -1;
  if (write && (l1lo & _PAGE_RW) === 0) return -1;
  const frame = l1lo & ~0xfff;
  if (frame >= size || frame < 0) return -1;
  if ((l2lo & _PAGE_ACCESSED) === 0) view.setInt32(l2e, l2lo | _PAGE_ACCESSED, true);
  const want = _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
  if ((l1lo & want) !== want) view.setInt32(l1e, l1lo | want, true);
  return frame | (va & 0xfff);
}
