/**
 * Canonicalisation for PV save/restore (libxc's normalise/localise): a saved PV guest names
 * machine frames in its page tables, its CR3, its GDT frames and (vCPU 0, suspended) its
 * start_info in EDX. A save rewrites each MFN as the PFN that held it (the guest's own p2m,
 * inverted); a restore rewrites each PFN as the MFN the new domain got for it.
 *
 * Page-table entries are PAE (8 bytes: frame in bits 12-51, present = bit 0). In an L2,
 * the slots from COMPAT_XEN_L2_FIRST on are Xen's (its M2P and per-domain mappings,
 * copied in when Xen validates the table under L3 slot 3); they name Xen's frames, are
 * dropped on save and refilled by Xen on restore, as libxc does for 32-bit guests.
 *
 * Invariants: a present entry naming a frame outside the guest's memory (a leftover grant
 * or foreign mapping) makes the save fail rather than write a wrong mapping; a PFN the
 * restore did not populate makes the restore fail naming the table and slot.
 */
import { VCPU_GUEST_CONTEXT_CTRLREG, VCPU_GUEST_CONTEXT_GDT_ENTS, VCPU_GUEST_CONTEXT_GDT_FRAMES,
  VCPU_GUEST_CONTEXT_USER_REGS_EDX, xen_cr3_to_pfn, xen_pfn_to_cr3 } from '../../abi/arch_x86_32.ts';

/** First L2 slot of Xen's area for 32-bit PV guests: (HYPERVISOR_COMPAT_VIRT_START 0xF5800000 >> 21) & 511. */
export const COMPAT_XEN_L2_FIRST = 428;
const PRESENT = 1;
const GDT_FRAMES_MAX = 16;
const GDT_ENTRIES_PER_FRAME = 512;

/** Frame translation: returns the new frame number, or -1 if there is none. */
export type FrameMap = (frame: number) => number;

function entryFrame(lo: number, hi: number): number {
  return (lo >>> 12) + (hi & 0xfffff) * 0x100000;
}

/**
 * Rewrite the frames of every present entry of one page table (level 1-3) in place.
 * `dropXenSlots`: an L2's Xen area is cleared (save) instead of translated.
 * Returns null, or a message naming the slot and frame that could not be translated.
 */
export function translatePageTable(page: Uint8Array, level: number, map: FrameMap, dropXenSlots: boolean): string | null {
  const v = new DataView(page.buffer, page.byteOffset, 4096);
  for (let i = 0; i < 512; i++) {
    const lo = v.getUint32(i * 8, true), hi = v.getUint32(i * 8 + 4, true);
    if ((lo & PRESENT) === 0) continue;
    if (level === 2 && i >= COMPAT_XEN_L2_FIRST && dropXenSlots) {
      v.setUint32(i * 8, 0, true);
      v.setUint32(i * 8 + 4, 0, true);
      continue;
    }
    const from = entryFrame(lo, hi);
    const to = map(from);
    if (to < 0) return `L${level} slot ${i} names frame ${from.toString(16)}, which is not the guest's`;
    v.setUint32(i * 8, ((lo & 0xfff) | ((to & 0xfffff) << 12)) >>> 0, true);
    v.setUint32(i * 8 + 4, ((hi & ~0xfffff) | Math.floor(to / 0x100000)) >>> 0, true);
  }
  return null;
}

/**
 * Rewrite the frames a vCPU context names: CR3, the GDT frames in use, and for the vCPU
 * that suspended, EDX (its start_info frame). Returns null or what could not be translated.
 */
export function translateVcpuContext(ctx: Uint8Array, map: FrameMap, withEdx: boolean): string | null {
  const v = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  const cr3Off = VCPU_GUEST_CONTEXT_CTRLREG + 3 * 4;
  const cr3 = v.getUint32(cr3Off, true);
  if (cr3 !== 0) {
    const to = map(xen_cr3_to_pfn(cr3));
    if (to < 0) return `CR3 names frame ${xen_cr3_to_pfn(cr3).toString(16)}, which is not the guest's`;
    v.setUint32(cr3Off, xen_pfn_to_cr3(to), true);
  }
  const ents = v.getUint32(VCPU_GUEST_CONTEXT_GDT_ENTS, true);
  const frames = Math.min(GDT_FRAMES_MAX, Math.ceil(ents / GDT_ENTRIES_PER_FRAME));
  for (let i = 0; i < frames; i++) {
    const off = VCPU_GUEST_CONTEXT_GDT_FRAMES + i * 4;
    const f = v.getUint32(off, true);
    const to = map(f);
    if (to < 0) return `GDT frame ${i} names frame ${f.toString(16)}, which is not the guest's`;
    v.setUint32(off, to, true);
  }
  if (withEdx) {
    const edx = v.getUint32(VCPU_GUEST_CONTEXT_USER_REGS_EDX, true);
    const to = map(edx);
    if (to < 0) return `EDX (start_info) names frame ${edx.toString(16)}, which is not the guest's`;
    v.setUint32(VCPU_GUEST_CONTEXT_USER_REGS_EDX, to, true);
  }
  return null;
}
