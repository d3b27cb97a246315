/**
 * Linear -> machine translation: the page walk behind the TLB (tlb.ts).
 *
 * Covers paging off (A20 mask only), 32-bit paging with 4 KiB pages and PSE 4 MiB pages,
 * and PAE paging (PDPTEs cached at CR3 load, 2 MiB pages, NX with EFER.NXE), global pages,
 * CR0.WP, accessed/dirty bits, reserved-bit checks, and exact #PF error codes and CR2. For
 * an HVM CPU every guest-physical address (table entries and the final page) goes through
 * the second stage (ExecControls.p2m); a missing or forbidden entry is an EPT_VIOLATION exit.
 *
 * Access kind bits (`acc`): ACC_WRITE 2, ACC_USER 4 (a CPL-3 access that is not an implicit
 * supervisor access), ACC_FETCH 16 -- the positions of the #PF error code's W, U and I bits,
 * so the error code is `acc | present | rsvd` (I only under PAE with NXE).
 *
 * Accessed/dirty (as QEMU and the SDM do it): A is set in each non-leaf entry as the walk
 * passes it, and in the leaf only when the access is allowed; D is set in the leaf on an
 * allowed write. A translation filled by a read of a clean page is entered write-protected
 * (ROUSER|ROSUP), so the first write comes back here and sets D.
 *
 * Reserved bits: PAE entries above MAXPHYADDR (36; in PV mode bits 62:52 are ignored, as a
 * 64-bit hypervisor's long-mode walk does) and NX without EFER.NXE, bits 20:13 of
 * a PAE 2 MiB PDE; 32-bit PSE PDEs with MAXPHYADDR 32 ignore bits 20:13 (no PSE-36) and
 * treat bit 21 as reserved.
 */
import type { Cpu } from './cpu.ts';
import { ExecMode } from './exit.ts';
import { raise, raiseExit, raisePF } from './fault.ts';
import { T_CODE, T_GLOBAL, T_HOLE, T_MMIO, T_NOUSER, T_NX, T_ROSUP, T_ROUSER, T_VALID } from './tlb.ts';

export const ACC_WRITE = 2;
export const ACC_USER = 4;
export const ACC_FETCH = 16;
/** An implicit supervisor access by the CPU itself (descriptor tables, TSS): not in the error code. */
export const ACC_IMPLICIT = 32;

const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80, PTE_G = 0x100;
const PF_P = 1, PF_RSVD = 8;
/** PAE entry high-word bits 62:36 (above MAXPHYADDR 36), reserved. */
const PAE_HI_RSVD = 0x7ffffff0;
/**
 * PV: bits 51:36 only. A 64-bit Xen walks a PV guest's PAE tables in long mode, where bits
 * 62:52 of PDEs/PTEs are ignored (software-available); PV guests may set them.
 */
const PAE_HI_RSVD_PV = 0x000ffff0;

/** True if the valid entry `e` allows access `acc` as it stands (no walk needed). */
export function entryAllows(e: number, acc: number): boolean {
  if ((acc & ACC_USER) !== 0 && (e & T_NOUSER) !== 0) return false;
  if ((acc & ACC_WRITE) !== 0 && (e & ((acc & ACC_USER) !== 0 ? T_ROUSER : T_ROSUP)) !== 0) return false;
  if ((acc & ACC_FETCH) !== 0 && (e & T_NX) !== 0) return false;
  return true;
}

/**
 * The TLB entry for `lin` allowing access `acc`, filling the TLB from a page walk if
 * needed. Throws #PF (or an EPT_VIOLATION exit) when the access is not allowed.
 */
export function translate(cpu: Cpu, lin: number, acc: number): number {
  const vpn = lin >>> 12;
  const hole = (lin >>> 0) >= cpu.controls.pvHoleStart;
  // PV: the hypervisor's part of the address space is not there for the guest's own accesses
  if (hole && (acc & ACC_IMPLICIT) === 0 && cpu.cpl !== 0) holeFault(cpu, lin, acc);
  const cur = cpu.tlbE[vpn]!;
  if (cur !== 0 && entryAllows(cur, acc)) return cur;
  let e = walk(cpu, lin, acc);
  if (hole) e |= T_HOLE;
  cpu.tlb.set(vpn, e);
  return e;
}

/** Machine address for `lin` (int32; may be negative for MMIO above 2 GiB). */
export function translateAddr(cpu: Cpu, lin: number, acc: number): number {
  return (translate(cpu, lin, acc) & ~0xfff) ^ lin;
}

