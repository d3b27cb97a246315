/**
 * The hypercall table (STYLE rule 5): hypercall number -> handler. A handler decodes its
 * arguments (registers, then structs through the caller's GuestMemory), checks permission,
 * calls a plain worker with typed arguments, writes OUT fields back and returns the value
 * for EAX (a -errno on failure).
 *
 * The same table serves PV vCPUs (int 0x82, arguments in EBX..EDI) and native domains
 * (the port object passes the five arguments directly): dispatch() is the one entry.
 *
 * Invariants:
 *  - Unknown or unassigned numbers return -ENOSYS; nothing a guest passes may throw out of
 *    a handler (a thrown XenBug is a hypervisor bug and propagates).
 *  - A handler that must not set EAX (iret) sets vcpu.pv.noReturn.
 */
import { ENOSYS } from '../../../abi/errno.ts';
import { NR_hypercalls } from '../../../abi/xen.ts';
import { Reg } from '../../../hw/cpu/regs.ts';
import type { Xen } from '../../xen.ts';
import type { Vcpu } from '../../common/vcpu.ts';
import { TRC_HYPERCALL } from '../../common/trace.ts';
import { HYPERCALLS } from './hypercall_table.ts';

export type HypercallFn = (xen: Xen, v: Vcpu, a1: number, a2: number, a3: number, a4: number, a5: number) => number;

/** Call hypercall `nr` for `v` with unsigned 32-bit arguments; returns the int32 result. */
export function dispatch(xen: Xen, v: Vcpu, nr: number, a1: number, a2: number, a3: number, a4: number, a5: number): number {
  xen.trace.record(TRC_HYPERCALL, (v.domain.domid << 16) | v.id, nr);
  const fn = nr >= 0 && nr < NR_hypercalls ? HYPERCALLS[nr] : undefined;
  if (fn === undefined || fn === null) return -ENOSYS;
  return fn(xen, v, a1 >>> 0, a2 >>> 0, a3 >>> 0, a4 >>> 0, a5 >>> 0) | 0;
}

/** A PV vCPU executed int 0x82 (EIP is past it). */
export function doHypercall(xen: Xen, v: Vcpu): void {
  const p = v.pv!; // SAFETY: only PV vCPUs trap here
  const r = p.cpu!.regs; // SAFETY: PV vCPU
  p.noReturn = false;
  p.continued = false;
  xen.hcWork = 0;
  xen.hcPreemptible = true;
  try {
    const ret = dispatch(xen, v, r[Reg.EAX]! >>> 0, r[Reg.EBX]!, r[Reg.ECX]!, r[Reg.EDX]!, r[Reg.ESI]!, r[Reg.EDI]!);
    if (!p.noReturn) r[Reg.EAX] = ret;
  } finally {
    xen.hcPreemptible = false;
  }
}

/**
 * Units of hypervisor work (about one page-table update each) after which a long
 * hypercall stops and continues later (Xen's hypercall_preempt_check).
 */
export const HC_PREEMPT_UNITS = 4096;
/** Virtual time a unit of hypervisor work costs when a hypercall is preempted (ns). */
const HC_UNIT_NS = 100;

/** hypercall_preempt_check: only a PV guest's own, top-level hypercall can be continued. */
export function hypercallPreemptCheck(xen: Xen): boolean {
  return xen.hcPreemptible && xen.hcWork >= HC_PREEMPT_UNITS;
}

/**
 * hypercall_create_continuation: make the guest re-issue hypercall `nr` with these
 * arguments (EIP back onto its int 0x82); the vCPU's slice ends, and the work done so
 * far is charged as virtual time, so other vCPUs, timers and the host get their turn.
 * Returns the value the handler returns (ignored: EAX is set to `nr`).
 */
export function createContinuation(xen: Xen, v: Vcpu, nr: number, a1: number, a2: number, a3 = 0, a4 = 0, a5 = 0): number {
  const p = v.pv!; // SAFETY: only PV hypercalls are preemptible (hypercallPreemptCheck)
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const r = cpu.regs;
  r[Reg.EAX] = nr;
  r[Reg.EBX] = a1 | 0;
  r[Reg.ECX] = a2 | 0;
  r[Reg.EDX] = a3 | 0;
  r[Reg.ESI] = a4 | 0;
  r[Reg.EDI] = a5 | 0;
  cpu.eip = (cpu.eip - 2) | 0;
  p.noReturn = true;
  p.continued = true;
  xen.time.advanceTo(xen.time.now() + xen.hcWork * HC_UNIT_NS);
  xen.hcWork = 0;
  return nr;
}
