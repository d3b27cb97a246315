/**
 * Hardware task switching (SDM vol. 3 ch. 7): JMP/CALL to a TSS or task gate, INT/exception
 * through a task gate (how #DF handlers get a known-good stack), and IRET with NT set.
 * Also the TSS accessors other modules need (ring stacks, the I/O permission bitmap).
 *
 * Order, as in the SDM's task-switch steps:
 *  1. check the new TSS descriptor (type available/busy per reason, present, limit >= 103
 *     for a 32-bit or 43 for a 16-bit TSS);
 *  2. save the outgoing state (EIP as the caller set it, EFLAGS, GPRs, selectors) into the
 *     current TSS; JMP/IRET clear the old busy bit; IRET clears NT in the saved image;
 *  3. CALL/INT write the back link and set NT; every reason but IRET sets the new busy bit;
 *  4. load TR, set CR0.TS, load CR3 (32-bit TSS, paging on), LDTR, EFLAGS, EIP, GPRs and the
 *     selectors; then load and check the descriptors. Faults from here on are raised in the
 *     context of the new task (#TS/#NP/#SS with the selector), as the hardware does;
 *  5. push the error code of an exception that came through a task gate; check EIP against
 *     the new CS limit (#GP(0)).
 * Faults in steps 1-3 leave the old task untouched (nothing is written before step 2's
 * checks pass; the TSS writes themselves can #PF, which the SDM also allows).
 *
 * 32-bit TSS offsets: 0 link, 4+8n ESPn/SSn (n = 0..2), 28 CR3, 32 EIP, 36 EFLAGS, 40-68 EAX..EDI,
 * 72-92 ES CS SS DS FS GS, 96 LDT, 100 T (bit 0) | I/O map base << 16.
 * 16-bit TSS: 0 link, 2+4n SPn/SSn, 14 IP, 16 FLAGS, 18-32 AX..DI, 34-40 ES CS SS DS, 42 LDT.
 */
