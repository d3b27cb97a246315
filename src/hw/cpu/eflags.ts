/**
 * Writing EFLAGS as POPF, IRET, task switches and the host do, with everything that depends
 * on it: mode changes (VM), interrupt recognition (IF), single-stepping (TF).
 *
 * Privilege rules for POPF/IRET (SDM POPF, IRET), as a mask of bits the write may change:
 *  - always fixed: bit 1 = 1; bits 3, 5, 15 and 22-31 = 0
 *  - IOPL changes only at CPL 0; IF only when CPL <= IOPL (silently kept otherwise)
 *  - POPF never changes VM, VIP, VIF and clears RF; a 16-bit POPF/IRET changes bits 0-15
 *  - VIP/VIF change through IRET at CPL 0 with a 32-bit operand, task switches and the
 *    host; VIF also through the VME/PVI forms of CLI, STI, POPF, IRET and INT n (vme.ts),
 *    which are the only readers of VIF/VIP.
 */
import type { Cpu } from './cpu.ts';
import { EV_INTR, EV_STEP } from './cpu.ts';
import { getEflags } from './flags.ts';
import { refreshAllSegs, setCpl } from './seg.ts';

/** Bits EFLAGS can hold at all (CF 1 PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID). */
export const EFLAGS_VALID = 0x3f7fd5;

/** The mask of bits POPF (or IRET without a privilege change of VM) may modify. */
export function popfMask(cpu: Cpu, op16: boolean): number {
  let mask = 0x3f7fd5 & ~(0x20000 | 0x80000 | 0x100000); // not VM VIF VIP
  if ((cpu.cr0 & 1) !== 0) {
    const iopl = (cpu.flags >>> 12) & 3;
    if (cpu.cpl > 0) mask &= ~0x3000;
    if (cpu.cpl > iopl) mask &= ~0x200;
  }
  if (op16) mask &= 0xffff;
  return mask;
}

/**
 * EFLAGS = (EFLAGS & ~mask) | (value & mask), fixed bits forced; mask -1 = host write (all
 * valid bits). Recomputes mode state when VM changes and arms interrupt/step checks.
 */
export function writeEflags(cpu: Cpu, value: number, mask: number): void {
  const old = getEflags(cpu);
  const m = mask & EFLAGS_VALID;
  const nf = ((old & ~m) | (value & m) | 2) & EFLAGS_VALID | 2;
  cpu.flags = nf;
  cpu.lazy = 0;
  if (((old ^ nf) & 0x20000) !== 0) {
    refreshAllSegs(cpu);
    if ((nf & 0x20000) !== 0) setCpl(cpu, 3);
  }
  if (((old ^ nf) & 0x40000) !== 0) cpu.updateMasks();
  if ((nf & 0x200) !== 0) cpu.pendingEvents |= EV_INTR;
  if ((nf & 0x100) !== 0) cpu.pendingEvents |= EV_STEP;
}
