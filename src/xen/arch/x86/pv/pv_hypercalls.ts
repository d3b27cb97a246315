/**
 * The PV CPU-state hypercalls of a 32-bit guest (Xen's compat entry points in
 * pv/callback.c, pv/traps.c, pv/misc-hypercalls.c, pv/descriptor-tables.c):
 * set_trap_table (0), set_gdt (2), stack_switch (3), set_callbacks (4),
 * fpu_taskswitch (5), set_debugreg (8), get_debugreg (9), update_descriptor (10),
 * iret (23), nmi_op (28), callback_op (30).
 *
 * Selector fix-ups: a code or stack selector with RPL 0 gets RPL 1 (the guest kernel's
 * ring), as Xen's fixup_guest_{code,stack}_selector do.
 */
import { EFAULT, EINVAL, ENODEV, ENOSYS, EPERM } from '../../../../abi/errno.ts';
import {
  CALLBACKF_mask_events, CALLBACKOP_register, CALLBACKOP_unregister, CALLBACKTYPE_event, CALLBACKTYPE_failsafe,
  CALLBACKTYPE_nmi, CALLBACKTYPE_syscall32, CALLBACKTYPE_sysenter,
} from '../../../../abi/callback.ts';
import { XENNMI_register_callback, XENNMI_unregister_callback } from '../../../../abi/nmi.ts';
import { FIRST_RESERVED_GDT_ENTRY, FLAT_RING1_CS, HYPERVISOR_VIRT_START } from '../../../../abi/arch_x86_32.ts';
import { VMASST_TYPE_architectural_iopl } from '../../../../abi/xen.ts';
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { guestOf } from '../../../common/kernel.ts';
import { PvGuestMemory } from './pv_guest_memory.ts';
import { bounceTrap, readGuestLinear, writeGuestLinear, hex } from './traps.ts';

/** fixup_guest_code_selector / fixup_guest_stack_selector for a ring-1 kernel. */
export function fixupSelector(sel: number): number {
  sel &= 0xffff;
  return (sel & 3) >= 1 ? sel : (sel & ~3) | 1;
}

function pvOf(v: Vcpu): NonNullable<Vcpu['pv']> {
  const p = v.pv;
  if (p === null) throw new Error(`${v} is not a PV vCPU`);
  return p;
}

export function doSetTrapTable(xen: Xen, v: Vcpu, traps: number): number {
  const p = pvOf(v);
  if (traps === 0) {
    p.traps.fill(0);
    return 0;
  }
  const mem = guestOf(v);
  for (let i = 0; ; i++) {
    const ti = xen.scratch.readStruct(mem, traps + i * 8, 8);
    if (ti === null) return -EFAULT;
    const address = ti.getUint32(4, true);
    if (address === 0) return 0;
    const vec = ti.getUint8(0);
    p.traps[vec * 2] = ti.getUint8(1) | (fixupSelector(ti.getUint16(2, true)) << 16);
    p.traps[vec * 2 + 1] = address | 0;
    if (i > 256 * 64) return 0; // a looping table: Xen would continue forever via continuations
  }
}

export function doStackSwitch(_xen: Xen, v: Vcpu, ss: number, esp: number): number {
  const p = pvOf(v);
  p.kernelSs = fixupSelector(ss);
  p.kernelSp = esp | 0;
  return 0;
}

/** register_guest_nmi_callback: the NMI vector 2 of the trap table, on the flat kernel CS. */
function registerNmi(v: Vcpu, address: number): number {
  const p = pvOf(v);
  p.traps[2 * 2] = 4 /* IF: mask events */ | (FLAT_RING1_CS << 16);
  p.traps[2 * 2 + 1] = address | 0;
  p.nmiEip = address | 0;
  return 0;
}

function unregisterNmi(v: Vcpu): number {
  const p = pvOf(v);
  p.traps[4] = 0;
  p.traps[5] = 0;
  p.nmiEip = 0;
  return 0;
}

/** compat_register_guest_callback. */
export function registerCallback(v: Vcpu, type: number, flags: number, cs: number, eip: number): number {
  const p = pvOf(v);
  cs = fixupSelector(cs);
  const mask = (flags & CALLBACKF_mask_events) !== 0;
  switch (type) {
    case CALLBACKTYPE_event:
      p.eventCs = cs;
      p.eventEip = eip | 0;
      return 0;
    case CALLBACKTYPE_failsafe:
      p.failsafeCs = cs;
      p.failsafeEip = eip | 0;
      p.failsafeMasks = mask;
      return 0;
    case CALLBACKTYPE_syscall32:
      p.syscall32Cs = cs;
      p.syscall32Eip = eip | 0;
      p.syscall32Masks = mask;
      return 0;
    case CALLBACKTYPE_sysenter:
      p.sysenterCs = cs;
      p.sysenterEip = eip | 0;
      p.sysenterMasks = mask;
      return 0;
    case CALLBACKTYPE_nmi:
      return registerNmi(v, eip);
    default:
      return -ENOSYS;
  }
}

