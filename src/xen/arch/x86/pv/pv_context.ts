/**
 * A PV vCPU's complete context as `vcpu_guest_context` (2800 bytes, x86_32): Xen's
 * arch_set_info_guest / arch_get_info_guest for a 32-bit guest. Used by VCPUOP_initialise
 * (a guest bringing up a secondary vCPU) and by the toolstack's setvcpucontext /
 * getvcpucontext (the domain builder's initial vCPU 0 state).
 *
 * Setting a context: selectors get RPL >= 1; LDT base page aligned and <= 8192 entries
 * (else -EINVAL); the GDT frames are validated as descriptor pages (set_gdt rules); CR3
 * must name an L3 of the domain that validates (-EINVAL otherwise), and takes the base
 * pointer's references; EFLAGS loses IOPL (kept as the virtual IOPL) and gets IF; CS and
 * SS must load, data selectors that do not load are nulled. VGCF_online brings the vCPU
 * up, otherwise it stays down until VCPUOP_up.
 */
import { EINVAL } from '../../../../abi/errno.ts';
import {
  VGCF_failsafe_disables_events, VGCF_in_kernel, VGCF_online, xen_cr3_to_pfn, xen_pfn_to_cr3,
} from '../../../../abi/arch_x86_32.ts';
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import { pvFixupGuestCr4 } from './pv_arch.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { VPF_down } from '../../../common/vcpu.ts';
import { PGT_l3_page_table } from '../../../mm/frame_table.ts';
import { fixupSelector } from './pv_hypercalls.ts';

export const SIZEOF_VCPU_GUEST_CONTEXT = 2800;
const O_FLAGS = 512;
const O_REGS = 516;
const O_TRAPS = 584;
const O_LDT_BASE = 2632;
const O_LDT_ENTS = 2636;
const O_GDT_FRAMES = 2640;
const O_GDT_ENTS = 2704;
const O_KERNEL_SS = 2708;
const O_KERNEL_SP = 2712;
const O_CTRLREG = 2716;
const O_DEBUGREG = 2748;
const O_EVENT_CS = 2780;
const O_EVENT_EIP = 2784;
const O_FAILSAFE_CS = 2788;
const O_FAILSAFE_EIP = 2792;
const O_VM_ASSIST = 2796;

/** cpu_user_regs offsets (relative to O_REGS). */
const R = { ebx: 0, ecx: 4, edx: 8, esi: 12, edi: 16, ebp: 20, eax: 24, eip: 32, cs: 36, mask: 38, eflags: 40, esp: 44,
  ss: 48, es: 52, ds: 56, fs: 60, gs: 64 } as const;

/** arch_set_info_guest for a PV vCPU from a context in `c` (a DataView of 2800 bytes). */
export function setPvContext(xen: Xen, v: Vcpu, c: DataView): number {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const d = v.domain;
  const u32 = (o: number): number => c.getUint32(o, true);
  const ldtBase = u32(O_LDT_BASE), ldtEnts = u32(O_LDT_ENTS);
  if ((ldtBase & 0xfff) !== 0 || ldtEnts > 8192) return -EINVAL;
  const flags = u32(O_FLAGS);

  // Base pointer first: it is the only part that can fail after the simple checks.
  const cr3mfn = xen_cr3_to_pfn(u32(O_CTRLREG + 12));
  if (cr3mfn !== p.guestTable) {
    if (!xen.mm.ft.valid(cr3mfn) || xen.pageTypes.getPageAndType(cr3mfn, PGT_l3_page_table, d.domid) !== 0) return -EINVAL;
  }
  const gdtEnts = u32(O_GDT_ENTS);
  const frames: number[] = [];
  for (let i = 0; i < 16; i++) frames.push(u32(O_GDT_FRAMES + i * 4));
  const rc = xen.pv.dt.setGdt(v, frames, gdtEnts);
  if (rc !== 0) {
    if (cr3mfn !== p.guestTable) xen.pageTypes.putPageAndType(cr3mfn);
    return rc;
  }
  if (cr3mfn !== p.guestTable) {
    const old = p.guestTable;
    p.guestTable = cr3mfn;
    if (old !== 0) xen.pageTypes.putPageAndType(old);
  }

  for (let i = 0; i < 256; i++) {
    const o = O_TRAPS + i * 8;
    const addr = u32(o + 4);
    const cs = fixupSelector(c.getUint16(o + 2, true));
    p.traps[i * 2] = addr === 0 && c.getUint16(o + 2, true) === 0 ? 0 : c.getUint8(o + 1) | (cs << 16);
    p.traps[i * 2 + 1] = addr | 0;
  }
  p.kernelSs = fixupSelector(u32(O_KERNEL_SS));
  p.kernelSp = u32(O_KERNEL_SP) | 0;
  p.eventCs = fixupSelector(u32(O_EVENT_CS));
  p.eventEip = u32(O_EVENT_EIP) | 0;
  p.failsafeCs = fixupSelector(u32(O_FAILSAFE_CS));
  p.failsafeEip = u32(O_FAILSAFE_EIP) | 0;
  p.failsafeMasks = (flags & VGCF_failsafe_disables_events) !== 0;
  d.vmAssist = u32(O_VM_ASSIST);
  p.vTs = (u32(O_CTRLREG) & 8) !== 0;
  p.vCr4 = pvFixupGuestCr4(u32(O_CTRLREG + 16));
  for (let i = 0; i < 8; i++) p.debugreg[i] = u32(O_DEBUGREG + i * 4) | 0;
  p.ldtBase = 0;
  p.ldtEnts = 0;
  xen.pv.dt.setLdt(v, ldtBase, ldtEnts);

  xen.pv.resetCpu(v);
  xen.pv.syncPdpt(v);
  const regs = cpu.regs;
  regs[Reg.EBX] = u32(O_REGS + R.ebx) | 0;
  regs[Reg.ECX] = u32(O_REGS + R.ecx) | 0;
  regs[Reg.EDX] = u32(O_REGS + R.edx) | 0;
  regs[Reg.ESI] = u32(O_REGS + R.esi) | 0;
  regs[Reg.EDI] = u32(O_REGS + R.edi) | 0;
  regs[Reg.EBP] = u32(O_REGS + R.ebp) | 0;
  regs[Reg.EAX] = u32(O_REGS + R.eax) | 0;
  regs[Reg.ESP] = u32(O_REGS + R.esp) | 0;
  cpu.eip = u32(O_REGS + R.eip) | 0;
  const eflags = u32(O_REGS + R.eflags);
  p.iopl = (eflags >>> 12) & 3;
  cpu.setEflags(((eflags & ~0x3000 & ~(1 << 17)) | 0x202) >>> 0);
  const cs = fixupSelector(c.getUint16(O_REGS + R.cs, true));
  const ss = fixupSelector(c.getUint16(O_REGS + R.ss, true));
  if (cpu.loadSegment(Seg.CS, cs) !== null || cpu.loadSegment(Seg.SS, ss) !== null) return -EINVAL;
  for (const [seg, off] of [[Seg.DS, R.ds], [Seg.ES, R.es], [Seg.FS, R.fs], [Seg.GS, R.gs]] as const) {
    if (cpu.loadSegment(seg, c.getUint16(O_REGS + off, true)) !== null) cpu.loadSegment(seg, 0);
  }
  xen.pv.syncTs(v);
  v.initialised = true;
  if ((flags & VGCF_online) !== 0) v.pauseFlags &= ~VPF_down;
  else v.pauseFlags |= VPF_down;
  xen.sched.update(v);
  return 0;
}

