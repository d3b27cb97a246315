/**
 * The privileged instructions Xen emulates for a PV guest on #GP(0) (Xen's
 * pv/emul-priv-op.c), and the forced-emulation CPUID on #UD (pv/emul-inv-op.c).
 *
 *   in/out/ins/outs   allowed when the virtual IOPL covers the CPL or the guest's I/O
 *                     bitmap (PHYSDEVOP_set_iobitmap) clears the ports; ports the domain
 *                     was not granted read all-ones and ignore writes (no device behind)
 *   cli/sti           no-ops when the virtual IOPL covers the CPL
 *   clts              virtual CR0.TS := 0
 *   mov from CR0/2/3/4 the virtual values (CR3 in xen_pfn_to_cr3 form)
 *   mov to CR0        only TS may change; mov to CR2 sets the virtual CR2; mov to CR3 is
 *                     a new base pointer; mov to CR4 keeps the virtual CR4
 *   mov to/from DRn   set_debugreg / get_debugreg
 *   wbinvd            accepted (nothing to flush)
 *   rdmsr/wrmsr       #GP (Xen 4.15+ refuses unknown MSRs; none are offered)
 * Control and debug registers, wbinvd and MSRs are kernel-mode (ring 1) only. Anything
 * else returns false and the caller bounces #GP to the guest.
 *
 * Forced emulation: `ud2; .ascii "xen"; cpuid` runs CPUID with the guest's policy,
 * including Xen's 0x40000000 leaves.
 */
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import {
  CPUID_ECX1_HYPERVISOR, CPUID_MTRR, CPUID_PGE, CPUID_PSE, CPUID_PSE36, CPUID_VME, cpuidLeaf,
} from '../../../../hw/cpu/cpuid.ts';
import { xen_cr3_to_pfn, xen_pfn_to_cr3 } from '../../../../abi/arch_x86_32.ts';
import {
  XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD, XEN_CPUID_FIRST_LEAF, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX,
  XEN_CPUID_SIGNATURE_EDX, XEN_EMULATE_PREFIX_BYTES, XEN_HYPERCALL_MSR,
} from '../../../../abi/arch_x86/cpuid.ts';
import { pvFixupGuestCr4 } from './pv_arch.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { XEN_MAJOR, XEN_MINOR } from '../../../common/kernel.ts';
import { readGuestLinear } from './traps.ts';
import { newGuestCr3 } from '../mm/mm_hypercalls.ts';
import { doGetDebugreg, doSetDebugreg, doFpuTaskswitch } from './pv_hypercalls.ts';
import { injectPageFault } from './pv_run.ts';

const insn = new Uint8Array(16);
const cpuidOut = new Int32Array(4);

function iopl_ok(v: Vcpu): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  return p.iopl >= (p.cpu!.cpl === 3 ? 3 : 1); // SAFETY: PV vCPU
}

/** guest_io_okay: IOPL, or the guest's I/O bitmap clears every port of the access. */
function ioOkay(xen: Xen, v: Vcpu, port: number, bytes: number): boolean {
  if (iopl_ok(v)) return true;
  const p = v.pv!; // SAFETY: PV vCPU
  if (port + bytes > p.iobmpPorts || p.guest === null) return false;
  const b = new Uint8Array(2).fill(0xff);
  p.guest.read(p.iobmpVa + (port >>> 3), b, 1);
  p.guest.read(p.iobmpVa + (port >>> 3) + 1, b.subarray(1), 1);
  const mask = b[0]! | (b[1]! << 8);
  return (mask & (((1 << bytes) - 1) << (port & 7))) === 0;
}

/**
 * admin_io_okay: the domain was granted every port of the access (never the RTC index/data
 * pair or PCI configuration ports, which Xen keeps to itself).
 */
function adminIoOkay(v: Vcpu, port: number, bytes: number): boolean {
  if ((port & ~1) === 0x70) return false;
  if (port <= 0xcff && port + bytes > 0xcf8) return false;
  return v.domain.ioports.containsRange(port, port + bytes - 1);
}

/**
 * Port input for a PV guest (guest_io_read): an access entirely inside granted ports
 * reaches the machine's device at the guest's size; otherwise a 32-bit read of
 * CONFIG_ADDRESS (0xcf8) is the domain's virtual copy, and anything else is read a byte
 * at a time, granted bytes from the device and the rest all-ones (real Xen 4.17 gives a
 * 16-bit read across a granted and an ungranted port the granted byte: io_ports_granted).
 */
function ioRead(xen: Xen, v: Vcpu, port: number, bytes: number): number {
  const bus = xen.ports;
  if (adminIoOkay(v, port, bytes)) {
    return bus !== null ? bus.read(port, bytes as 1 | 2 | 4) | 0 : (bytes === 4 ? -1 : (1 << (bytes * 8)) - 1);
  }
  if (port === 0xcf8 && bytes === 4) return v.domain.pv!.pciCf8; // SAFETY: PV domain
  let data = 0;
  for (let i = 0; i < bytes; i++) {
    const p = (port + i) & 0xffff;
    const b = bus !== null && adminIoOkay(v, p, 1) ? bus.read(p, 1) & 0xff : 0xff;
    data |= b << (i * 8);
  }
  return data | 0;
}

