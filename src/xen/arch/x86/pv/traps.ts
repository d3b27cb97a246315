/**
 * Delivering exceptions, software interrupts and event upcalls to a PV kernel: the bounce
 * frame Xen builds on the guest's kernel stack (hypercalls-x86_32.md §4.4), and
 * set_trap_table.
 *
 * Bounce frame, from the new ESP upward:
 *   [DS ES FS GS]          failsafe callback only
 *   [error code]           exceptions that have one
 *   EIP
 *   CS | saved upcall mask << 16
 *   EFLAGS (IF = !saved mask, IOPL cleared)
 *   [ESP SS]               only when the interrupted context was ring 3 (user)
 * The stack is the current SS:ESP when interrupted in ring 1, else kernel_ss:kernel_sp
 * (stack_switch). Then CS:EIP = the handler (RPL forced to 1), TF/NT/RF/VM cleared, and
 * the upcall mask set for event callbacks, IF-flagged traps and masking callbacks.
 *
 * Invariants:
 *  - A frame that cannot be written, or a handler that cannot be loaded, crashes the
 *    domain (Xen: "failed to create bounce frame"); the hypervisor itself never faults.
 *  - The guest state is left consistent: either the whole delivery happened or the
 *    domain is crashed.
 */
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import { TRC_TRAP } from '../../../common/trace.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { guestWalk } from './guest_walk.ts';

/** Bounce kinds. */
export const TBF_EXCEPTION = 1;
export const TBF_EXCEPTION_ERRCODE = 2;
export const TBF_INTERRUPT = 4;
export const TBF_FAILSAFE = 8;

const EFLAGS_TF = 1 << 8, EFLAGS_IF = 1 << 9, EFLAGS_IOPL = 3 << 12, EFLAGS_NT = 1 << 14, EFLAGS_RF = 1 << 16;
const EFLAGS_VM = 1 << 17;

/** Exceptions whose bounce carries an error code. */
export function hasErrorCode(vec: number): boolean {
  return vec === 8 || (vec >= 10 && vec <= 14) || vec === 17;
}

const frame = new Int32Array(12);
const frameBytes = new Uint8Array(frame.buffer);

/**
 * Build a bounce frame for the current guest context and enter `cs:eip`.
 * `errorCode` is pushed when flags has TBF_EXCEPTION_ERRCODE. Returns false (after
 * crashing the domain) if the frame could not be built.
 */
export function createBounceFrame(xen: Xen, v: Vcpu, cs: number, eip: number, flags: number, errorCode: number,
  maskEvents: boolean): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const d = v.domain;
  if ((cs & 0xfffc) === 0) {
    xen.crashDomain(d, `no handler for the bounce (cs:eip ${hex(cs)}:${hex(eip)})`);
    return false;
  }
  const fromUser = cpu.cpl === 3;
  const oldMask = xen.evtBits.upcallMasked(v) ? 1 : 0;
  let eflags = cpu.getEflags();
  const ss = fromUser ? p.kernelSs : cpu.segSel[Seg.SS]! & 0xffff;
  let esp = fromUser ? p.kernelSp : cpu.regs[Reg.ESP]! >>> 0;
  if (fromUser && (ss & 0xfffc) === 0) {
    xen.crashDomain(d, 'no kernel stack (stack_switch) for a bounce from user mode');
    return false;
  }
  let n = 0;
  if ((flags & TBF_FAILSAFE) !== 0) {
    frame[n++] = cpu.segSel[Seg.DS]! & 0xffff;
    frame[n++] = cpu.segSel[Seg.ES]! & 0xffff;
    frame[n++] = cpu.segSel[Seg.FS]! & 0xffff;
    frame[n++] = cpu.segSel[Seg.GS]! & 0xffff;
  }
  if ((flags & TBF_EXCEPTION_ERRCODE) !== 0) frame[n++] = errorCode;
  frame[n++] = cpu.eip;
  frame[n++] = (cpu.segSel[Seg.CS]! & 0xffff) | (oldMask << 16);
  frame[n++] = (eflags & ~(EFLAGS_IF | EFLAGS_IOPL)) | (oldMask === 0 ? EFLAGS_IF : 0);
  if (fromUser) {
    frame[n++] = cpu.regs[Reg.ESP]!;
    frame[n++] = cpu.segSel[Seg.SS]! & 0xffff;
  }
  // The frame goes through the kernel stack segment (its base; flat for every real guest).
  const ssBase = fromUser ? segBaseOf(xen, v, ss) : cpu.segBase[Seg.SS]! >>> 0;
  if (ssBase < 0) {
    xen.crashDomain(d, `bad kernel stack segment ${hex(ss)}`);
    return false;
  }
  esp = (esp - n * 4) >>> 0;
  if (!writeGuestLinear(xen, v, (ssBase + esp) >>> 0, frameBytes, n * 4)) {
    xen.crashDomain(d, `failed to write the bounce frame at ${hex(ss)}:${hex(esp)}`);
    return false;
  }
  // Enter the handler in ring 1.
  const handlerCs = (cs & ~3) | 1;
  if (cpu.loadSegment(Seg.CS, handlerCs) !== null) {
    xen.crashDomain(d, `bad handler code selector ${hex(cs)}`);
    return false;
  }
  if (fromUser && cpu.loadSegment(Seg.SS, ss) !== null) {
    xen.crashDomain(d, `bad kernel stack selector ${hex(ss)}`);
    return false;
  }
  cpu.regs[Reg.ESP] = esp | 0;
  cpu.eip = eip | 0;
  eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM | EFLAGS_IOPL);
  cpu.setEflags(eflags | EFLAGS_IF);
  if (maskEvents) xen.evtBits.setUpcallMask(v, true);
  return true;
}