/** arch_get_info_guest: the vCPU's context into `c` (zeroed by the caller). */
export function getPvContext(xen: Xen, v: Vcpu, c: DataView): void {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const set = (o: number, x: number): void => c.setUint32(o, x >>> 0, true);
  set(O_FLAGS, (cpu.cpl !== 3 ? VGCF_in_kernel : 0) | (v.isUp ? VGCF_online : 0) |
    (p.failsafeMasks ? VGCF_failsafe_disables_events : 0) | 1 /* i387 valid */);
  const regs = cpu.regs;
  set(O_REGS + R.ebx, regs[Reg.EBX]!);
  set(O_REGS + R.ecx, regs[Reg.ECX]!);
  set(O_REGS + R.edx, regs[Reg.EDX]!);
  set(O_REGS + R.esi, regs[Reg.ESI]!);
  set(O_REGS + R.edi, regs[Reg.EDI]!);
  set(O_REGS + R.ebp, regs[Reg.EBP]!);
  set(O_REGS + R.eax, regs[Reg.EAX]!);
  set(O_REGS + R.eip, cpu.eip);
  c.setUint16(O_REGS + R.cs, cpu.segSel[Seg.CS]! & 0xffff, true);
  c.setUint8(O_REGS + R.mask, xen.evtBits.upcallMasked(v) ? 1 : 0);
  set(O_REGS + R.eflags, (cpu.getEflags() & ~0x3000) | (p.iopl << 12));
  set(O_REGS + R.esp, regs[Reg.ESP]!);
  c.setUint16(O_REGS + R.ss, cpu.segSel[Seg.SS]! & 0xffff, true);
  c.setUint16(O_REGS + R.es, cpu.segSel[Seg.ES]! & 0xffff, true);
  c.setUint16(O_REGS + R.ds, cpu.segSel[Seg.DS]! & 0xffff, true);
  c.setUint16(O_REGS + R.fs, cpu.segSel[Seg.FS]! & 0xffff, true);
  c.setUint16(O_REGS + R.gs, cpu.segSel[Seg.GS]! & 0xffff, true);
  for (let i = 0; i < 256; i++) {
    const csFlags = p.traps[i * 2]!;
    if (csFlags === 0 && p.traps[i * 2 + 1] === 0) continue;
    c.setUint8(O_TRAPS + i * 8, i);
    c.setUint8(O_TRAPS + i * 8 + 1, csFlags & 0xff);
    c.setUint16(O_TRAPS + i * 8 + 2, csFlags >>> 16, true);
    set(O_TRAPS + i * 8 + 4, p.traps[i * 2 + 1]!);
  }
  set(O_LDT_BASE, p.ldtBase);
  set(O_LDT_ENTS, p.ldtEnts);
  for (let i = 0; i < p.gdtFrameCount; i++) set(O_GDT_FRAMES + i * 4, p.gdtFrames[i]!);
  set(O_GDT_ENTS, p.gdtEnts);
  set(O_KERNEL_SS, p.kernelSs);
  set(O_KERNEL_SP, p.kernelSp);
  set(O_CTRLREG, (cpu.cr0 & ~8) | (p.vTs ? 8 : 0));
  set(O_CTRLREG + 8, p.vCr2);
  set(O_CTRLREG + 12, xen_pfn_to_cr3(p.guestTable));
  set(O_CTRLREG + 16, p.vCr4);
  for (let i = 0; i < 8; i++) set(O_DEBUGREG + i * 4, p.debugreg[i]!);
  set(O_EVENT_CS, p.eventCs);
  set(O_EVENT_EIP, p.eventEip);
  set(O_FAILSAFE_CS, p.failsafeCs);
  set(O_FAILSAFE_EIP, p.failsafeEip);
  set(O_VM_ASSIST, v.domain.vmAssist);
}
