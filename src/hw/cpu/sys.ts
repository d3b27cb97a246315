/**
 * System instructions: control and debug registers, descriptor-table registers, LLDT/LTR,
 * LMSW/SMSW/CLTS, INVLPG, INVD/WBINVD, LAR/LSL/VERR/VERW/ARPL, RDMSR/WRMSR, RDTSC, RDPMC,
 * CPUID, HLT, CLI/STI, and the HVM exits some of them take.
 *
 * Handlers take the decoded instruction index `i`, run with Cpu.eip at the instruction, and
 * return 0 to continue with the next instruction or 1 when they changed Cpu.eip themselves
 * or the block must end. Privilege: the CPL-0 instructions raise #GP(0) at CPL > 0 and in
 * VM86; the protected-mode-only ones raise #UD in real and VM86 mode (SDM per instruction).
 */
import type { Cpu } from './cpu.ts';
import { EV_EXIT, EV_HALT, EV_INTR, EV_STEP } from './cpu.ts';
import { ExecMode, ExitReason } from './exit.ts';
import { raise, raiseExit } from './fault.ts';
import { materialize } from './flags.ts';
import { ea } from './operands.ts';
import { rd16, rd32, wr16, wr32 } from './mem.ts';
import { loadPdptes } from './paging.ts';
import { descHi, descLimit, descLo, loadLdt, loadTr, protMode, readDescriptor, refreshAllSegs, setCpl } from './seg.ts';
import { cpuidLeaf, CPUID_FXSR, CPUID_VME } from './cpuid.ts';
import { virtualCliSti } from './vme.ts';
import { msrRead, msrWrite } from './msr.ts';
import { fpuWaits, FPU_UD, FPU_GP } from './fpu/fpu.ts';
import { readLin, segSlow } from './mem.ts';

function ipNext(cpu: Cpu, i: number): number {
  return (cpu.eip + cpu.cache.len[i]!) & cpu.ipMask;
}

/** #GP(0) unless CPL 0 (and not VM86). */
export function requireCpl0(cpu: Cpu): void {
  if ((cpu.cr0 & 1) !== 0 && (cpu.cpl !== 0 || (cpu.flags & 0x20000) !== 0)) raise(cpu, 13, 0);
}

/** #UD in real and VM86 mode. */
function requireProt(cpu: Cpu): void {
  if (!protMode(cpu)) raise(cpu, 6, -1);
}

function hvm(cpu: Cpu): boolean {
  return cpu.controls.mode === ExecMode.HVM;
}

/** Record an instruction exit for the instruction at cpu.eip and stop it. */
function insnExit(cpu: Cpu, i: number, reason: number): never {
  const x = cpu.exit;
  x.insnLength = cpu.cache.len[i]!;
  x.nextEip = ipNext(cpu, i);
  return raiseExit(cpu, reason);
}

// ---------------------------------------------------------------- control registers

export function setCr0(cpu: Cpu, v: number): void {
  v = (v & 0xe005003f) | 0x10;
  if ((v & 0x80000000) !== 0 && (v & 1) === 0) raise(cpu, 13, 0);
  if ((v & 0x20000000) !== 0 && (v & 0x40000000) === 0) raise(cpu, 13, 0);
  const old = cpu.cr0;
  if ((v & 0x80000000) !== 0 && (old & 0x80000000) === 0 && (cpu.cr4 & 0x20) !== 0) {
    const save = cpu.cr0;
    cpu.cr0 = v;
    const ok = loadPdptes(cpu);
    cpu.cr0 = save;
    if (!ok) raise(cpu, 13, 0);
  }
  cpu.cr0 = v;
  if (((old ^ v) & 0x40000) !== 0) cpu.updateMasks();
  if (((old ^ v) & 0x80010001) !== 0) cpu.flushTlb();
  if (((old ^ v) & 1) !== 0) {
    if ((v & 1) === 0) setCpl(cpu, 0);
    refreshAllSegs(cpu);
  }
}