/** Guest-physical -> machine frame base, through the p2m for HVM. Exits on violation. */
function secondStage(cpu: Cpu, gpa: number, acc: number, lin: number): number {
  const p2m = cpu.controls.p2m;
  if (p2m === null) return gpa & cpu.a20Mask;
  gpa &= cpu.a20Mask;
  const gfnIdx = gpa >>> 12;
  const ent = gfnIdx < p2m.length ? p2m[gfnIdx]! : 0;
  const need = (acc & ACC_FETCH) !== 0 ? 4 : (acc & ACC_WRITE) !== 0 ? 2 : 1;
  if ((ent & need) === 0) {
    const x = cpu.exit;
    x.reset(13 /* EPT_VIOLATION */);
    x.gpa = gpa;
    x.access = need;
    x.cr2 = lin;
    raiseExit(cpu, 13);
  }
  return ((ent >>> 4) << 12) | (gpa & 0xfff);
}

function readTable32(cpu: Cpu, ma: number): number {
  return ma >= 0 && ma + 4 <= cpu.mem.size ? cpu.memView.getInt32(ma, true) : -1;
}

/**
 * Store a paging entry whose A/D bits the walk sets. Under a second stage the store is a
 * write to the table's guest frame (as VMX counts A/D updates), so a read-only p2m entry
 * (a write-protected or log-dirty page table) exits before the entry changes.
 */
function setTableBits(cpu: Cpu, gpa: number, ma: number, value: number, lin: number): void {
  if (cpu.controls.p2m !== null) secondStage(cpu, gpa, ACC_WRITE, lin);
  if (ma >= 0 && ma + 4 <= cpu.mem.size) {
    cpu.memView.setInt32(ma, value, true);
    if (cpu.mem.codeLines[ma >>> 12] !== 0) cpu.mem.notifyWritten(ma, 4);
  }
}

/** Flags for the final machine frame: MMIO if not RAM, CODE if it holds decoded code. */
function frameFlags(cpu: Cpu, ma: number): number {
  if (ma < 0 || ma >= cpu.mem.size || cpu.mmioFrame(ma)) return T_MMIO;
  return cpu.mem.codeLines[ma >>> 12] !== 0 ? T_CODE : 0;
}

function pageFault(cpu: Cpu, lin: number, acc: number, bits: number): never {
  return raisePF(cpu, lin, pfErrorCode(cpu, acc, bits));
}

function pfErrorCode(cpu: Cpu, acc: number, bits: number): number {
  // I (fetch) is reported only where instruction fetches can be told apart: PAE with NXE.
  let err = (acc & (ACC_WRITE | ACC_USER)) | bits;
  if ((acc & ACC_FETCH) !== 0 && (cpu.cr4 & 0x20) !== 0 && (cpu.efer & 0x800) !== 0) err |= ACC_FETCH;
  return err;
}

/**
 * A not-present #PF for the guest's own access into the hypervisor hole, flagged so the
 * hypervisor can tell it from its implicit descriptor-table faults at the same addresses.
 */
function holeFault(cpu: Cpu, lin: number, acc: number): never {
  cpu.excCr2 = lin | 0;
  cpu.excHole = true;
  return raise(cpu, 14, pfErrorCode(cpu, acc, 0));
}

/** Walk the page tables for `lin` and build a TLB entry, or fault. */
export function walk(cpu: Cpu, lin: number, acc: number): number {
  const vpage = lin & ~0xfff;
  if ((cpu.cr0 & 0x80000000) === 0) {
    const ma = secondStage(cpu, lin, acc, lin) & ~0xfff;
    let e = ((ma ^ vpage) & ~0xfff) | T_VALID | frameFlags(cpu, ma);
    if (cpu.controls.p2m !== null) e |= p2mRestrict(cpu, vpage);
    return e;
  }
  return (cpu.cr4 & 0x20) !== 0 ? walkPae(cpu, lin, acc) : walk32(cpu, lin, acc);
}

/** TLB restrictions from the p2m permissions of the final guest frame (HVM). */
function p2mRestrict(cpu: Cpu, gpaPage: number): number {
  const p2m = cpu.controls.p2m!; // SAFETY: callers check p2m !== null
  const idx = (gpaPage & cpu.a20Mask) >>> 12;
  const ent = idx < p2m.length ? p2m[idx]! : 0;
  let r = 0;
  if ((ent & 2) === 0) r |= T_ROUSER | T_ROSUP;
  if ((ent & 4) === 0) r |= T_NX;
  return r;
}

