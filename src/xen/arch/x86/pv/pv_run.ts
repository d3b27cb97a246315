/**
 * Running a PV vCPU: enter the guest with Cpu.run, turn every exit into what Xen does on
 * that event, deliver pending events on the way back in (the exit handler table of the PV
 * domain type).
 *
 *   SOFT_INT 0x82        hypercall (ring 1; ring 3 gets #GP(0x412) from the gate DPL)
 *   SOFT_INT 3 / 4       int3 / into through Xen's DPL-3 gates: bounced as traps 3 / 4
 *   EXCEPTION #GP        INT n the guest allowed (trap table DPL), call-gate emulation,
 *                        privileged-instruction emulation, or bounced as #GP
 *   EXCEPTION #PF        LDT shadow fill, or bounced with CR2 (vcpu_info.arch.cr2)
 *   EXCEPTION #NM        virtual CR0.TS: bounced once, TS cleared
 *   EXCEPTION other      bounced with its error code
 *   SYSENTER             the registered sysenter callback, else #GP
 *   SHUTDOWN / other     the domain is crashed (cannot happen with PV controls)
 *
 * Invariants: each exit costs at least EXIT_COST instructions of the slice budget, so a
 * guest that faults in a tight loop still lets the scheduler run; the loop leaves as soon
 * as the vCPU is no longer runnable or its pCPU must reschedule.
 */
import { ExitReason } from '../../../../hw/cpu/exit.ts';
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import { VCPU_INFO_ARCH_CR2 } from '../../../../abi/xen.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { doHypercall } from '../hypercall.ts';
import { bounceTrap, checkEvents, createBounceFrame, hasErrorCode, readGuestLinear, TBF_INTERRUPT, hex } from './traps.ts';
import { emulateForcedInvalidOp, emulatePrivilegedOp } from './emul_priv_op.ts';
import { emulateGateOp } from './gate_op.ts';
import { ptwrFault } from './ptwr.ts';
import { ldtVa, gdtVa } from './pv_domain.ts';

const EXIT_COST = 16;

export function runPvVcpu(xen: Xen, v: Vcpu, budget: number): void {
  const p = v.pv!; // SAFETY: only PV vCPUs get here
  const cpu = p.cpu!; // SAFETY: PV vCPUs have a CPU
  const pc = v.processor;
  let left = budget;
  checkEvents(xen, v);
  while (left > 0) {
    if (xen.sched.preempt[pc] || !v.runnable()) return;
    // Work for a native domain (dom0's backends) runs on the host once it is due.
    let run = left;
    const due = xen.pv.nativeDeadline;
    if (due !== Infinity) {
      const ns = due - xen.time.now();
      if (ns <= 0) return;
      run = Math.min(run, Math.max(1, Math.ceil(ns / xen.nsPerInstruction)));
    }
    const start = cpu.instructions;
    const r = cpu.run(run);
    left -= Math.max(cpu.instructions - start, r === ExitReason.BUDGET ? 0 : EXIT_COST);
    switch (r) {
      case ExitReason.BUDGET:
        if (run < left && left > 0) continue; // cut short for a native upcall
        return;
      case ExitReason.KICK:
        break;
      case ExitReason.SOFT_INT: {
        const vec = cpu.exit.vector;
        if (vec === 0x82) {
          doHypercall(xen, v);
          if (p.continued) return; // preempted: its slice ends, the call resumes next time
        } else {
          bounceTrap(xen, v, vec, -1);
        }
        break;
      }
      case ExitReason.EXCEPTION:
        handleException(xen, v, cpu.exit.vector, cpu.exit.errorCode, cpu.exit.cr2 >>> 0);
        break;
      case ExitReason.SYSENTER:
        if (p.sysenterEip !== 0) {
          // SYSENTER from ring 3: Xen bounces to the registered callback like an interrupt.
          createBounceFrame(xen, v, p.sysenterCs, p.sysenterEip, TBF_INTERRUPT, -1, p.sysenterMasks);
        } else {
          bounceTrap(xen, v, 13, 0);
        }
        break;
      default:
        xen.crashDomain(v.domain, `unexpected CPU exit ${r} at ${hex(cpu.segSel[Seg.CS]! & 0xffff)}:${hex(cpu.eip)}`);
        return;
    }
    if (!v.runnable()) return;
    checkEvents(xen, v);
  }
}