/** Deliver exception/interrupt `vector` through the guest's trap table. */
export function bounceTrap(xen: Xen, v: Vcpu, vector: number, errorCode: number): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  const t = p.traps;
  const csFlags = t[vector * 2]!;
  const eip = t[vector * 2 + 1]!;
  xen.trace.record(TRC_TRAP, (v.domain.domid << 16) | v.id, vector);
  if (eip === 0 && (csFlags >>> 16) === 0) {
    xen.crashDomain(v.domain, `unhandled trap ${vector}${errorCode >= 0 ? ` (error ${hex(errorCode)})` : ''} at ` +
      `${hex(p.cpu!.segSel[Seg.CS]! & 0xffff)}:${hex(p.cpu!.eip)}`); // SAFETY: PV vCPU
    return false;
  }
  const flags = errorCode >= 0 ? TBF_EXCEPTION | TBF_EXCEPTION_ERRCODE : TBF_EXCEPTION;
  const maskEvents = (csFlags & 4) !== 0;
  return createBounceFrame(xen, v, csFlags >>> 16, eip, flags, errorCode, maskEvents);
}

/** The event upcall: deliver if unmasked and pending (on every return to the guest). */
export function checkEvents(xen: Xen, v: Vcpu): void {
  const p = v.pv!; // SAFETY: PV vCPU
  if (p.nmiPending && !p.nmiMasked && p.nmiEip !== 0) {
    p.nmiPending = false;
    p.nmiMasked = true;
    createBounceFrame(xen, v, 0xe019, p.nmiEip, TBF_INTERRUPT, -1, false);
    return;
  }
  if (xen.evtBits.upcallMasked(v) || !xen.evtBits.upcallPending(v)) return;
  if (p.eventEip === 0 && (p.eventCs & 0xfffc) === 0) return;
  createBounceFrame(xen, v, p.eventCs, p.eventEip, TBF_INTERRUPT, -1, true);
}

/** The base of a data/stack selector in v's GDT/LDT shadow (-1 if not usable). */
function segBaseOf(xen: Xen, v: Vcpu, sel: number): number {
  const cpu = v.pv!.cpu!; // SAFETY: PV vCPU
  if ((sel & 0xfffc) === 0) return -1;
  const tableBase = (sel & 4) !== 0 ? cpu.segBase[Seg.LDTR]! >>> 0 : cpu.gdtBase >>> 0;
  const lin = (tableBase + (sel & ~7)) >>> 0;
  const l3 = v.pv!.guestTable; // SAFETY: PV vCPU
  if (l3 === 0) return -1;
  const ma = guestWalk(xen.mem, l3 * 4096, lin, false);
  if (ma < 0) return -1;
  const lo = xen.mem.view.getInt32(ma, true), hi = xen.mem.view.getInt32(ma + 4, true);
  if ((hi & 0x8000) === 0) return -1;
  return (((hi & 0xff000000) | ((hi & 0xff) << 16) | (lo >>> 16)) >>> 0);
}

/** Write bytes at a guest linear address with supervisor rights (kernel stack writes). */
export function writeGuestLinear(xen: Xen, v: Vcpu, lin: number, src: Uint8Array, len: number): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  if (p.guestTable === 0) return false;
  const l3 = p.guestTable * 4096;
  let done = 0;
  while (done < len) {
    const va = (lin + done) >>> 0;
    const n = Math.min(len - done, 4096 - (va & 0xfff));
    if (guestWalk(xen.mem, l3, va, true) < 0) return false;
    done += n;
  }
  done = 0;
  while (done < len) {
    const va = (lin + done) >>> 0;
    const n = Math.min(len - done, 4096 - (va & 0xfff));
    const ma = guestWalk(xen.mem, l3, va, true);
    xen.mem.u8.set(src.subarray(done, done + n), ma);
    xen.mem.notifyWritten(ma, n);
    done += n;
  }
  return true;
}

/** Read bytes at a guest linear address with supervisor rights; false on a fault. */
export function readGuestLinear(xen: Xen, v: Vcpu, lin: number, dst: Uint8Array, len: number): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  if (p.guestTable === 0) return false;
  const l3 = p.guestTable * 4096;
  let done = 0;
  while (done < len) {
    const va = (lin + done) >>> 0;
    const n = Math.min(len - done, 4096 - (va & 0xfff));
    const ma = guestWalk(xen.mem, l3, va, false);
    if (ma < 0) return false;
    dst.set(xen.mem.u8.subarray(ma, ma + n), done);
    done += n;
  }
  return true;
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}