function finish(cpu: Cpu, lin: number, acc: number, gpaPage: number, user: boolean, writable: boolean, nx: boolean,
  global: boolean, dirty: boolean): number {
  // Permission checks, in the order the #PF error code needs (all are protection faults).
  if ((acc & ACC_USER) !== 0 && !user) pageFault(cpu, lin, acc, PF_P);
  if ((acc & ACC_WRITE) !== 0 && !writable && ((acc & ACC_USER) !== 0 || (cpu.cr0 & 0x10000) !== 0)) {
    pageFault(cpu, lin, acc, PF_P);
  }
  if ((acc & ACC_FETCH) !== 0 && nx) pageFault(cpu, lin, acc, PF_P);
  return gpaPage | (user ? 0 : T_NOUSER) | (writable && dirty ? 0 : T_ROUSER) |
    ((writable || (cpu.cr0 & 0x10000) === 0) && dirty ? 0 : T_ROSUP) | (nx ? T_NX : 0) |
    (global && (cpu.cr4 & 0x80) !== 0 ? T_GLOBAL : 0);
}

function walk32(cpu: Cpu, lin: number, acc: number): number {
  const pdeGpa = (cpu.cr3 & ~0xfff) | ((lin >>> 22) << 2);
  const pdeMa = secondStage(cpu, pdeGpa, 0, lin);
  let pde = readTable32(cpu, pdeMa);
  if ((pde & PTE_P) === 0) pageFault(cpu, lin, acc, 0);
  const write = (acc & ACC_WRITE) !== 0;
  if ((pde & PTE_PS) !== 0 && (cpu.cr4 & 0x10) !== 0) {
    if ((pde & 0x200000) !== 0) pageFault(cpu, lin, acc, PF_P | PF_RSVD);
    const user = (pde & PTE_US) !== 0, writable = (pde & PTE_RW) !== 0;
    const gpaPage = ((pde & 0xffc00000) | (lin & 0x3ff000)) | 0;
    const e = finish(cpu, lin, acc, 0, user, writable, false, (pde & PTE_G) !== 0, (pde & PTE_D) !== 0 || write);
    const nb = pde | PTE_A | (write ? PTE_D : 0);
    if (nb !== pde) setTableBits(cpu, pdeGpa, pdeMa, nb, lin);
    return linkFrame(cpu, lin, acc, gpaPage, e);
  }
  if ((pde & PTE_A) === 0) {
    pde |= PTE_A;
    setTableBits(cpu, pdeGpa, pdeMa, pde, lin);
  }
  const pteGpa = (pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2);
  const pteMa = secondStage(cpu, pteGpa, 0, lin);
  const pte = readTable32(cpu, pteMa);
  if ((pte & PTE_P) === 0) pageFault(cpu, lin, acc, 0);
  const user = (pde & pte & PTE_US) !== 0, writable = (pde & pte & PTE_RW) !== 0;
  const e = finish(cpu, lin, acc, 0, user, writable, false, (pte & PTE_G) !== 0, (pte & PTE_D) !== 0 || write);
  const nb = pte | PTE_A | (write ? PTE_D : 0);
  if (nb !== pte) setTableBits(cpu, pteGpa, pteMa, nb, lin);
  return linkFrame(cpu, lin, acc, pte & ~0xfff, e);
}

