/**
 * check_descriptor for a 32-bit PV guest under a 64-bit Xen (what we present): which
 * GDT/LDT descriptors a guest may install, and the fix-ups Xen writes back.
 *
 *   lo = bits 0-31 (limit 15:0, base 15:0), hi = bits 32-63 (base 23:16, type, S, DPL, P,
 *   limit 19:16, AVL, L, D/B, G, base 31:24)
 *
 * Rules:
 *  - Not present: accepted unchanged (it always faults).
 *  - DPL 0 is raised to 1: nothing a guest installs can reach ring 0.
 *  - Code/data (S=1): the L bit is refused; a segment based at 0 whose limit reaches past
 *    HYPERVISOR_VIRT_START is widened to 4 GiB (old PAE kernels' 0xF6800000 limits).
 *  - System descriptors: type 0 (the upper half of a call gate) is accepted; a 32-bit call
 *    gate (type 0xC) is accepted if its target is a guest GDT selector, an LDT selector or
 *    FLAT_RING1_CS, and is stored with DPL 0 and its real DPL in the target selector's RPL
 *    (so every use faults and Xen emulates it); its parameter-count bits 5-7 must be 0.
 *    Everything else (TSS, LDT, interrupt/trap/task gates, 16-bit gates) is refused.
 */
import { FIRST_RESERVED_GDT_ENTRY, FLAT_RING1_CS, HYPERVISOR_VIRT_START } from '../../../../abi/arch_x86_32.ts';

const SEG_P = 1 << 15;
const SEG_S = 1 << 12;
const SEG_DPL = 3 << 13;
const SEG_TYPE = 0xf << 8;
const SEG_L = 1 << 21;
const SEG_G = 1 << 23;

/** Result registers of checkDescriptor (no allocation per descriptor). */
export const fixedDesc = new Int32Array(2);

/** A selector a call gate may target (Xen's guest_gate_selector_okay for a compat guest). */
export function gateSelectorOk(sel: number): boolean {
  return (sel >>> 3) < FIRST_RESERVED_GDT_ENTRY || sel === FLAT_RING1_CS || (sel & 4) !== 0;
}

/**
 * Check (lo, hi); true if acceptable, with the descriptor to store in fixedDesc[0..1].
 */
export function checkDescriptor(lo: number, hi: number): boolean {
  let a = lo | 0;
  let b = hi | 0;
  if ((b & SEG_P) === 0) {
    fixedDesc[0] = a;
    fixedDesc[1] = b;
    return true;
  }
  let dpl = (b >>> 13) & 3;
  if (dpl < 1) dpl = 1;
  b = (b & ~SEG_DPL) | (dpl << 13);
  if ((b & SEG_S) !== 0) {
    if ((b & SEG_L) !== 0) return false;
    const base = ((b & 0xff000000) | ((b & 0xff) << 16) | (a >>> 16)) >>> 0;
    let limit = ((b & 0xf0000) | (a & 0xffff)) + 1;
    if ((b & SEG_G) !== 0) limit *= 4096;
    if (base === 0 && limit > HYPERVISOR_VIRT_START) {
      a |= 0xffff;
      b |= 0xf0000;
    }
    fixedDesc[0] = a;
    fixedDesc[1] = b;
    return true;
  }
  if ((b & SEG_TYPE) === 0) {
    fixedDesc[0] = a;
    fixedDesc[1] = b;
    return true;
  }
  if ((b & SEG_TYPE) !== 0xc00) return false;
  let cs = a >>> 16;
  if (!gateSelectorOk(cs)) return false;
  b &= ~SEG_DPL;
  cs = (cs & ~3) | dpl;
  a = (a & 0xffff) | (cs << 16);
  if ((b & 0xe0) !== 0) return false;
  fixedDesc[0] = a;
  fixedDesc[1] = b;
  return true;
}

/** The copy the CPU reads from a shadow: code/data descriptors get their Accessed bit set. */
export function shadowDescHi(hi: number): number {
  return (hi & (SEG_P | SEG_S)) === (SEG_P | SEG_S) ? hi | 0x100 : hi;
}
