/**
 * Call-gate emulation for 32-bit PV guests (Xen's pv/emul-gate-op.c). check_descriptor
 * stores every guest call gate with DPL 0 and its real DPL in the target selector's RPL,
 * so each far CALL/JMP through one faults with #GP(gate selector) and lands here.
 *
 * Emulated: `lcall $sel,$off` (9A), `ljmp $sel,$off` (EA) and their indirect forms
 * (FF /3, FF /5 with a memory operand, 32-bit addressing). A call to a more privileged
 * (ring-1) code segment switches to the kernel stack (stack_switch) and copies the gate's
 * parameter count of dwords, as the hardware would with TSS.ss1:esp1. Faults along the
 * way are delivered to the guest as the hardware would raise them (#GP, #NP, #TS, #SS,
 * #PF); anything not a call-gate use is #GP with the original error code.
 */
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import { FIRST_RESERVED_GDT_BYTE } from '../../../../abi/arch_x86_32.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { bounceTrap, readGuestLinear, writeGuestLinear } from './traps.ts';
import { injectPageFault } from './pv_run.ts';
import { PvGuestMemory } from './pv_guest_memory.ts';

const buf = new Uint8Array(16);
const view = new DataView(buf.buffer);
const dword = new Uint8Array(4);
const dwordView = new DataView(dword.buffer);

const SEG_P = 0x8000, SEG_S = 0x1000, SEG_CODE = 0x800, SEG_EC = 0x400, SEG_WR = 0x200, SEG_DB = 0x400000;

interface Desc { base: number; limit: number; ar: number; lo: number; hi: number }

/** Read a descriptor from the vCPU's GDT/LDT area; null if out of range or unreadable. */
function readDesc(xen: Xen, v: Vcpu, sel: number): Desc | null {
  const cpu = v.pv!.cpu!; // SAFETY: PV vCPU
  const ldt = (sel & 4) !== 0;
  const base = ldt ? cpu.segBase[Seg.LDTR]! >>> 0 : cpu.gdtBase >>> 0;
  const limit = ldt ? cpu.segLimit[Seg.LDTR]! >>> 0 : cpu.gdtLimit >>> 0;
  if (ldt && (cpu.segAttr[Seg.LDTR]! & 0x10000) !== 0) return null;
  if ((sel & 0xfff8) + 7 > limit) return null;
  if (!readGuestLinear(xen, v, (base + (sel & 0xfff8)) >>> 0, buf, 8)) return null;
  const lo = view.getUint32(0, true), hi = view.getUint32(4, true);
  let lim = ((hi & 0xf0000) | (lo & 0xffff)) >>> 0;
  if ((hi & 0x800000) !== 0) lim = ((lim * 4096) + 0xfff) >>> 0;
  return { base: ((hi & 0xff000000) | ((hi & 0xff) << 16) | (lo >>> 16)) >>> 0, limit: lim, ar: hi & 0xf0ff00, lo, hi };
}

function stackOk(ar: number, limit: number, esp: number, bytes: number): boolean {
  if ((ar & SEG_EC) !== 0) { // expand-down
    const top = (ar & SEG_DB) !== 0 ? 0xffffffff : 0xffff;
    return ((esp - bytes) >>> 0) > limit && esp - 1 <= top;
  }
  return esp - 1 <= limit && esp >= bytes;
}

/** Effective address of a 32-bit ModRM memory operand at insn[pos]; returns [ea, seg, length] or null. */
function modrmEa(cpu: NonNullable<NonNullable<Vcpu['pv']>['cpu']>, pos: number, segOverride: number): [number, number, number] | null {
  const modrm = buf[pos]!;
  const mod = modrm >>> 6, rm = modrm & 7;
  if (mod === 3) return null;
  let len = 1;
  let ea = 0;
  let seg: number = Seg.DS;
  const r = cpu.regs;
  if (rm === 4) {
    const sib = buf[pos + 1]!;
    len++;
    const scale = sib >>> 6, idx = (sib >>> 3) & 7, b = sib & 7;
    if (idx !== 4) ea += r[idx]! << scale;
    if (b === 5 && mod === 0) {
      ea += view.getInt32(pos + len, true);
      len += 4;
    } else {
      ea += r[b]!;
      if (b === 4 || b === 5) seg = Seg.SS;
    }
  } else if (rm === 5 && mod === 0) {
    ea = view.getInt32(pos + 1, true);
    len += 4;
  } else {
    ea = r[rm]!;
    if (rm === 5) seg = Seg.SS;
  }
  if (mod === 1) {
    ea += view.getInt8(pos + len);
    len += 1;
  } else if (mod === 2) {
    ea += view.getInt32(pos + len, true);
    len += 4;
  }
  return [ea >>> 0, segOverride >= 0 ? segOverride : seg, len];
}