/** Port output (guest_io_write): granted ports go to the device; 0xcf8 (32-bit) is virtual. */
function ioWrite(xen: Xen, v: Vcpu, port: number, bytes: number, val: number): void {
  const bus = xen.ports;
  if (adminIoOkay(v, port, bytes)) {
    bus?.write(port, bytes as 1 | 2 | 4, val & (bytes === 4 ? -1 : (1 << (bytes * 8)) - 1));
    return;
  }
  if (port === 0xcf8 && bytes === 4) {
    v.domain.pv!.pciCf8 = val | 0; // SAFETY: PV domain
    return;
  }
  for (let i = 0; i < bytes; i++) {
    const p = (port + i) & 0xffff;
    if (bus !== null && adminIoOkay(v, p, 1)) bus.write(p, 1, (val >>> (i * 8)) & 0xff);
  }
}

const ioBuf = new Uint8Array(4);
const ioView = new DataView(ioBuf.buffer);

/** Emulate the instruction at CS:EIP after #GP(0); true if done (EIP advanced). */
export function emulatePrivilegedOp(xen: Xen, v: Vcpu): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const lin = (cpu.segBase[Seg.CS]! + cpu.eip) >>> 0;
  if (!readGuestLinear(xen, v, lin, insn, 1)) return false;
  readGuestLinear(xen, v, lin, insn, 15);
  const kernel = cpu.cpl !== 3;
  let i = 0;
  let opsize = 4;
  let rep = false;
  for (; i < 4; i++) {
    const b = insn[i]!;
    if (b === 0x66) opsize = 2;
    else if (b === 0xf3 || b === 0xf2) rep = true;
    else if (b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65) continue;
    else break;
  }
  const op = insn[i++]!;
  const r = cpu.regs;
  const done = (len: number): boolean => {
    cpu.eip = (cpu.eip + len) | 0;
    return true;
  };
  switch (op) {
    case 0xe4: case 0xe5: case 0xec: case 0xed: { // in
      const bytes = (op & 1) === 0 ? 1 : opsize;
      const port = op <= 0xe5 ? insn[i++]! : r[Reg.EDX]! & 0xffff;
      if (!ioOkay(xen, v, port, bytes)) return false;
      const val = ioRead(xen, v, port, bytes);
      if (bytes === 1) r[Reg.EAX] = (r[Reg.EAX]! & ~0xff) | (val & 0xff);
      else if (bytes === 2) r[Reg.EAX] = (r[Reg.EAX]! & ~0xffff) | (val & 0xffff);
      else r[Reg.EAX] = val | 0;
      return done(i);
    }
    case 0xe6: case 0xe7: case 0xee: case 0xef: { // out
      const bytes = (op & 1) === 0 ? 1 : opsize;
      const port = op <= 0xe7 ? insn[i++]! : r[Reg.EDX]! & 0xffff;
      if (!ioOkay(xen, v, port, bytes)) return false;
      ioWrite(xen, v, port, bytes, r[Reg.EAX]!);
      return done(i);
    }
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: { // ins / outs, one element at a time
      const bytes = (op & 1) === 0 ? 1 : opsize;
      const port = r[Reg.EDX]! & 0xffff;
      if (!ioOkay(xen, v, port, bytes)) return false;
      const count = rep ? r[Reg.ECX]! >>> 0 : 1;
      const df = (cpu.getEflags() & 0x400) !== 0 ? -1 : 1;
      const isIns = op <= 0x6d;
      const buf = ioBuf;
      const bv = ioView;
      const guest = v.pv!.guest; // SAFETY: PV vCPU
      for (let k = 0; k < count && k < 0x10000; k++) {
        if (isIns) {
          bv.setInt32(0, ioRead(xen, v, port, bytes), true);
          const dst = (cpu.segBase[Seg.ES]! + r[Reg.EDI]!) >>> 0;
          if (guest === null || !guest.write(dst, buf, bytes)) {
            injectPageFault(xen, v, 2, dst);
            return true;
          }
          r[Reg.EDI] = (r[Reg.EDI]! + df * bytes) | 0;
        } else {
          const src = (cpu.segBase[Seg.DS]! + r[Reg.ESI]!) >>> 0;
          if (guest === null || !guest.read(src, buf, bytes)) {
            injectPageFault(xen, v, 0, src);
            return true;
          }
          ioWrite(xen, v, port, bytes, bv.getInt32(0, true));
          r[Reg.ESI] = (r[Reg.ESI]! + df * bytes) | 0;
        }
        if (rep) r[Reg.ECX] = (r[Reg.ECX]! - 1) | 0;
      }
      // A long REP is done in chunks: the instruction restarts for the rest.
      if (rep && r[Reg.ECX] !== 0) return true;
      return done(i);
    }
    case 0xfa: case 0xfb: // cli / sti: no-ops with enough virtual IOPL
      return iopl_ok(v) ? done(i) : false;
    case 0x0f:
      break;
    default:
      return false;
  }
  if (!kernel) return false;
  const op2 = insn[i++]!;
  switch (op2) {
    case 0x06: // clts
      doFpuTaskswitch(xen, v, 0);
      return done(i);
    case 0x09: // wbinvd
      return done(i);
    case 0x20: case 0x22: case 0x21: case 0x23: {
      const modrm = insn[i++]!;
      const n = (modrm >>> 3) & 7;
      const gpr = modrm & 7;
      if (op2 === 0x20) {
        let val: number;
        switch (n) {
          case 0: val = (cpu.cr0 & ~8) | (p.vTs ? 8 : 0); break;
          case 2: val = p.vCr2; break;
          case 3: val = xen_pfn_to_cr3(p.guestTable); break;
          case 4: val = p.vCr4; break;
          default: return false;
        }
        r[gpr] = val | 0;
        return done(i);
      }
      if (op2 === 0x22) {
        const val = r[gpr]! >>> 0;
        switch (n) {
          case 0:
            if (((val ^ cpu.cr0) & ~8) !== 0) return false;
            doFpuTaskswitch(xen, v, val & 8);
            return done(i);
          case 2:
            p.vCr2 = val | 0;
            return done(i);
          case 3:
            if (newGuestCr3(xen, v, xen_cr3_to_pfn(val)) !== 0) return false;
            return done(i);
          case 4:
            p.vCr4 = pvFixupGuestCr4(val);
            return done(i);
          default:
            return false;
        }
      }
      if (op2 === 0x21) {
        const val = doGetDebugreg(xen, v, n);
        if (val < 0 && val >= -4095 && n !== 0 && n !== 1 && n !== 2 && n !== 3) return false;
        r[gpr] = val | 0;
        return done(i);
      }
      if (doSetDebugreg(xen, v, n, r[gpr]! >>> 0) !== 0) return false;
      return done(i);
    }
    default:
      return false;
  }
}