function walkPae(cpu: Cpu, lin: number, acc: number): number {
  const idx = lin >>> 30;
  const pdpteLo = cpu.pdpte[idx * 2]!, pdpteHi = cpu.pdpte[idx * 2 + 1]!;
  if ((pdpteLo & PTE_P) === 0) pageFault(cpu, lin, acc, 0);
  const nxe = (cpu.efer & 0x800) !== 0;
  const hiRsvd = (cpu.controls.mode === ExecMode.PV ? PAE_HI_RSVD_PV : PAE_HI_RSVD) | (nxe ? 0 : 0x80000000);
  const write = (acc & ACC_WRITE) !== 0;
  if ((pdpteHi & 0xf) !== 0) pageFault(cpu, lin, acc, 0); // table above 4 GiB: nothing there
  const pdeGpa = (pdpteLo & ~0xfff) | (((lin >>> 21) & 0x1ff) << 3);
  const pdeMa = secondStage(cpu, pdeGpa, 0, lin);
  let pde = readTable32(cpu, pdeMa);
  const pdeHi = readTable32(cpu, pdeMa + 4);
  if ((pde & PTE_P) === 0) pageFault(cpu, lin, acc, 0);
  if ((pdeHi & hiRsvd) !== 0) pageFault(cpu, lin, acc, PF_P | PF_RSVD);
  let nx = nxe && pdeHi < 0;
  if ((pde & PTE_PS) !== 0) {
    if ((pde & 0x1fe000) !== 0) pageFault(cpu, lin, acc, PF_P | PF_RSVD);
    const user = (pde & PTE_US) !== 0, writable = (pde & PTE_RW) !== 0;
    const e = finish(cpu, lin, acc, 0, user, writable, nx, (pde & PTE_G) !== 0, (pde & PTE_D) !== 0 || write);
    const nb = pde | PTE_A | (write ? PTE_D : 0);
    if (nb !== pde) setTableBits(cpu, pdeGpa, pdeMa, nb, lin);
    if ((pdeHi & 0xf) !== 0) return highFrame(lin, e);
    return linkFrame(cpu, lin, acc, ((pde & 0xffe00000) | (lin & 0x1ff000)) | 0, e);
  }
  if ((pde & PTE_A) === 0) {
    pde |= PTE_A;
    setTableBits(cpu, pdeGpa, pdeMa, pde, lin);
  }
  if ((pdeHi & 0xf) !== 0) pageFault(cpu, lin, acc, 0);
  const pteGpa = (pde & ~0xfff) | (((lin >>> 12) & 0x1ff) << 3);
  const pteMa = secondStage(cpu, pteGpa, 0, lin);
  const pte = readTable32(cpu, pteMa);
  const pteHi = readTable32(cpu, pteMa + 4);
  if ((pte & PTE_P) === 0) pageFault(cpu, lin, acc, 0);
  if ((pteHi & hiRsvd) !== 0) pageFault(cpu, lin, acc, PF_P | PF_RSVD);
  nx = nx || (nxe && pteHi < 0);
  const user = (pde & pte & PTE_US) !== 0, writable = (pde & pte & PTE_RW) !== 0;
  const e = finish(cpu, lin, acc, 0, user, writable, nx, (pte & PTE_G) !== 0, (pte & PTE_D) !== 0 || write);
  const nb = pte | PTE_A | (write ? PTE_D : 0);
  if (nb !== pte) setTableBits(cpu, pteGpa, pteMa, nb, lin);
  if ((pteHi & 0xf) !== 0) return highFrame(lin, e);
  return linkFrame(cpu, lin, acc, pte & ~0xfff, e);
}

/** A page above 4 GiB: no RAM there, so an open-bus MMIO entry for the linear page. */
function highFrame(lin: number, e: number): number {
  return (e & 0xfff) | T_VALID | T_MMIO | (0x7ffff000 ^ (lin & ~0xfff));
}

/** Second stage for the final frame, then the entry with frame bits and frame flags. */
function linkFrame(cpu: Cpu, lin: number, acc: number, gpaPage: number, e: number): number {
  const ma = secondStage(cpu, gpaPage | (lin & 0xfff), acc, lin) & ~0xfff;
  let flags = e | T_VALID | frameFlags(cpu, ma);
  if (cpu.controls.p2m !== null) flags |= p2mRestrict(cpu, gpaPage);
  return ((ma ^ (lin & ~0xfff)) & ~0xfff) | (flags & 0xfff);
}

/**
 * Load the four PAE PDPTEs from CR3 (MOV CR3 with CR4.PAE, and enabling PAE paging).
 * Returns false if a present entry has reserved bits set (the caller raises #GP(0)).
 */
export function loadPdptes(cpu: Cpu): boolean {
  const base = cpu.cr3 & ~0x1f;
  const tmp = cpu.pdpteScratch;
  for (let i = 0; i < 4; i++) {
    const gpa = base + i * 8;
    const ma = cpu.controls.p2m === null ? gpa & cpu.a20Mask : secondStage(cpu, gpa, 0, 0);
    const lo = readTable32(cpu, ma), hi = readTable32(cpu, ma + 4);
    if ((lo & PTE_P) !== 0 && ((lo & 0x1e6) !== 0 || (hi & 0xfffffff0) !== 0)) return false;
    tmp[i * 2] = lo;
    tmp[i * 2 + 1] = hi;
  }
  cpu.pdpte.set(tmp);
  return true;
}
