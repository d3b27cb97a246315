/**
 * Segmentation: descriptor fetch, the protected-mode checks of data and stack segment
 * loads, LDTR/TR loads, and the derived state every segment change must refresh.
 *
 * Invariants:
 *  - A segment register's hidden part (base, limit, attr) changes only through setSeg(),
 *    which also recomputes its access bounds (segLim, see mem.ts); CS and SS changes also
 *    refresh code32/stack32 (updateMode).
 *  - Real and VM86 mode loads change only selector and base (base = selector << 4), as the
 *    hardware does: limits and attributes loaded in protected mode persist ("unreal" mode).
 *    Entering VM86 (IRET, task switch) sets all six to limit 0xffff, DPL 3 data.
 *  - Protected-mode loads check in the SDM's order and raise #GP/#SS/#NP(selector) or
 *    #GP(0) for SS null; nothing is changed when a check fails. A successful load sets the
 *    descriptor's accessed bit in memory.
 *  - Descriptor table reads are implicit supervisor accesses (CPL 0 privilege), through
 *    paging when it is on.
 *
 * Descriptor words: `lo` = bytes 0-3, `hi` = bytes 4-7. Decoded:
 *   base = lo[31:16] | hi[7:0] << 16 | hi[31:24] << 24
 *   limit = lo[15:0] | hi[19:16] << 16, scaled by 4 KiB (| 0xfff) when G
 *   attr = (hi >> 8) & 0xf0ff (VMX access-rights layout, regs.ts)
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { sysRd, sysWr } from './mem.ts';

export const A_UNUSABLE = 0x10000;

/** Result of readDescriptor (module state: the CPU is single-threaded). */
export let descLo = 0;
export let descHi = 0;
/** Linear address of the last descriptor read (for setting accessed/busy bits). */
export let descAddr = 0;

/**
 * Read the descriptor for `sel` from the GDT or LDT into descLo/descHi. Returns false if
 * the index is beyond the table limit (or the LDT is unusable).
 */
export function readDescriptor(cpu: Cpu, sel: number): boolean {
  const idx = sel & 0xfff8;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((cpu.segAttr[6]! & A_UNUSABLE) !== 0) return false;
    base = cpu.segBase[6]!;
    limit = cpu.segLimit[6]! >>> 0;
  } else {
    base = cpu.gdtBase;
    limit = cpu.gdtLimit >>> 0;
  }
  if (idx + 7 > limit) return false;
  descAddr = (base + idx) | 0;
  descLo = sysRd(cpu, descAddr, 4);
  descHi = sysRd(cpu, (descAddr + 4) | 0, 4);
  return true;
}

export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}

export function descLimit(lo: number, hi: number): number {
  const l = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? ((l << 12) | 0xfff) : l;
}

export function descAttr(hi: number): number {
  return (hi >>> 8) & 0xf0ff;
}

/** Set the accessed bit of the last-read descriptor if it is clear. */
export function touchAccessed(cpu: Cpu): void {
  if ((descHi & 0x100) === 0) {
    descHi |= 0x100;
    sysWr(cpu, (descAddr + 4) | 0, 4, descHi);
  }
}

/** True in protected mode outside VM86. */
export function protMode(cpu: Cpu): boolean {
  return (cpu.cr0 & 1) !== 0 && (cpu.flags & 0x20000) === 0;
}

/** Load a segment register's hidden part verbatim and refresh what depends on it. */
export function setSeg(cpu: Cpu, s: number, sel: number, base: number, limit: number, attr: number): void {
  cpu.segSel[s] = sel & 0xffff;
  cpu.segBase[s] = base | 0;
  cpu.segLimit[s] = limit | 0;
  cpu.segAttr[s] = attr | 0;
  if (s < 6) refreshSegLim(cpu, s);
  if (s === 1 || s === 2) updateMode(cpu);
  else if (s < 6) updateFlat(cpu);
}

/** The largest start bound a 4 GiB segment has for 4-byte accesses (mem.ts segLim). */
const FLAT_BOUND4 = 0xffffffff - 4 + 2;

/**
 * cpu.flat32: 32-bit code and stack, and CS, SS, DS, ES all base 0 with 4 GiB limits that
 * allow reads (and writes for the data segments) -- the state the JIT compiles for.
 */
export function updateFlat(cpu: Cpu): void {
  const L = cpu.segLim, B = cpu.segBase;
  cpu.flat32 = cpu.code32 && cpu.stack32 &&
    B[1] === 0 && L[8 + 2] === FLAT_BOUND4 &&
    B[2] === 0 && L[16 + 2] === FLAT_BOUND4 && L[16 + 6] === FLAT_BOUND4 &&
    B[3] === 0 && L[24 + 2] === FLAT_BOUND4 && L[24 + 6] === FLAT_BOUND4 &&
    B[0] === 0 && L[2] === FLAT_BOUND4 && L[6] === FLAT_BOUND4;
}

/** Recompute segLim bounds of segment `s` (mem.ts uses them for every access). */
export function refreshSegLim(cpu: Cpu, s: number): void {
  const attr = cpu.segAttr[s]!;
  const limit = cpu.segLimit[s]! >>> 0;
  let rd = true, wr = true;
  if (protMode(cpu)) {
    if ((attr & A_UNUSABLE) !== 0) {
      rd = wr = false;
    } else if ((attr & 8) !== 0) {
      wr = false;
      rd = (attr & 2) !== 0;
    } else {
      wr = (attr & 2) !== 0;
    }
  }
  if ((attr & 0x1c) === 0x14) rd = wr = false; // expand-down data: slow path does the check
  const o = s * 8;
  for (let k = 0; k < 4; k++) {
    const size = 1 << k;
    const bound = Math.max(0, limit - size + 2);
    cpu.segLim[o + k] = rd ? bound : 0;
    cpu.segLim[o + 4 + k] = wr ? bound : 0;
  }
}