export function setCr3(cpu: Cpu, v: number): void {
  if ((cpu.cr4 & 0x20) !== 0 && (cpu.cr0 & 0x80000000) !== 0) {
    const old = cpu.cr3;
    cpu.cr3 = v;
    if (!loadPdptes(cpu)) {
      cpu.cr3 = old;
      raise(cpu, 13, 0);
    }
  }
  cpu.cr3 = v;
  cpu.tlb.flushNonGlobal();
  cpu.fetchPage = -1;
}

/** CR4 bits this CPU implements (no MCE, PCE, SMEP, ...); VME and PVI with CPUID.VME. */
const CR4_VALID = 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400;

export function setCr4(cpu: Cpu, v: number): void {
  if ((v & ~(CR4_VALID | ((cpu.cpuidEdx1 & CPUID_VME) !== 0 ? 0x3 : 0))) !== 0) raise(cpu, 13, 0);
  const old = cpu.cr4;
  if (((old ^ v) & 0x20) !== 0 && (v & 0x20) !== 0 && (cpu.cr0 & 0x80000000) !== 0) {
    cpu.cr4 = v;
    const ok = loadPdptes(cpu);
    if (!ok) {
      cpu.cr4 = old;
      raise(cpu, 13, 0);
    }
  }
  cpu.cr4 = v;
  if (((old ^ v) & (0x10 | 0x20 | 0x80)) !== 0) cpu.flushTlb();
}

export function movToCr(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  const cr = m & 7, r = (m >> 3) & 7;
  requireCpl0(cpu);
  if (cr === 1 || cr > 4) raise(cpu, 6, -1);
  const v = cpu.regs[r]!;
  if (hvm(cpu) && ((cpu.controls.crWriteExitMask >>> cr) & 1) !== 0) {
    const x = cpu.exit;
    x.reset(ExitReason.CR_ACCESS);
    x.cr = cr; x.crWrite = true; x.gpr = r; x.value = v;
    insnExit(cpu, i, ExitReason.CR_ACCESS);
  }
  switch (cr) {
    case 0: setCr0(cpu, v); break;
    case 2: cpu.cr2 = v; break;
    case 3: setCr3(cpu, v); break;
    default: setCr4(cpu, v); break;
  }
  cpu.eip = ipNext(cpu, i);
  return 1;
}

export function movFromCr(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  const cr = m & 7, r = (m >> 3) & 7;
  requireCpl0(cpu);
  if (cr === 1 || cr > 4) raise(cpu, 6, -1);
  if (hvm(cpu) && ((cpu.controls.crReadExitMask >>> cr) & 1) !== 0) {
    const x = cpu.exit;
    x.reset(ExitReason.CR_ACCESS);
    x.cr = cr; x.crWrite = false; x.gpr = r;
    insnExit(cpu, i, ExitReason.CR_ACCESS);
  }
  cpu.regs[r] = cr === 0 ? cpu.cr0 : cr === 2 ? cpu.cr2 : cr === 3 ? cpu.cr3 : cpu.cr4;
  return 0;
}

/**
 * DR7.GD: any MOV to or from a debug register is a #DB fault with DR6.BD set, and GD is
 * cleared as the handler is entered so the handler itself can use the registers.
 */
function generalDetect(cpu: Cpu): void {
  if ((cpu.dr[7]! & 0x2000) === 0) return;
  cpu.dr[6] = cpu.dr[6]! | 0x2000;
  cpu.dr[7] = cpu.dr[7]! & ~0x2000;
  raise(cpu, 1, -1);
}

export function movToDr(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  let dr = m & 7;
  const r = (m >> 3) & 7;
  requireCpl0(cpu);
  if (dr === 4 || dr === 5) {
    if ((cpu.cr4 & 8) !== 0) raise(cpu, 6, -1);
    dr += 2;
  }
  generalDetect(cpu);
  const v = cpu.regs[r]!;
  if (dr === 6) cpu.dr[6] = (v & 0xe00f) | 0xffff0ff0;
  else if (dr === 7) cpu.dr[7] = (v & 0xffff2bff) | 0x400;
  else cpu.dr[dr] = v;
  cpu.pendingEvents |= EV_STEP;
  cpu.eip = ipNext(cpu, i);
  return 1;
}

