/**
 * Writable page tables (Xen's ptwr, pv/ro-page-fault.c): with VMASST_TYPE_writable_pagetables
 * on, a guest kernel's write to one of its own L1 page tables through a read-only mapping
 * faults into Xen, which emulates the store: it validates the new entry exactly as
 * mmu_update would (mod_l1_entry), writes it, drops the old entry's references and steps
 * the guest past the instruction. Anything it cannot handle (another table level, a frame
 * not the guest's, an instruction outside the supported set, a refused entry) is left to
 * the caller, which reflects the #PF to the guest, as Xen does.
 *
 * Supported stores (32-bit addressing; LOCK and segment prefixes accepted, 0x66 gives a
 * 16-bit operand): MOV r/imm to r/m (89, C7 /0), XCHG (87), AND/OR/XOR r to r/m (21, 09,
 * 31), CMPXCHG (0F B1), CMPXCHG8B (0F C7 /1). Like Xen: the store must be naturally
 * aligned and inside the faulting page; a sub-entry store is merged with the rest of the
 * 8-byte entry; an upper-half 32-bit store whose result Xen would refuse is written with
 * PRESENT cleared (the guest is assumed to write the lower half next).
 */
import { Reg, Seg } from '../../../../hw/cpu/regs.ts';
import { VMASST_TYPE_writable_pagetables } from '../../../../abi/xen.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import { PGT_count_mask, PGT_l1_page_table, PGT_type_mask } from '../../../mm/frame_table.ts';
import { modL1Entry } from '../mm/mod_entry.ts';
import { _PAGE_PRESENT, _PAGE_RW, pteMfn } from '../mm/pte.ts';
import { readGuestLinear } from './traps.ts';

const insn = new Uint8Array(15);

const PFEC_PRESENT = 1, PFEC_WRITE = 2, PFEC_RSVD = 8, PFEC_FETCH = 16;
const FLAGS_ARITH = 0x8d5; // CF PF AF ZF SF OF
const ZF = 0x40;