export function doSetCallbacks(_xen: Xen, v: Vcpu, ecs: number, eeip: number, fcs: number, feip: number): number {
  registerCallback(v, CALLBACKTYPE_event, 0, ecs, eeip);
  registerCallback(v, CALLBACKTYPE_failsafe, 0, fcs, feip);
  return 0;
}

export function doCallbackOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const mem = guestOf(v);
  switch (cmd) {
    case CALLBACKOP_register: {
      const r = xen.scratch.readStruct(mem, arg, 12);
      if (r === null) return -EFAULT;
      return registerCallback(v, r.getUint16(0, true), r.getUint16(2, true), r.getUint32(4, true), r.getUint32(8, true));
    }
    case CALLBACKOP_unregister: {
      const r = xen.scratch.readStruct(mem, arg, 4);
      if (r === null) return -EFAULT;
      switch (r.getUint16(0, true)) {
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
          return -EINVAL;
        case CALLBACKTYPE_nmi:
          return unregisterNmi(v);
        default:
          return -ENOSYS;
      }
    }
    default:
      return -EINVAL;
  }
}

export function doNmiOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  switch (cmd) {
    case XENNMI_register_callback: {
      const r = xen.scratch.readStruct(guestOf(v), arg, 8);
      if (r === null) return -EFAULT;
      return registerNmi(v, r.getUint32(0, true));
    }
    case XENNMI_unregister_callback:
      return unregisterNmi(v);
    default:
      return -ENOSYS;
  }
}

export function doFpuTaskswitch(xen: Xen, v: Vcpu, set: number): number {
  pvOf(v).vTs = set !== 0;
  xen.pv.syncTs(v);
  return 0;
}

const DR6_FIXED = 0xffff0ff0 | 0;
const DR7_FIXED = 0x400;

export function doSetDebugreg(_xen: Xen, v: Vcpu, reg: number, value: number): number {
  const p = pvOf(v);
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const de = (p.vCr4 & 8) !== 0;
  switch (reg) {
    case 0: case 1: case 2: case 3:
      // Breakpoints only on guest addresses (access_ok below the hypervisor area).
      if ((value >>> 0) + 4 > HYPERVISOR_VIRT_START) return -EPERM;
      p.debugreg[reg] = value | 0;
      cpu.dr[reg] = value | 0;
      return 0;
    case 4:
      if (de) return -ENODEV;
      // falls through
    case 6:
      p.debugreg[6] = (value & 0x0000e00f) | DR6_FIXED;
      cpu.dr[6] = p.debugreg[6]!;
      return 0;
    case 5:
      if (de) return -ENODEV;
      // falls through
    case 7:
      // Enabled I/O breakpoints (R/W = 10b) need the guest's CR4.DE.
      for (let i = 16; i < 32; i += 4) {
        if (((value >>> i) & 3) === 2 && (value & (3 << ((i - 16) >>> 1))) !== 0 && !de) return -EPERM;
      }
      p.debugreg[7] = (value & 0xffff2fff) | DR7_FIXED;
      cpu.dr[7] = p.debugreg[7]!;
      return 0;
    default:
      return -ENODEV;
  }
}

export function doGetDebugreg(_xen: Xen, v: Vcpu, reg: number): number {
  const p = pvOf(v);
  switch (reg) {
    case 0: case 1: case 2: case 3: case 6: case 7:
      return p.debugreg[reg]! | (reg === 6 ? DR6_FIXED : reg === 7 ? DR7_FIXED : 0);
    case 4:
      return (p.vCr4 & 8) !== 0 ? -ENODEV : p.debugreg[6]! | DR6_FIXED;
    case 5:
      return (p.vCr4 & 8) !== 0 ? -ENODEV : p.debugreg[7]! | DR7_FIXED;
    default:
      return -ENODEV;
  }
}

export function doSetGdt(xen: Xen, v: Vcpu, frameList: number, entries: number): number {
  if (entries > FIRST_RESERVED_GDT_ENTRY) return -EINVAL;
  const n = Math.ceil(entries / 512);
  if (!PvGuestMemory.ok(frameList, n * 4)) return -EFAULT;
  const frames: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = xen.scratch.readU32(guestOf(v), frameList + i * 4);
    if (f === null) return -EFAULT;
    frames.push(f);
  }
  return xen.pv.dt.setGdt(v, frames, entries);
}

export function doUpdateDescriptor(xen: Xen, v: Vcpu, paLo: number, paHi: number, descLo: number, descHi: number): number {
  return xen.pv.dt.updateDescriptor(v.domain, paLo + paHi * 0x100000000, descLo, descHi);
}

const iretBuf = new Uint8Array(40);
const iretView = new DataView(iretBuf.buffer);

/**
 * The iret hypercall (compat_iret): frame at ESP = EAX, EIP, CS, EFLAGS, [ESP, SS].
 * Returning to ring 0 crashes the domain; to VM86 is turned into a #GP delivered on the
 * guest's kernel stack; the upcall mask becomes !EFLAGS.IF.
 */