export function movFromDr(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  let dr = m & 7;
  const r = (m >> 3) & 7;
  requireCpl0(cpu);
  if (dr === 4 || dr === 5) {
    if ((cpu.cr4 & 8) !== 0) raise(cpu, 6, -1);
    dr += 2;
  }
  generalDetect(cpu);
  cpu.regs[r] = dr === 6 ? cpu.dr[6]! | 0xffff0ff0 : dr === 7 ? cpu.dr[7]! | 0x400 : cpu.dr[dr]!;
  return 0;
}

export function lmsw(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  requireCpl0(cpu);
  const v = (m & 0x2000) !== 0 ? cpu.regs16[((m >> 3) & 7) << 1]! : rd16(cpu, (m >> 14) & 7, ea(cpu, m, cpu.cache.disp[i]!));
  if (hvm(cpu) && (cpu.controls.crWriteExitMask & 1) !== 0) {
    const x = cpu.exit;
    x.reset(ExitReason.CR_ACCESS);
    x.cr = 0; x.crWrite = true; x.gpr = -1; x.value = v;
    insnExit(cpu, i, ExitReason.CR_ACCESS);
  }
  // LMSW sets PE but never clears it; it loads MP, EM, TS.
  const nv = (cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & 1);
  setCr0(cpu, nv);
  cpu.eip = ipNext(cpu, i);
  return 1;
}