export function emulateGateOp(xen: Xen, v: Vcpu, err: number): boolean {
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  const r = cpu.regs;
  const cpl = cpu.cpl;
  const gp = (code: number): boolean => bounceTrap(xen, v, 13, code) || true;
  // The gate descriptor.
  const gsel = err & 0xfffc;
  if (gsel < 4 || (gsel >= FIRST_RESERVED_GDT_BYTE && (gsel & 4) === 0)) return gp(err);
  const g = readDesc(xen, v, gsel);
  if (g === null || ((g.hi >>> 8) & 0x1f) !== 0x0c) return gp(err);
  const dpl = (g.lo >>> 16) & 3; // the real DPL lives in the target selector's RPL
  if (dpl < cpl) return gp(err);
  if ((g.hi & SEG_P) === 0) return bounceTrap(xen, v, 11, err) || true;
  let sel = (g.lo >>> 16) & 0xfffc;
  const off = ((g.lo & 0xffff) | (g.hi & 0xffff0000)) >>> 0;
  const nparm = g.hi & 0x1f;
  // Decode the faulting instruction.
  const lin = (cpu.segBase[Seg.CS]! + cpu.eip) >>> 0;
  if (!readGuestLinear(xen, v, lin, buf, 1)) return gp(err);
  readGuestLinear(xen, v, lin, buf, 15);
  let i = 0;
  let segOverride = -1;
  let opsize = 4;
  const SEG_PREFIX: Record<number, number> = { 0x26: Seg.ES, 0x2e: Seg.CS, 0x36: Seg.SS, 0x3e: Seg.DS, 0x64: Seg.FS, 0x65: Seg.GS };
  for (; i < 4; i++) {
    const b = buf[i]!;
    if (b === 0x66) opsize = 2;
    else if (SEG_PREFIX[b] !== undefined) segOverride = SEG_PREFIX[b]!;
    else break;
  }
  const op = buf[i++]!;
  let jump = -1;
  let opndSel = 0;
  let len = 0;
  if (op === 0x9a || op === 0xea) {
    jump = op === 0xea ? 1 : 0;
    opndSel = view.getUint16(i + opsize, true);
    len = i + opsize + 2;
  } else if (op === 0xff) {
    const reg = (buf[i]! >>> 3) & 7;
    if (reg !== 3 && reg !== 5) return gp(err);
    jump = reg === 5 ? 1 : 0;
    const m = modrmEa(cpu, i, segOverride);
    if (m === null) return gp(err);
    len = i + m[2];
    const addr = (cpu.segBase[m[1]]! + m[0] + opsize) >>> 0;
    if (!readGuestLinear(xen, v, addr, dword, 2)) {
      injectPageFault(xen, v, 0, addr);
      return true;
    }
    opndSel = dwordView.getUint16(0, true);
  } else {
    return gp(err);
  }
  if ((opndSel & ~3) !== gsel || dpl < (opndSel & 3)) return gp(err);
  // The target code segment.
  const t = readDesc(xen, v, sel);
  const tdpl = t === null ? 0 : (t.hi >>> 13) & 3;
  if (t === null || (t.hi & SEG_S) === 0 || (t.hi & SEG_CODE) === 0 ||
      (jump === 0 || (t.hi & SEG_EC) !== 0 ? tdpl > cpl : tdpl !== cpl)) return gp(sel);
  if ((t.hi & SEG_P) === 0) return bounceTrap(xen, v, 11, sel) || true;
  if (off > t.limit) return gp(0);
  if (jump === 0) {
    let ss: number;
    let esp: number;
    const frame: number[] = [];
    if (tdpl < cpl) {
      sel |= tdpl;
      if ((sel & 3) !== 1) return gp(err);
      esp = p.kernelSp >>> 0;
      ss = p.kernelSs;
      const s = readDesc(xen, v, ss);
      if ((ss & 3) !== (sel & 3) || s === null || ((s.hi >>> 13) & 3) !== (sel & 3) || (s.hi & SEG_S) === 0 ||
          (s.hi & SEG_CODE) !== 0 || (s.hi & SEG_WR) === 0) return bounceTrap(xen, v, 10, ss & ~3) || true;
      if ((s.hi & SEG_P) === 0 || !stackOk(s.hi, s.limit, esp, (4 + nparm) * 4)) {
        return bounceTrap(xen, v, 12, ss & ~3) || true;
      }
      frame.push(cpu.segSel[Seg.SS]! & 0xffff, r[Reg.ESP]!);
      if (nparm > 0) {
        const ubase = cpu.segBase[Seg.SS]! >>> 0;
        for (let k = nparm - 1; k >= 0; k--) {
          const a = (ubase + r[Reg.ESP]! + k * 4) >>> 0;
          if (!readGuestLinear(xen, v, a, dword, 4)) {
            injectPageFault(xen, v, 0, a);
            return true;
          }
          frame.push(dwordView.getUint32(0, true));
        }
      }
      esp = (esp + s.base) >>> 0;
    } else {
      sel |= cpl;
      esp = r[Reg.ESP]! >>> 0;
      ss = cpu.segSel[Seg.SS]! & 0xffff;
      const s = readDesc(xen, v, ss);
      if (s === null || ((s.hi >>> 13) & 3) !== (sel & 3)) return gp(err);
      if (!stackOk(s.hi, s.limit, esp, 8)) return bounceTrap(xen, v, 12, 0) || true;
      esp = (esp + s.base) >>> 0;
    }
    frame.push(cpu.segSel[Seg.CS]! & 0xffff, (cpu.eip + len) | 0);
    // Write the frame top-down: the first pushed item is at the highest address.
    const n = frame.length;
    const bytes = new Uint8Array(n * 4);
    const bv = new DataView(bytes.buffer);
    for (let k = 0; k < n; k++) bv.setUint32((n - 1 - k) * 4, frame[k]! >>> 0, true);
    const dst = (esp - n * 4) >>> 0;
    if (!PvGuestMemory.ok(dst, n * 4)) return gp(err);
    if (!writeGuestLinear(xen, v, dst, bytes, n * 4)) {
      injectPageFault(xen, v, 2, dst);
      return true;
    }
    const newCs = sel;
    if (cpu.loadSegment(Seg.CS, newCs) !== null) return gp(sel);
    if (tdpl < cpl && cpu.loadSegment(Seg.SS, ss) !== null) return bounceTrap(xen, v, 10, ss & ~3) || true;
    const ssBase = cpu.segBase[Seg.SS]! >>> 0;
    r[Reg.ESP] = (dst - ssBase) | 0;
  } else {
    sel |= cpl;
    if (cpu.loadSegment(Seg.CS, sel) !== null) return gp(sel);
  }
  cpu.eip = off | 0;
  return true;
}