export function doIret(xen: Xen, v: Vcpu): number {
  const p = pvOf(v);
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const d = v.domain;
  const sp = cpu.regs[Reg.ESP]! >>> 0;
  const ssBase = cpu.segBase[Seg.SS]! >>> 0;
  if (!readGuestLinear(xen, v, (ssBase + sp) >>> 0, iretBuf, 16)) {
    xen.crashDomain(d, `failed to read the iret frame at ${hex(sp)}`);
    return 0;
  }
  const eax = iretView.getInt32(0, true);
  let eip = iretView.getInt32(4, true);
  let cs = iretView.getUint32(8, true) & 0xffff;
  let eflags = iretView.getUint32(12, true);
  if ((d.vmAssist & (1 << VMASST_TYPE_architectural_iopl)) !== 0) p.iopl = (eflags >>> 12) & 3;
  let newEsp = sp;
  let ss = cpu.segSel[Seg.SS]! & 0xffff;
  let toUser = false;
  if ((eflags & (1 << 17)) !== 0) {
    // Cannot return to VM86: move the frame to the kernel stack and deliver #GP there.
    const ksp = (p.kernelSp - 40) >>> 0;
    if (!readGuestLinear(xen, v, (ssBase + sp + 4) >>> 0, iretBuf, 36) ||
        !writeGuestLinear(xen, v, (ssBase + ksp + 4) >>> 0, iretBuf, 36)) {
      xen.crashDomain(d, 'failed to move a VM86 iret frame');
      return 0;
    }
    iretView.setInt32(0, 0, true);
    if (!writeGuestLinear(xen, v, (ssBase + ksp) >>> 0, iretBuf, 4)) {
      xen.crashDomain(d, 'failed to write a VM86 #GP frame');
      return 0;
    }
    newEsp = ksp;
    ss = p.kernelSs;
    if ((p.traps[13 * 2]! & 4) !== 0) eflags &= ~(1 << 9);
    eflags &= ~((1 << 17) | (1 << 16) | (1 << 14) | (1 << 8));
    eip = p.traps[13 * 2 + 1]!;
    cs = p.traps[13 * 2]! >>> 16;
  } else if ((cs & 3) === 0) {
    xen.crashDomain(d, `iret to ring 0 (cs ${hex(cs)})`);
    return 0;
  } else if ((cs & 3) === 1) {
    newEsp = (sp + 16) >>> 0;
  } else {
    if (!readGuestLinear(xen, v, (ssBase + sp + 16) >>> 0, iretBuf, 8)) {
      xen.crashDomain(d, 'failed to read the ring-3 part of the iret frame');
      return 0;
    }
    newEsp = iretView.getUint32(0, true);
    ss = iretView.getUint32(4, true) & 0xffff;
    toUser = true;
  }
  // Load the new context; a selector the hardware iret would refuse is fatal here.
  if (cpu.loadSegment(Seg.CS, cs) !== null) {
    xen.crashDomain(d, `iret to an unusable code selector ${hex(cs)}`);
    return 0;
  }
  if (toUser && cpu.loadSegment(Seg.SS, ss) !== null) {
    // Xen takes the frame as given; its own iretq to the guest then faults on the stack
    // selector and the fault is reflected as #GP(selector) from the target context
    // (entry.S pre-exception fixup). The frame records the refused SS as it was.
    cpu.eip = eip | 0;
    cpu.regs[Reg.ESP] = newEsp | 0;
    cpu.setEflags(((eflags & ~(3 << 12)) | (1 << 9) | 2) >>> 0);
    xen.evtBits.setUpcallMask(v, (eflags & (1 << 9)) === 0);
    p.nmiMasked = false;
    cpu.segSel[Seg.SS] = ss;
    bounceTrap(xen, v, 13, ss & 0xfffc);
    return eax;
  }
  if ((cs & 3) === 1 && cpu.loadSegment(Seg.SS, ss) !== null) {
    xen.crashDomain(d, `iret to an unusable stack selector ${hex(ss)}`);
    return 0;
  }
  cpu.eip = eip | 0;
  cpu.regs[Reg.ESP] = newEsp | 0;
  cpu.setEflags(((eflags & ~(3 << 12)) | (1 << 9) | 2) >>> 0);
  xen.evtBits.setUpcallMask(v, (eflags & (1 << 9)) === 0);
  p.nmiMasked = false;
  // Leaving ring 1 for ring 3: data segments the user context cannot use become null.
  if (toUser) {
    for (const s of [Seg.DS, Seg.ES, Seg.FS, Seg.GS]) {
      const dpl = (cpu.segAttr[s]! >>> 5) & 3;
      const sel = cpu.segSel[s]! & 0xffff;
      if ((sel & 0xfffc) !== 0 && dpl < 3 && (cpu.segAttr[s]! & 0x1c) !== 0x1c) cpu.loadSegment(s, 0);
    }
  }
  return eax;
}