export function smsw(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  if ((m & 0x2000) !== 0) {
    if ((m & 0x40000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = cpu.cr0;
    else cpu.regs[(m >> 3) & 7] = cpu.cr0;
  } else {
    wr16(cpu, (m >> 14) & 7, ea(cpu, m, cpu.cache.disp[i]!), cpu.cr0 & 0xffff);
  }
  return 0;
}

export function clts(cpu: Cpu, i: number): number {
  requireCpl0(cpu);
  if (hvm(cpu) && (cpu.controls.crWriteExitMask & 1) !== 0) {
    const x = cpu.exit;
    x.reset(ExitReason.CR_ACCESS);
    x.cr = 0; x.crWrite = true; x.gpr = -1; x.value = cpu.cr0 & ~8;
    insnExit(cpu, i, ExitReason.CR_ACCESS);
  }
  cpu.cr0 &= ~8;
  cpu.eip = ipNext(cpu, i);
  return 1;
}

// ---------------------------------------------------------------- descriptor tables

export function lgdtLidt(cpu: Cpu, i: number, idt: boolean): number {
  requireCpl0(cpu);
  const m = cpu.cache.m[i]!;
  const seg = (m >> 14) & 7;
  const off = ea(cpu, m, cpu.cache.disp[i]!);
  const limit = rd16(cpu, seg, off);
  let base = rd32(cpu, seg, (m & 0x20000) !== 0 ? (off + 2) & 0xffff : (off + 2) | 0);
  if ((m & 0x40000) !== 0) base &= 0xffffff;
  if (idt) {
    cpu.idtBase = base;
    cpu.idtLimit = limit;
  } else {
    cpu.gdtBase = base;
    cpu.gdtLimit = limit;
  }
  cpu.eip = ipNext(cpu, i);
  return 1;
}

export function sgdtSidt(cpu: Cpu, i: number, idt: boolean): number {
  const m = cpu.cache.m[i]!;
  const seg = (m >> 14) & 7;
  const off = ea(cpu, m, cpu.cache.disp[i]!);
  const off2 = (m & 0x20000) !== 0 ? (off + 2) & 0xffff : (off + 2) | 0;
  // check both parts before writing either
  readLin(cpu, seg, off, 2);
  wr32(cpu, seg, off2, idt ? cpu.idtBase : cpu.gdtBase);
  wr16(cpu, seg, off, idt ? cpu.idtLimit : cpu.gdtLimit);
  return 0;
}

function storeSel(cpu: Cpu, i: number, v: number): void {
  const m = cpu.cache.m[i]!;
  if ((m & 0x2000) !== 0) {
    if ((m & 0x40000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = v;
    else cpu.regs[(m >> 3) & 7] = v & 0xffff;
  } else {
    wr16(cpu, (m >> 14) & 7, ea(cpu, m, cpu.cache.disp[i]!), v);
  }
}

function readSelOperand(cpu: Cpu, i: number): number {
  const m = cpu.cache.m[i]!;
  return (m & 0x2000) !== 0 ? cpu.regs16[((m >> 3) & 7) << 1]! : rd16(cpu, (m >> 14) & 7, ea(cpu, m, cpu.cache.disp[i]!));
}

export function sldtStr(cpu: Cpu, i: number, tr: boolean): number {
  requireProt(cpu);
  storeSel(cpu, i, cpu.segSel[tr ? 7 : 6]!);
  return 0;
}

export function lldtLtr(cpu: Cpu, i: number, tr: boolean): number {
  requireProt(cpu);
  requireCpl0(cpu);
  const sel = readSelOperand(cpu, i);
  if (tr) loadTr(cpu, sel);
  else loadLdt(cpu, sel);
  cpu.eip = ipNext(cpu, i);
  return 1;
}

/** LAR (lsl = false) / LSL. */
export function larLsl(cpu: Cpu, i: number, lsl: boolean): number {
  requireProt(cpu);
  const m = cpu.cache.m[i]!;
  const sel = readSelOperand(cpu, i);
  let ok = false;
  let value = 0;
  if ((sel & 0xfffc) !== 0 && readDescriptor(cpu, sel)) {
    const hi = descHi;
    const t = (hi >>> 8) & 0x1f;
    const dpl = (hi >>> 13) & 3;
    let valid: boolean;
    if ((t & 0x10) !== 0) valid = true;
    else if (lsl) valid = t === 1 || t === 2 || t === 3 || t === 9 || t === 11;
    else valid = t === 1 || t === 2 || t === 3 || t === 4 || t === 5 || t === 9 || t === 11 || t === 12;
    const conformingCode = (t & 0x1c) === 0x1c;
    if (valid && (conformingCode || (dpl >= cpu.cpl && dpl >= (sel & 3)))) {
      ok = true;
      value = lsl ? descLimit(descLo, hi) : hi & 0x00ffff00;
    }
  }
  materialize(cpu);
  if (ok) {
    cpu.flags |= 0x40;
    const r = m & 7;
    if ((m & 0x40000) !== 0) cpu.regs16[r << 1] = value;
    else cpu.regs[r] = value;
  } else {
    cpu.flags &= ~0x40;
  }
  return 0;
}

export function verrVerw(cpu: Cpu, i: number, write: boolean): number {
  requireProt(cpu);
  const sel = readSelOperand(cpu, i);
  let ok = false;
  if ((sel & 0xfffc) !== 0 && readDescriptor(cpu, sel)) {
    const hi = descHi;
    const t = (hi >>> 8) & 0x1f;
    const dpl = (hi >>> 13) & 3;
    const conformingCode = (t & 0x1c) === 0x1c;
    const priv = conformingCode || (dpl >= cpu.cpl && dpl >= (sel & 3));
    if ((t & 0x10) !== 0 && priv) {
      if (write) ok = (t & 0x1a) === 0x12;
      else ok = (t & 0x18) === 0x10 || (t & 0x1a) === 0x1a;
    }
  }
  materialize(cpu);
  if (ok) cpu.flags |= 0x40;
  else cpu.flags &= ~0x40;
  return 0;
}

export function arpl(cpu: Cpu, i: number): number {
  requireProt(cpu);
  const c = cpu.cache;
  const m = c.m[i]!;
  const src = cpu.regs16[(m & 7) << 1]!;
  let dst: number;
  let lin = 0;
  if ((m & 0x2000) !== 0) dst = cpu.regs16[((m >> 3) & 7) << 1]!;
  else {
    lin = ea(cpu, m, c.disp[i]!);
    dst = rd16(cpu, (m >> 14) & 7, lin);
  }
  materialize(cpu);
  if ((dst & 3) < (src & 3)) {
    const nv = (dst & ~3) | (src & 3);
    if ((m & 0x2000) !== 0) cpu.regs16[((m >> 3) & 7) << 1] = nv;
    else wr16(cpu, (m >> 14) & 7, lin, nv);
    cpu.flags |= 0x40;
  } else {
    cpu.flags &= ~0x40;
  }
  return 0;
}

// ---------------------------------------------------------------- TLB, caches, MSRs, misc

export function invlpg(cpu: Cpu, i: number): number {
  requireCpl0(cpu);
  const m = cpu.cache.m[i]!;
  const off = ea(cpu, m, cpu.cache.disp[i]!);
  const lin = (cpu.segBase[(m >> 14) & 7]! + off) | 0;
  if (hvm(cpu) && cpu.controls.exitOnInvlpg) {
    const x = cpu.exit;
    x.reset(ExitReason.INVLPG);
    x.cr2 = lin >>> 0;
    insnExit(cpu, i, ExitReason.INVLPG);
  }
  cpu.invlpg(lin);
  cpu.eip = ipNext(cpu, i);
  return 1;
}

export function invdWbinvd(cpu: Cpu, _i: number): number {
  requireCpl0(cpu);
  return 0;
}

function msrBit(bm: Uint8Array, idx: number): boolean {
  let k: number;
  if (idx >= 0 && idx <= 0x1fff) k = idx;
  else if (idx >= 0xc0000000 && idx <= 0xc0001fff) k = idx - 0xc0000000 + 0x2000;
  else return true;
  return ((bm[k >>> 3]! >>> (k & 7)) & 1) !== 0;
}

export function rdmsr(cpu: Cpu, i: number): number {
  requireCpl0(cpu);
  const idx = cpu.regs[1]! >>> 0;
  if (hvm(cpu) && msrBit(cpu.controls.msrReadBitmap, idx)) {
    const x = cpu.exit;
    x.reset(ExitReason.MSR_READ);
    x.msr = idx;
    insnExit(cpu, i, ExitReason.MSR_READ);
  }
  if (!msrRead(cpu, idx)) raise(cpu, 13, 0);
  cpu.regs[0] = cpu.msrLo;
  cpu.regs[2] = cpu.msrHi;
  return 0;
}

export function wrmsr(cpu: Cpu, i: number): number {
  requireCpl0(cpu);
  const idx = cpu.regs[1]! >>> 0;
  if (hvm(cpu) && msrBit(cpu.controls.msrWriteBitmap, idx)) {
    const x = cpu.exit;
    x.reset(ExitReason.MSR_WRITE);
    x.msr = idx;
    x.value = cpu.regs[0]!;
    x.valueHigh = cpu.regs[2]!;
    insnExit(cpu, i, ExitReason.MSR_WRITE);
  }
  if (!msrWrite(cpu, idx, cpu.regs[0]!, cpu.regs[2]!)) raise(cpu, 13, 0);
  cpu.eip = ipNext(cpu, i);
  return 1;
}

/** Current TSC value (a double). */
/**
 * The TSC: clock-derived cycles + tscOffset. The cycle count never repeats (time stands
 * still inside a block, but back-to-back reads on a real CPU always see it move): a read
 * that would not be above the last one gets the last + 1.
 */
export function readTsc(cpu: Cpu): number {
  let c = Math.floor(cpu.clock.nowNs() * (cpu.tscHz / 1e9));
  if (c <= cpu.tscCycles) c = cpu.tscCycles + 1;
  cpu.tscCycles = c;
  return c + cpu.tscOffset;
}

export function rdtsc(cpu: Cpu, i: number): number {
  if ((cpu.cr4 & 4) !== 0 && (cpu.cpl !== 0 || (cpu.flags & 0x20000) !== 0) && (cpu.cr0 & 1) !== 0) raise(cpu, 13, 0);
  if (hvm(cpu) && cpu.controls.exitOnRdtsc) {
    cpu.exit.reset(ExitReason.RDTSC);
    insnExit(cpu, i, ExitReason.RDTSC);
  }
  const t = readTsc(cpu);
  cpu.regs[0] = t % 0x100000000 | 0;
  cpu.regs[2] = Math.floor(t / 0x100000000) | 0;
  return 0;
}

export function rdpmc(cpu: Cpu, _i: number): number {
  // No performance counters are implemented: every counter index is invalid.
  return raise(cpu, 13, 0);
}

export function cpuid(cpu: Cpu, i: number): number {
  if (hvm(cpu) && cpu.controls.exitOnCpuid) {
    const x = cpu.exit;
    x.reset(ExitReason.CPUID);
    x.value = cpu.regs[0]!;
    x.valueHigh = cpu.regs[1]!;
    insnExit(cpu, i, ExitReason.CPUID);
  }
  const out = cpu.cpuidOut;
  cpuidLeaf(cpu.cpuidModel, cpu.cpuidEdx1, cpu.regs[0]!, cpu.regs[1]!, out);
  cpu.regs[0] = out[0]!;
  cpu.regs[3] = out[1]!;
  cpu.regs[1] = out[2]!;
  cpu.regs[2] = out[3]!;
  return 0;
}

export function hlt(cpu: Cpu, i: number): number {
  requireCpl0(cpu);
  if (hvm(cpu) && cpu.controls.exitOnHlt) {
    cpu.exit.reset(ExitReason.HLT);
    insnExit(cpu, i, ExitReason.HLT);
  }
  cpu.eip = ipNext(cpu, i);
  cpu.halted = true;
  cpu.pendingEvents |= EV_HALT;
  return 1;
}

/** CLI (set = false) / STI. STI opens a one-instruction interrupt shadow. */
export function cliSti(cpu: Cpu, i: number, set: boolean): number {
  const iopl = (cpu.flags >>> 12) & 3;
  if ((cpu.cr0 & 1) !== 0 && ((cpu.flags & 0x20000) !== 0 ? iopl !== 3 : cpu.cpl > iopl)) {
    // VME (VM86) / PVI (CPL 3): VIF instead of IF, no interrupt shadow
    if (!virtualCliSti(cpu, set)) raise(cpu, 13, 0);
    cpu.eip = ipNext(cpu, i);
    return 0;
  }
  if (!set) {
    cpu.flags &= ~0x200;
    return 0;
  }
  const was = cpu.flags & 0x200;
  cpu.flags |= 0x200;
  cpu.eip = ipNext(cpu, i);
  if (was === 0) {
    cpu.intShadow = 1;
    cpu.pendingEvents |= EV_INTR | EV_STEP;
  }
  return 1;
}

// ---------------------------------------------------------------- x87 glue

/** ESC D8-DF: the CR0 and pending-exception rules, then the Fpu. 1 = end the block (FERR#). */
export function fpuEsc(cpu: Cpu, i: number): number {
  const c = cpu.cache;
  const m = c.m[i]!;
  const op = (m >>> 24) & 7;
  const modrm = c.imm[i]!;
  const fpu = cpu.fpu;
  if ((cpu.cr0 & 0xc) !== 0 || fpu === null) raise(cpu, 7, -1);
  const ferr = fpu.pendingUnmasked && fpuWaits(op, modrm) ? pendingFpuError(cpu) : 0;
  const env = cpu.fpuEnv;
  let lin = 0, off = 0;
  const seg = (m >> 14) & 7;
  if (modrm < 0xc0) {
    // the whole operand must lie inside the segment (and a store needs a writable one)
    off = ea(cpu, m, c.disp[i]!);
    const o32 = (m & 0x40000) === 0;
    lin = segSlow(cpu, seg, off, fpuOperandSize(op, (modrm >> 3) & 7, o32), fpuStores(op, (modrm >> 3) & 7));
  }
  env.operand32 = (m & 0x40000) === 0;
  env.protectedMode = protMode(cpu);
  env.cs = cpu.segSel[1]!;
  env.eip = cpu.eip;
  env.ds = cpu.segSel[seg]!;
  env.ea = off;
  const r = fpu.execute(op, modrm, lin, cpu.fpuMem, env);
  if (r === FPU_UD) raise(cpu, 6, -1);
  return ferr;
}

/** Bytes of the memory operand of ESC `op` (D8 + op) /reg; 1 for invalid forms (#UD later). */
function fpuOperandSize(op: number, reg: number, o32: boolean): number {
  switch (op) {
    case 0: case 2: return 4; // m32real, m32int
    case 4: return 8; // m64real
    case 6: return 2; // m16int
    case 1: return reg === 4 || reg === 6 ? (o32 ? 28 : 14) : reg === 5 || reg === 7 ? 2 : reg === 1 ? 1 : 4;
    case 3: return reg === 5 || reg === 7 ? 10 : reg === 4 || reg === 6 ? 1 : 4;
    case 5: return reg === 4 || reg === 6 ? (o32 ? 108 : 94) : reg === 7 ? 2 : reg === 5 ? 1 : 8;
    default: return reg === 4 || reg === 6 ? 10 : reg === 5 || reg === 7 ? 8 : 2;
  }
}

/** Whether ESC `op` /reg writes its memory operand (FST/FSTP/FIST/FISTP/FISTTP/FBSTP, FNSTENV/FNSTCW/FNSAVE/FNSTSW). */
function fpuStores(op: number, reg: number): boolean {
  switch (op) {
    case 1: return reg === 2 || reg === 3 || reg === 6 || reg === 7;
    case 3: return reg === 1 || reg === 2 || reg === 3 || reg === 7;
    case 5: case 7: return reg === 1 || reg === 2 || reg === 3 || reg === 6 || reg === 7;
    default: return false;
  }
}

/**
 * An unmasked x87 exception is pending before a waiting instruction: #MF with CR0.NE = 1;
 * otherwise FERR# goes to the platform (IRQ 13 on a PC), IGNNE# lets the instruction run,
 * and the caller ends the block so the interrupt is taken right after it. Returns 1 then.
 */
function pendingFpuError(cpu: Cpu): number {
  if ((cpu.cr0 & 0x20) !== 0) raise(cpu, 16, -1);
  if (cpu.onFerr === null) return 0;
  cpu.onFerr();
  return 1;
}

export function fwait(cpu: Cpu, _i: number): number {
  if ((cpu.cr0 & 0xa) === 0xa) raise(cpu, 7, -1);
  const fpu = cpu.fpu;
  if (fpu !== null && fpu.pendingUnmasked) return pendingFpuError(cpu);
  return 0;
}

/** FXSAVE (restore = false) / FXRSTOR. */
export function fxsaveRstor(cpu: Cpu, i: number, restore: boolean): number {
  const fpu = cpu.fpu;
  if (fpu === null || (cpu.cpuidEdx1 & CPUID_FXSR) === 0) raise(cpu, 6, -1);
  // SDM FXSAVE/FXRSTOR: #NM if CR0.TS or CR0.EM
  if ((cpu.cr0 & 0xc) !== 0) raise(cpu, 7, -1);
  const c = cpu.cache;
  const m = c.m[i]!;
  const off = ea(cpu, m, c.disp[i]!);
  const lin = segSlow(cpu, (m >> 14) & 7, off, 512, !restore);
  const r = restore ? fpu.fxrstor(lin, cpu.fpuMem) : fpu.fxsave(lin, cpu.fpuMem);
  if (r === FPU_GP) raise(cpu, 13, 0);
  if (restore) {
    cpu.eip = ipNext(cpu, i);
    return 1;
  }
  return 0;
}

/**
 * LDMXCSR/STMXCSR and the fences exist only with SSE/SSE2 advertised -- except that a PV
 * guest gets the fences as no-ops whatever CPUID says (every CPU a real Xen runs on has them
 * and PV guests use them without asking).
 */
export function sseOnly(cpu: Cpu, _i: number, sse2: boolean): number {
  if (cpu.controls.mode === ExecMode.PV) return 0;
  const bit = sse2 ? 1 << 26 : 1 << 25;
  if ((cpu.cpuidEdx1 & bit) === 0) raise(cpu, 6, -1);
  return 0;
}

/** PV: SYSENTER belongs to the hypervisor. */
export function sysenterExit(cpu: Cpu, i: number): void {
  const x = cpu.exit;
  x.reset(ExitReason.SYSENTER);
  x.insnLength = cpu.cache.len[i]!;
  x.nextEip = ipNext(cpu, i);
  cpu.pendingEvents |= EV_EXIT;
}