/** An exception the CPU raised in guest context (EIP at the fault, or after a trap). */
export function handleException(xen: Xen, v: Vcpu, vec: number, err: number, cr2: number): void {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  switch (vec) {
    case 13: {
      if (err > 0 && (err & 3) === 2) {
        // INT n through a DPL-0 gate: allowed if the guest's trap table says so.
        const n = err >>> 3;
        const dpl = p.traps[n * 2]! & 3;
        const need = cpu.cpl === 3 ? 3 : 1;
        if (dpl >= need) {
          cpu.eip = (cpu.eip + 2) | 0;
          bounceTrap(xen, v, n, -1);
          return;
        }
        bounceTrap(xen, v, 13, err);
        return;
      }
      if (err > 0) {
        if (!emulateGateOp(xen, v, err)) bounceTrap(xen, v, 13, err);
        return;
      }
      if (err === 0 && emulatePrivilegedOp(xen, v)) return;
      bounceTrap(xen, v, 13, err < 0 ? 0 : err);
      return;
    }
    case 14: {
      // The guest's own access above the M2P: on a 64-bit Xen nothing of Xen's is mapped
      // there for a 32-bit guest, so it is a plain #PF, never a descriptor-table fault.
      if (cpu.exit.pfHole) {
        injectPageFault(xen, v, err, cr2);
        return;
      }
      const ldt = ldtVa(v.id), gdt = gdtVa(v.id);
      if (cr2 >= ldt && cr2 < ldt + 0x10000) {
        if (xen.pv.dt.ldtFault(v, cr2)) return;
        injectPageFault(xen, v, err, (p.ldtBase + (cr2 - ldt)) >>> 0);
        return;
      }
      if (cr2 >= gdt && cr2 < gdt + 0x10000) {
        // A GDT read fault is #GP(selector).
        handleException(xen, v, 13, (cr2 - gdt) & 0xfff8, 0);
        return;
      }
      // Writable page tables: a kernel store into one of its L1s is emulated.
      if (ptwrFault(xen, v, err, cr2)) return;
      injectPageFault(xen, v, err, cr2);
      return;
    }
    case 1: {
      // do_debug: fold the hardware DR6 into the guest's virtual DR6, reset the hardware's.
      const DR6_DEFAULT = 0xffff0ff0 | 0;
      const hw = cpu.dr[6]! | 0;
      cpu.dr[6] = DR6_DEFAULT;
      p.debugreg[6] = ((p.debugreg[6]! | (hw & ~DR6_DEFAULT)) & (hw | ~DR6_DEFAULT)) | 0;
      bounceTrap(xen, v, 1, -1);
      return;
    }
    case 6:
      // pv_emulate_invalid_op: the forced-emulation prefix (ud2; .ascii "xen"; cpuid).
      if (emulateForcedInvalidOp(xen, v)) return;
      if (emulateFence(xen, v)) return;
      bounceTrap(xen, v, 6, -1);
      return;
    case 7:
      if (p.vTs) {
        p.vTs = false;
        xen.pv.syncTs(v);
        bounceTrap(xen, v, 7, -1);
      } else {
        // Hardware TS without the virtual one cannot happen; clear it and retry.
        xen.pv.syncTs(v);
      }
      return;
    default:
      bounceTrap(xen, v, vec, hasErrorCode(vec) ? (err < 0 ? 0 : err) : -1);
  }
}

const fenceInsn = new Uint8Array(3);

/**
 * LFENCE / MFENCE / SFENCE (0F AE E8-FF). The emulated CPU has no SSE2, so they are #UD,
 * but every CPU a real Xen runs on has them and guests use them without asking CPUID (a
 * PV time reader's rmb()). Memory is sequentially consistent here: skipping is exact.
 * Remove once the CPU implements them (docs/cpu.md, requests from the hypervisor).
 */
function emulateFence(xen: Xen, v: Vcpu): boolean {
  const cpu = v.pv!.cpu!; // SAFETY: PV vCPU
  const lin = (cpu.segBase[Seg.CS]! + cpu.eip) >>> 0;
  if (!readGuestLinear(xen, v, lin, fenceInsn, 3)) return false;
  if (fenceInsn[0] !== 0x0f || fenceInsn[1] !== 0xae || fenceInsn[2]! < 0xe8) return false;
  cpu.eip = (cpu.eip + 3) | 0;
  return true;
}

/** pv_inject_page_fault: record CR2 (virtual and in vcpu_info) and bounce #PF. */
export function injectPageFault(xen: Xen, v: Vcpu, err: number, addr: number): void {
  const p = v.pv!; // SAFETY: PV vCPU
  p.vCr2 = addr | 0;
  p.cpu!.cr2 = addr | 0; // SAFETY: PV vCPU
  if (v.vcpuInfoMa >= 0) xen.mem.view.setInt32(v.vcpuInfoMa + VCPU_INFO_ARCH_CR2, addr | 0, true);
  bounceTrap(xen, v, 14, err < 0 ? 0 : err);
}

/** The guest's register a hypercall argument / result lives in. */
export const HC_ARG_REGS = [Reg.EBX, Reg.ECX, Reg.EDX, Reg.ESI, Reg.EDI] as const;