/** Recompute code/stack size, IP wrap and every segment's bounds after a mode change. */
export function updateMode(cpu: Cpu): void {
  const v86 = (cpu.flags & 0x20000) !== 0;
  cpu.code32 = !v86 && (cpu.segAttr[1]! & 0x4000) !== 0;
  cpu.stack32 = !v86 && (cpu.segAttr[2]! & 0x4000) !== 0;
  cpu.ipMask = cpu.code32 ? -1 : 0xffff;
  updateFlat(cpu);
}

/** After CR0.PE or EFLAGS.VM changed: every bound depends on the mode. */
export function refreshAllSegs(cpu: Cpu): void {
  for (let s = 0; s < 6; s++) refreshSegLim(cpu, s);
  updateMode(cpu);
}

export function setCpl(cpu: Cpu, cpl: number): void {
  if (cpu.cpl !== cpl) {
    cpu.cpl = cpl;
    cpu.updateMasks();
    cpu.fetchPage = -1;
  }
}

/** Real-mode / VM86 load: selector and base only (see the module invariants). */
export function loadSegReal(cpu: Cpu, s: number, sel: number): void {
  sel &= 0xffff;
  let attr = cpu.segAttr[s]!;
  if ((attr & A_UNUSABLE) !== 0) attr = 0x93;
  setSeg(cpu, s, sel, sel << 4, cpu.segLimit[s]!, attr);
}

/**
 * MOV/POP/LxS to a data or stack segment register, with every check. `s` is not CS.
 * Faults leave the register unchanged.
 */
export function loadSeg(cpu: Cpu, s: number, sel: number): void {
  sel &= 0xffff;
  if (!protMode(cpu)) {
    loadSegReal(cpu, s, sel);
    return;
  }
  const cpl = cpu.cpl;
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (s === 2) raise(cpu, 13, 0);
    // A null selector loads an unusable segment; the fault comes on use.
    setSeg(cpu, s, sel, 0, 0, A_UNUSABLE);
    return;
  }
  if (!readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  const hi = descHi;
  const type = (hi >>> 8) & 0x1f; // S + type
  const dpl = (hi >>> 13) & 3;
  if (s === 2) {
    // SS: writable data, RPL = CPL = DPL
    if (rpl !== cpl || dpl !== cpl || (type & 0x1a) !== 0x12) raise(cpu, 13, sel & 0xfffc);
    if ((hi & 0x8000) === 0) raise(cpu, 12, sel & 0xfffc);
  } else {
    // data, or readable code; privilege unless conforming code
    if ((type & 0x10) === 0 || (type & 0x1a) === 0x18) raise(cpu, 13, sel & 0xfffc);
    const conformingCode = (type & 0x1c) === 0x1c;
    if (!conformingCode && (rpl > dpl || cpl > dpl)) raise(cpu, 13, sel & 0xfffc);
    if ((hi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
  }
  touchAccessed(cpu);
  setSeg(cpu, s, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
}

/** LLDT: a present LDT descriptor (type 2) from the GDT, or null. CPL 0 checked by caller. */
export function loadLdt(cpu: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) {
    setSeg(cpu, 6, sel, 0, 0, A_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0 || !readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  if (((descHi >>> 8) & 0x1f) !== 0x02) raise(cpu, 13, sel & 0xfffc);
  if ((descHi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
  setSeg(cpu, 6, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
}

/** LTR: an available TSS (type 1 or 9) from the GDT; marks it busy. */
export function loadTr(cpu: Cpu, sel: number): void {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) raise(cpu, 13, 0);
  if ((sel & 4) !== 0 || !readDescriptor(cpu, sel)) raise(cpu, 13, sel & 0xfffc);
  const t = (descHi >>> 8) & 0x1f;
  if (t !== 0x01 && t !== 0x09) raise(cpu, 13, sel & 0xfffc);
  if ((descHi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
  descHi |= 0x200;
  sysWr(cpu, (descAddr + 4) | 0, 4, descHi);
  setSeg(cpu, 7, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
}

/**
 * After a privilege-lowering transfer (RET/IRET to an outer ring): data segments the new
 * CPL may not use become null (SDM: "checks ES, DS, FS and GS").
 */
export function nullifyDataSegs(cpu: Cpu): void {
  const cpl = cpu.cpl;
  for (const s of [0, 3, 4, 5]) {
    const a = cpu.segAttr[s]!;
    if ((a & A_UNUSABLE) !== 0) continue;
    const dpl = (a >> 5) & 3;
    const conformingCode = (a & 0x1c) === 0x1c;
    if ((a & 0x10) === 0 || (!conformingCode && dpl < cpl)) {
      setSeg(cpu, s, cpu.segSel[s]! & 0, 0, 0, A_UNUSABLE);
    }
  }
}

/** VM86 segment state: base = sel << 4, limit 0xffff, present DPL-3 read/write data. */
export function loadSegV86(cpu: Cpu, s: number, sel: number): void {
  setSeg(cpu, s, sel & 0xffff, (sel & 0xffff) << 4, 0xffff, 0xf3);
}