/** Try to emulate the write behind #PF(err) at `cr2`; true if done (EIP advanced). */
export function ptwrFault(xen: Xen, v: Vcpu, err: number, cr2: number): boolean {
  const d = v.domain;
  const p = v.pv!; // SAFETY: PV vCPU
  const cpu = p.cpu!; // SAFETY: PV vCPU
  if ((err & (PFEC_PRESENT | PFEC_WRITE | PFEC_RSVD | PFEC_FETCH)) !== (PFEC_PRESENT | PFEC_WRITE)) return false;
  if (cpu.cpl === 3 || (d.vmAssist & (1 << VMASST_TYPE_writable_pagetables)) === 0) return false;
  // The guest's (read-only) mapping of the page written.
  const l1e = xen.pv.l1eMaddr(v, cr2);
  if (l1e < 0) return false;
  const view = xen.mem.view;
  const lo = view.getInt32(l1e, true), hi = view.getInt32(l1e + 4, true);
  if ((lo & (_PAGE_PRESENT | _PAGE_RW)) !== _PAGE_PRESENT) return false;
  const mfn = pteMfn(lo, hi);
  const ft = xen.mm.ft;
  if (!ft.valid(mfn) || ft.owner[mfn] !== d.domid) return false;
  const t = ft.typeInfo[mfn]!;
  if ((t & PGT_type_mask) !== PGT_l1_page_table || (t & PGT_count_mask) === 0) return false;

  // Decode the store.
  const lin0 = (cpu.segBase[Seg.CS]! + cpu.eip) >>> 0;
  if (!readGuestLinear(xen, v, lin0, insn, 1)) return false;
  readGuestLinear(xen, v, lin0, insn, 15);
  let i = 0;
  let opsize = 4;
  let seg: number = Seg.DS;
  for (; i < 5; i++) {
    const b = insn[i]!;
    if (b === 0x66) opsize = 2;
    else if (b === 0xf0) continue;
    else if (b === 0x26) seg = Seg.ES;
    else if (b === 0x2e) seg = Seg.CS;
    else if (b === 0x36) seg = Seg.SS;
    else if (b === 0x3e) seg = Seg.DS;
    else if (b === 0x64) seg = Seg.FS;
    else if (b === 0x65) seg = Seg.GS;
    else break;
  }
  let op = insn[i++]!;
  let twoByte = false;
  if (op === 0x0f) {
    twoByte = true;
    op = insn[i++]!;
  }
  const modrm = insn[i++]!;
  const mod = modrm >>> 6, reg = (modrm >>> 3) & 7, rm = modrm & 7;
  if (mod === 3) return false;
  const r = cpu.regs;
  // 32-bit effective address.
  let ea = 0;
  let base = rm;
  let defaultSs = false;
  if (rm === 4) {
    const sib = insn[i++]!;
    const scale = sib >>> 6, index = (sib >>> 3) & 7;
    base = sib & 7;
    if (index !== 4) ea = r[index]! << scale;
    if (base === 5 && mod === 0) base = -1; // disp32, no base

  } else if (rm === 5 && mod === 0) {
    base = -1;
  }
  if (base >= 0) {
    ea += r[base]!;
    if (base === Reg.ESP || base === Reg.EBP) defaultSs = true;
  }
  if (mod === 1) {
    ea += (insn[i]! << 24) >> 24;
    i += 1;
  } else if (mod === 2 || base === -1) {
    ea += insn[i]! | (insn[i + 1]! << 8) | (insn[i + 2]! << 16) | (insn[i + 3]! << 24);
    i += 4;
  }
  if (seg === Seg.DS && defaultSs) seg = Seg.SS;

  // The operation: bytes written, the value (lo/hi halves), and a compare for cmpxchg.
  let bytes = opsize;
  let vlo = 0, vhi = 0;
  let kind: 'mov' | 'xchg' | 'cmpxchg' | 'and' | 'or' | 'xor';
  const regVal = (n: number): number => (opsize === 2 ? r[n]! & 0xffff : r[n]! | 0);
  if (!twoByte && op === 0x89) {
    kind = 'mov';
    vlo = regVal(reg);
  } else if (!twoByte && op === 0xc7 && reg === 0) {
    kind = 'mov';
    vlo = opsize === 2 ? insn[i]! | (insn[i + 1]! << 8) : insn[i]! | (insn[i + 1]! << 8) | (insn[i + 2]! << 16) | (insn[i + 3]! << 24);
    i += opsize;
  } else if (!twoByte && op === 0x87) {
    kind = 'xchg';
    vlo = regVal(reg);
  } else if (!twoByte && (op === 0x21 || op === 0x09 || op === 0x31)) {
    kind = op === 0x21 ? 'and' : op === 0x09 ? 'or' : 'xor';
    vlo = regVal(reg);
  } else if (twoByte && op === 0xb1) {
    kind = 'cmpxchg';
    vlo = regVal(reg);
  } else if (twoByte && op === 0xc7 && reg === 1) {
    kind = 'cmpxchg';
    bytes = 8;
    vlo = r[Reg.EBX]! | 0;
    vhi = r[Reg.ECX]! | 0;
  } else {
    return false;
  }
  const lin = (cpu.segBase[seg]! + ea) >>> 0;
  // Naturally aligned, inside the faulting page.
  if (((lin ^ cr2) & ~0xfff) !== 0 || (lin & (bytes - 1)) !== 0) return false;

  // The 8-byte entry written, before and after.
  const ma = mfn * 4096 + (lin & 0xff8);
  const olo = view.getInt32(ma, true), ohi = view.getInt32(ma + 4, true);
  const off = lin & 7;
  const width = bytes === 8 ? 0 : bytes === 4 ? 0xffffffff : 0xffff;
  const cur = bytes === 8 ? 0 : off >= 4 ? (ohi >>> ((off - 4) * 8)) & width : (olo >>> (off * 8)) & width;
  let result = vlo;
  if (kind === 'and') result = cur & vlo;
  else if (kind === 'or') result = cur | vlo;
  else if (kind === 'xor') result = cur ^ vlo;
  if (kind === 'cmpxchg') {
    const expectLo = bytes === 8 ? r[Reg.EAX]! | 0 : opsize === 2 ? r[Reg.EAX]! & 0xffff : r[Reg.EAX]! | 0;
    const equal = bytes === 8 ? olo === expectLo && ohi === (r[Reg.EDX]! | 0) : (cur | 0) === (expectLo | 0);
    if (!equal) {
      // No store: the accumulator gets the current value, ZF clear.
      if (bytes === 8) {
        r[Reg.EAX] = olo;
        r[Reg.EDX] = ohi;
      } else if (opsize === 2) {
        r[Reg.EAX] = (r[Reg.EAX]! & ~0xffff) | cur;
      } else {
        r[Reg.EAX] = cur | 0;
      }
      cpu.setEflags(cpu.getEflags() & ~ZF);
      cpu.eip = (cpu.eip + i) | 0;
      return true;
    }
  }
  let nlo = olo, nhi = ohi;
  if (bytes === 8) {
    nlo = vlo;
    nhi = vhi;
  } else if (off >= 4) {
    const sh = (off - 4) * 8;
    nhi = ((ohi & ~(width << sh)) | ((result & width) << sh)) | 0;
  } else {
    const sh = off * 8;
    nlo = ((olo & ~(width << sh)) | ((result & width) << sh)) | 0;
  }
  let rc = modL1Entry(xen.pageTypes, ma, nlo, nhi, false, d.domid, d.domid);
  if (rc !== 0 && bytes === 4 && off === 4 && kind === 'mov' && (nlo & _PAGE_PRESENT) !== 0) {
    // An upper half written first: keep it, not present, until the lower half follows.
    rc = modL1Entry(xen.pageTypes, ma, nlo & ~_PAGE_PRESENT, nhi, false, d.domid, d.domid);
  }
  if (rc !== 0) return false;

  // Instruction results.
  if (kind === 'xchg') {
    if (opsize === 2) r[reg] = (r[reg]! & ~0xffff) | cur;
    else r[reg] = cur | 0;
  } else if (kind === 'cmpxchg') {
    cpu.setEflags(cpu.getEflags() | ZF);
  } else if (kind === 'and' || kind === 'or' || kind === 'xor') {
    const res = result & width;
    const sign = opsize === 2 ? 0x8000 : 0x80000000;
    let f = cpu.getEflags() & ~FLAGS_ARITH;
    if (res === 0) f |= ZF;
    if ((res & sign) !== 0) f |= 0x80;
    let b = res & 0xff;
    b ^= b >>> 4;
    b ^= b >>> 2;
    b ^= b >>> 1;
    if ((b & 1) === 0) f |= 0x4;
    cpu.setEflags(f);
  }
  cpu.eip = (cpu.eip + i) | 0;
  return true;
}
