/**
 * Virtual-8086 mode extensions (CR4.VME) and protected-mode virtual interrupts (CR4.PVI):
 * the IOPL-sensitive instructions that, instead of #GP(0), work on the virtual interrupt
 * flag VIF (SDM vol. 3 ch. 20.3-20.4; CLI, STI, PUSHF, POPF, IRET and INT n pseudocode).
 *
 * Invariants:
 *  - These paths run only where IOPL forbids the real thing (VM = 1 with IOPL < 3, or CPL 3
 *    above IOPL); with IOPL 3 in VM86 the plain instructions run and VIF is untouched.
 *  - VIF/VIP live in cpu.flags (bits 19/20) like the other system flags; nothing here
 *    changes IF or IOPL. Setting VIF while VIP is set is #GP(0) before anything changes.
 *  - Only 16-bit PUSHF/POPF/IRET have virtual forms (32-bit ones stay #GP(0)), and only
 *    INT n (CD ib) consults the interrupt redirection bitmap: INT3, INTO and INT1 keep their
 *    IDT path.
 *  - The redirection bitmap is the 32 bytes below the I/O map base of a 32-bit TSS. A bit
 *    that lies outside the TSS limit, or a 16-bit TSS, is #GP(0) (there is no bitmap to
 *    redirect by).
 *  - A redirected INT n writes its three words before SP moves, so a #PF or #SS on the v86
 *    stack restarts the INT cleanly.
 */
import type { Cpu } from './cpu.ts';
import { raise } from './fault.ts';
import { getEflags } from './flags.ts';
import { rd16, rdLin, sysRd, wr16 } from './mem.ts';
import { loadSegReal } from './seg.ts';

export const CR4_VME = 0x1;
export const CR4_PVI = 0x2;
const IF = 0x200;
const TF = 0x100;
const VM = 0x20000;
const VIF = 0x80000;
const VIP = 0x100000;

const iopl = (cpu: Cpu): number => (cpu.flags >>> 12) & 3;

/**
 * CLI/STI that IOPL does not allow: with VME (VM86) or PVI (CPL 3) they clear/set VIF.
 * Returns false when the architecture says #GP(0) (no extension, or STI with VIP set).
 */
export function virtualCliSti(cpu: Cpu, set: boolean): boolean {
  if ((cpu.flags & VM) !== 0 ? (cpu.cr4 & CR4_VME) === 0 : (cpu.cr4 & CR4_PVI) === 0 || cpu.cpl !== 3) return false;
  if (!set) {
    cpu.flags &= ~VIF;
    return true;
  }
  if ((cpu.flags & VIP) !== 0) return false;
  cpu.flags |= VIF;
  return true;
}

/**
 * PUSHF/POPF/IRET in VM86 with IOPL < 3: true when the instruction has a virtual form here
 * (VME and a 16-bit operand), otherwise the caller raises #GP(0).
 */
export function vmeApplies(cpu: Cpu, op16: boolean): boolean {
  return op16 && (cpu.flags & VM) !== 0 && iopl(cpu) !== 3 && (cpu.cr4 & CR4_VME) !== 0;
}

/** The FLAGS image PUSHF and a redirected INT n push under VME: IF shows VIF, IOPL shows 3. */
export function virtualFlags(cpu: Cpu): number {
  return (getEflags(cpu) & 0xffff & ~IF) | 0x3000 | ((cpu.flags & VIF) !== 0 ? IF : 0);
}

/** The #GP(0) check of a virtual POPF/IRET on the FLAGS image it would load. */
export function checkVirtualFlags(cpu: Cpu, image: number): void {
  if ((image & TF) !== 0 || ((image & IF) !== 0 && (cpu.flags & VIP) !== 0)) raise(cpu, 13, 0);
}

/** After a virtual POPF/IRET loaded the other bits: VIF takes the image's IF. */
export function loadVirtualIf(cpu: Cpu, image: number): void {
  cpu.flags = (image & IF) !== 0 ? cpu.flags | VIF : cpu.flags & ~VIF;
}

/** Bit `vec` of the interrupt redirection bitmap (true = set: no redirection). */
function redirectionBitSet(cpu: Cpu, vec: number): boolean {
  const type = cpu.segAttr[7]! & 0xf;
  const lim = cpu.segLimit[7]! >>> 0;
  if ((type !== 0x9 && type !== 0xb) || lim < 103) raise(cpu, 13, 0);
  const base = cpu.segBase[7]!;
  const at = sysRd(cpu, (base + 102) | 0, 2) - 32 + (vec >>> 3);
  if (at < 0 || at > lim) raise(cpu, 13, 0);
  return ((sysRd(cpu, (base + at) | 0, 1) >>> (vec & 7)) & 1) !== 0;
}

/**
 * INT n in VM86 (SDM INT n, table 20-2). Returns true when it was redirected to the 8086
 * handler through the IVT at linear 0 (EIP/CS set), false when it goes through the IDT;
 * raises #GP(0) where IOPL < 3 forbids both. `next` is the IP after the instruction.
 */
export function v86IntN(cpu: Cpu, vec: number, next: number): boolean {
  const low = iopl(cpu) !== 3;
  if ((cpu.cr4 & CR4_VME) === 0 || redirectionBitSet(cpu, vec)) {
    if (low) raise(cpu, 13, 0);
    return false;
  }
  const ent = rdLin(cpu, vec * 4, 4);
  const f = low ? virtualFlags(cpu) : getEflags(cpu) & 0xffff;
  const sp = cpu.regs[4]!;
  wr16(cpu, 2, (sp - 2) & 0xffff, f);
  wr16(cpu, 2, (sp - 4) & 0xffff, cpu.segSel[1]!);
  wr16(cpu, 2, (sp - 6) & 0xffff, next);
  cpu.regs16[8] = (sp - 6) & 0xffff;
  cpu.flags &= low ? ~(VIF | TF) : ~(IF | TF);
  loadSegReal(cpu, 1, ent >>> 16);
  cpu.eip = ent & 0xffff;
  cpu.deliveries++; // an interrupt was delivered: no single-step trap for the INT itself
  return true;
}

/** POPF in VM86 with IOPL < 3 under VME (16-bit): everything but IF and IOPL, IF into VIF. */
export function virtualPopfImage(cpu: Cpu): number {
  const v = rd16(cpu, 2, cpu.regs[4]! & 0xffff);
  checkVirtualFlags(cpu, v);
  return v;
}