import { EV_STEP, type Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { getEflags } from './flags.ts';
import { sysRd, sysWr } from './mem.ts';
import { loadPdptes } from './paging.ts';
import {
  A_UNUSABLE, descAddr, descAttr, descBase, descHi, descLimit, descLo, readDescriptor, refreshAllSegs, setCpl,
  setSeg, loadSegV86,
} from './seg.ts';
import { ifMayHaveRisen } from './intr.ts';

export const TS_JMP = 0;
export const TS_CALL = 1;
export const TS_INT = 2;
export const TS_IRET = 3;

/** Read the ring-`dpl` stack SS:ESP from the current TSS into cpu.tssSs / cpu.tssEsp. */
export function readTssStack(cpu: Cpu, dpl: number, e1: number): void {
  const base = cpu.segBase[7]!;
  const lim = cpu.segLimit[7]! >>> 0;
  const tr = cpu.segSel[7]! & 0xfffc;
  if ((cpu.segAttr[7]! & 8) !== 0) {
    const o = 4 + dpl * 8;
    if (o + 5 > lim) raise(cpu, 10, tr + e1);
    cpu.tssEsp = sysRd(cpu, (base + o) | 0, 4);
    cpu.tssSs = sysRd(cpu, (base + o + 4) | 0, 2);
  } else {
    const o = 2 + dpl * 4;
    if (o + 3 > lim) raise(cpu, 10, tr + e1);
    cpu.tssEsp = sysRd(cpu, (base + o) | 0, 2);
    cpu.tssSs = sysRd(cpu, (base + o + 2) | 0, 2);
  }
}

/**
 * I/O permission bitmap check: true if every bit for ports [port, port + size) is clear in
 * the 32-bit TSS's bitmap (a 16-bit TSS or a bitmap beyond the limit denies).
 */
export function ioBitmapAllows(cpu: Cpu, port: number, size: number): boolean {
  if ((cpu.segAttr[7]! & 0xf) !== 0xb && (cpu.segAttr[7]! & 0xf) !== 0x9) return false;
  const base = cpu.segBase[7]!;
  const lim = cpu.segLimit[7]! >>> 0;
  if (lim < 103) return false;
  const mapOff = sysRd(cpu, (base + 102) | 0, 2);
  const byteOff = mapOff + (port >>> 3);
  if (byteOff + 1 > lim) return false;
  const bits = sysRd(cpu, (base + byteOff) | 0, 2);
  const mask = ((1 << size) - 1) << (port & 7);
  return (bits & mask) === 0;
}

/**
 * Switch to the task whose TSS selector is `sel`. `err` >= 0 is pushed on the new stack
 * (exceptions through a task gate); `e1` is the EXT bit for error codes.
 */
export function taskSwitch(cpu: Cpu, sel: number, reason: number, err: number, e1: number): void {
  sel &= 0xffff;
  // 1. the new TSS descriptor
  if ((sel & 4) !== 0 || !readDescriptor(cpu, sel)) raise(cpu, reason === TS_IRET ? 10 : 13, (sel & 0xfffc) + e1);
  const nlo = descLo, nhi = descHi, naddr = descAddr;
  const ntype = (nhi >>> 8) & 0x1f;
  if (reason === TS_IRET) {
    if (ntype !== 0x03 && ntype !== 0x0b) raise(cpu, 10, (sel & 0xfffc) + e1);
  } else if (ntype !== 0x01 && ntype !== 0x09) {
    raise(cpu, 13, (sel & 0xfffc) + e1);
  }
  if ((nhi & 0x8000) === 0) raise(cpu, 11, (sel & 0xfffc) + e1);
  const n32 = (ntype & 8) !== 0;
  const nbase = descBase(nlo, nhi), nlimit = descLimit(nlo, nhi) >>> 0;
  if (nlimit < (n32 ? 103 : 43)) raise(cpu, 10, (sel & 0xfffc) + e1);

  const obase = cpu.segBase[7]!;
  const o32 = (cpu.segAttr[7]! & 8) !== 0;
  const osel = cpu.segSel[7]!;
  const olimit = cpu.segLimit[7]! >>> 0;
  if (olimit < (o32 ? 103 : 43)) raise(cpu, 10, (osel & 0xfffc) + e1);

  // 2. save the outgoing task
  let fl = getEflags(cpu);
  if (reason === TS_IRET) fl &= ~0x4000;
  const r = cpu.regs;
  if (o32) {
    sysWr(cpu, (obase + 32) | 0, 4, cpu.eip);
    sysWr(cpu, (obase + 36) | 0, 4, fl);
    for (let i = 0; i < 8; i++) sysWr(cpu, (obase + 40 + i * 4) | 0, 4, r[i]!);
    for (let s = 0; s < 6; s++) sysWr(cpu, (obase + 72 + s * 4) | 0, 2, cpu.segSel[s]!);
  } else {
    sysWr(cpu, (obase + 14) | 0, 2, cpu.eip);
    sysWr(cpu, (obase + 16) | 0, 2, fl);
    for (let i = 0; i < 8; i++) sysWr(cpu, (obase + 18 + i * 2) | 0, 2, r[i]!);
    for (let s = 0; s < 4; s++) sysWr(cpu, (obase + 34 + s * 2) | 0, 2, cpu.segSel[s]!);
  }
  if (reason === TS_JMP || reason === TS_IRET) {
    // clear the old TSS's busy bit
    if (readDescriptor(cpu, osel)) sysWr(cpu, (descAddr + 4) | 0, 4, descHi & ~0x200);
  }

  // 3. read the incoming image (before touching TR, so a #PF here still leaves the old task)
  const img = cpu.tssImage;
  if (n32) {
    img[0] = sysRd(cpu, (nbase + 28) | 0, 4); // CR3
    img[1] = sysRd(cpu, (nbase + 32) | 0, 4); // EIP
    img[2] = sysRd(cpu, (nbase + 36) | 0, 4); // EFLAGS
    for (let i = 0; i < 8; i++) img[3 + i] = sysRd(cpu, (nbase + 40 + i * 4) | 0, 4);
    for (let s = 0; s < 6; s++) img[11 + s] = sysRd(cpu, (nbase + 72 + s * 4) | 0, 2);
    img[17] = sysRd(cpu, (nbase + 96) | 0, 2);
    img[18] = sysRd(cpu, (nbase + 100) | 0, 2) & 1; // T (debug trap) bit
  } else {
    img[0] = cpu.cr3;
    img[1] = sysRd(cpu, (nbase + 14) | 0, 2);
    img[2] = sysRd(cpu, (nbase + 16) | 0, 2) | (fl & 0xffff0000 & ~0x20000);
    for (let i = 0; i < 8; i++) img[3 + i] = sysRd(cpu, (nbase + 18 + i * 2) | 0, 2) | (r[i]! & 0xffff0000);
    for (let s = 0; s < 4; s++) img[11 + s] = sysRd(cpu, (nbase + 34 + s * 2) | 0, 2);
    img[15] = 0;
    img[16] = 0;
    img[17] = sysRd(cpu, (nbase + 42) | 0, 2);
    img[18] = 0;
  }
  if (reason === TS_CALL || reason === TS_INT) {
    sysWr(cpu, nbase, 2, osel);
    img[2] |= 0x4000;
  }
  if (reason !== TS_IRET) sysWr(cpu, (naddr + 4) | 0, 4, nhi | 0x200);

  // 4. commit: TR, CR0.TS, CR3, then the new state
  setSeg(cpu, 7, sel, nbase, nlimit, descAttr(nhi | 0x200));
  cpu.cr0 |= 8;
  if (n32 && (cpu.cr0 & 0x80000000) !== 0 && img[0] !== cpu.cr3) {
    cpu.cr3 = img[0]!;
    if ((cpu.cr4 & 0x20) !== 0 && !loadPdptes(cpu)) raise(cpu, 13, 0);
    cpu.tlb.flushNonGlobal();
    cpu.fetchPage = -1;
  }
  cpu.eip = img[1]!;
  cpu.flags = (img[2]! & 0x3f7fd7) | 2;
  cpu.lazy = 0;
  cpu.updateMasks();
  for (let i = 0; i < 8; i++) r[i] = img[3 + i]!;
  const v86 = (cpu.flags & 0x20000) !== 0;
  // selectors first (hidden parts unusable until their descriptors load)
  for (let s = 0; s < 6; s++) {
    cpu.segSel[s] = img[11 + s]!;
    if (!v86) cpu.segAttr[s] = A_UNUSABLE | (s === 1 ? cpu.segAttr[1]! & 0x4000 : 0);
  }
  const ldt = img[17]!;
  cpu.segSel[6] = ldt;
  cpu.segAttr[6] = A_UNUSABLE;
  refreshAllSegs(cpu);
  ifMayHaveRisen(cpu);

  if (v86) {
    for (let s = 0; s < 6; s++) loadSegV86(cpu, s, img[11 + s]!);
    setCpl(cpu, 3);
    // LDT still loads (it matters after leaving VM86)
    loadTaskLdt(cpu, ldt);
    refreshAllSegs(cpu);
  } else {
    loadTaskLdt(cpu, ldt);
    loadTaskSegs(cpu);
  }
  // 5. error code and EIP limit
  if (err >= 0) {
    if (cpu.stack32) {
      const n = (r[4]! - 4) | 0;
      sysWrStack(cpu, n, 4, err);
      r[4] = n;
    } else {
      const n = (r[4]! - 2) & 0xffff;
      sysWrStack(cpu, n, 2, err);
      cpu.regs16[8] = n;
    }
  }
  if ((cpu.eip >>> 0) > (cpu.segLimit[1]! >>> 0)) raise(cpu, 13, 0);
  if (img[18] !== 0) {
    // the T bit: a debug trap once the switch has completed (run.ts events)
    cpu.taskTrap = true;
    cpu.pendingEvents |= EV_STEP;
  }
}

function sysWrStack(cpu: Cpu, off: number, size: number, v: number): void {
  if (((off + size - 1) >>> 0) > (cpu.segLimit[2]! >>> 0)) raise(cpu, 12, 0);
  sysWr(cpu, (cpu.segBase[2]! + off) | 0, size, v);
}

function loadTaskLdt(cpu: Cpu, ldt: number): void {
  if ((ldt & 0xfffc) === 0) {
    setSeg(cpu, 6, ldt, 0, 0, A_UNUSABLE);
    return;
  }
  if ((ldt & 4) !== 0 || !readDescriptor(cpu, ldt)) raise(cpu, 10, ldt & 0xfffc);
  if (((descHi >>> 8) & 0x1f) !== 0x02) raise(cpu, 10, ldt & 0xfffc);
  if ((descHi & 0x8000) === 0) raise(cpu, 10, ldt & 0xfffc);
  setSeg(cpu, 6, ldt, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
}

/** Load CS, SS, then the data segments of the new task with the task-switch checks. */
function loadTaskSegs(cpu: Cpu): void {
  const cs = cpu.segSel[1]!;
  const cpl = cs & 3;
  if ((cs & 0xfffc) === 0 || !readDescriptor(cpu, cs)) raise(cpu, 10, cs & 0xfffc);
  {
    const t = (descHi >>> 8) & 0x1f, dpl = (descHi >>> 13) & 3;
    if ((t & 0x18) !== 0x18) raise(cpu, 10, cs & 0xfffc);
    if ((t & 4) === 0 ? dpl !== cpl : dpl > cpl) raise(cpu, 10, cs & 0xfffc);
    if ((descHi & 0x8000) === 0) raise(cpu, 11, cs & 0xfffc);
    setSeg(cpu, 1, cs, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
    setCpl(cpu, cpl);
  }
  const ss = cpu.segSel[2]!;
  if ((ss & 0xfffc) === 0 || !readDescriptor(cpu, ss)) raise(cpu, 10, ss & 0xfffc);
  {
    const t = (descHi >>> 8) & 0x1a, dpl = (descHi >>> 13) & 3;
    if ((ss & 3) !== cpl || dpl !== cpl || t !== 0x12) raise(cpu, 10, ss & 0xfffc);
    if ((descHi & 0x8000) === 0) raise(cpu, 12, ss & 0xfffc);
    setSeg(cpu, 2, ss, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  }
  for (const s of [0, 3, 4, 5]) {
    const sel = cpu.segSel[s]!;
    if ((sel & 0xfffc) === 0) {
      setSeg(cpu, s, sel, 0, 0, A_UNUSABLE);
      continue;
    }
    if (!readDescriptor(cpu, sel)) raise(cpu, 10, sel & 0xfffc);
    const t = (descHi >>> 8) & 0x1f, dpl = (descHi >>> 13) & 3;
    if ((t & 0x10) === 0 || (t & 0x1a) === 0x18) raise(cpu, 10, sel & 0xfffc);
    if ((t & 0x1c) !== 0x1c && (dpl < cpl || dpl < (sel & 3))) raise(cpu, 10, sel & 0xfffc);
    if ((descHi & 0x8000) === 0) raise(cpu, 11, sel & 0xfffc);
    setSeg(cpu, s, sel, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
  }
}