/** #UD: the forced-emulation prefix followed by CPUID. True if emulated (or faulted). */
export function emulateForcedInvalidOp(xen: Xen, v: Vcpu): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const lin = (cpu.segBase[Seg.CS]! + cpu.eip) >>> 0;
  if (!readGuestLinear(xen, v, lin, insn, 5)) return false;
  for (let k = 0; k < 5; k++) if (insn[k] !== XEN_EMULATE_PREFIX_BYTES[k]) return false;
  if (!readGuestLinear(xen, v, lin + 5, insn, 2)) {
    injectPageFault(xen, v, 0, lin + 5);
    return true;
  }
  if (insn[0] !== 0x0f || insn[1] !== 0xa2) return false;
  const r = cpu.regs;
  guestCpuid(xen, v, r[Reg.EAX]! >>> 0, r[Reg.ECX]! >>> 0, cpuidOut);
  r[Reg.EAX] = cpuidOut[0]!;
  r[Reg.EBX] = cpuidOut[1]!;
  r[Reg.ECX] = cpuidOut[2]!;
  r[Reg.EDX] = cpuidOut[3]!;
  cpu.eip = (cpu.eip + 7) | 0;
  return true;
}

/** The CPUID a PV guest sees through Xen: the CPU's leaves plus Xen's at 0x40000000. */
export function guestCpuid(xen: Xen, v: Vcpu, leaf: number, sub: number, out: Int32Array): void {
  out.fill(0);
  const base = XEN_CPUID_FIRST_LEAF;
  if (leaf >= base && leaf < base + 0x10000) {
    switch (leaf - base) {
      case 0:
        out[0] = base + 5;
        out[1] = XEN_CPUID_SIGNATURE_EBX;
        out[2] = XEN_CPUID_SIGNATURE_ECX;
        out[3] = XEN_CPUID_SIGNATURE_EDX;
        return;
      case 1:
        out[0] = (XEN_MAJOR << 16) | XEN_MINOR;
        return;
      case 2:
        out[0] = 1;
        out[1] = XEN_HYPERCALL_MSR;
        out[2] = XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD;
        return;
      case 3:
        if (sub === 0) out[2] = Math.round(xen.time.tscHz / 1000);
        else if (sub === 1) {
          out[2] = xen.time.scale.mul;
          out[3] = xen.time.scale.shift;
        } else if (sub === 2) out[0] = Math.round(xen.time.tscHz / 1000);
        return;
      case 5:
        out[1] = 32; // machine address width
        return;
      default:
        return;
    }
  }
  const cpu = v.pv!.cpu!; // SAFETY: PV vCPU
  cpuidLeaf(cpu.cpuidModel, cpu.cpuidEdx1, leaf, sub, out);
  if (leaf === 1) {
    // Xen's PV policy: features that only an HVM guest could use are hidden (the kernel
    // does not own CR4 or the MTRRs), and the hypervisor bit is set.
    out[3] = out[3]! & ~PV_HIDDEN_EDX1;
    out[2] = out[2]! | CPUID_ECX1_HYPERVISOR;
  }
}

/** Leaf 1 EDX features Xen's cpufeatureset marks HVM-only ('S'). */
const PV_HIDDEN_EDX1 = CPUID_VME | CPUID_PSE | CPUID_MTRR | CPUID_PGE | CPUID_PSE36;
