/**
 * The memory audit: recompute, from scratch, every reference the hypervisor's structures
 * should hold on every machine frame, and compare with the frame table. Run after every
 * test kernel and by the fuzz test; a non-empty result is a hypervisor bug (or a guest
 * that found a hole).
 *
 * Expected references, per frame:
 *   general count = allocation (PGC_allocated) + every present entry of a validated table
 *     naming it (except a table's own linear self-map) + a pin + each vCPU base pointer,
 *     GDT frame, LDT shadow page, registered vcpu_info + each foreign physmap slot of a
 *     native domain + what extra contributors (grant tables) declare;
 *   type count = RW L1 entries (writable) / L2 entries (L1 type or linear L2) / L3 entries
 *     (L2) naming it + pin + base pointer + GDT/LDT use + vcpu_info.
 * Checked properties:
 *   - counts equal the expectation; free frames are exactly the heap's;
 *   - no writable mapping of a frame typed as a table or descriptor page;
 *   - every validated table's entries obey the rules (L3 slot 3 a Xen L2, entries 4..511
 *     clear; Xen's L2 slots intact);
 *   - each domain's tot_pages equals the non-special frames it owns; one owner per frame
 *     holds by construction (one owner field), so ownership is checked against accounts.
 */
import { DOMID_IO, DOMID_XEN } from '../abi/xen.ts';
import { HYPERVISOR_L2_FIRST_SLOT_PAE } from '../abi/arch_x86_32.ts';
import type { Xen } from './xen.ts';
import {
  OWNER_NONE, PGC_allocated, PGC_special, PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table,
  PGT_pae_xen_l2, PGT_pinned, PGT_seg_desc_page, PGT_type_mask, PGT_validated, PGT_writable_page, hex, pageTypeName,
} from './mm/frame_table.ts';
import { _PAGE_PRESENT, _PAGE_RW, pteMfn } from './arch/x86/mm/pte.ts';

export interface AuditExpect {
  /** Add `n` expected general references to frame `mfn`. */
  general(mfn: number, n?: number): void;
  /** Add an expected type reference of `type` (PGT_*) to `mfn`. */
  type(mfn: number, type: number): void;
}

/** Other subsystems (grant tables) register what references they hold. */
export type AuditContributor = (xen: Xen, expect: AuditExpect) => void;
export const auditContributors: AuditContributor[] = [];

export function auditMemory(xen: Xen, maxErrors = 50): string[] {
  const ft = xen.mm.ft;
  const n = ft.frames;
  const gen = new Int32Array(n);
  const typ = new Int32Array(n);
  const wantType = new Int32Array(n).fill(-1);
  const errors: string[] = [];
  const err = (s: string): void => {
    if (errors.length < maxErrors) errors.push(s);
  };
  const view = xen.mem.view;
  const expect: AuditExpect = {
    general: (mfn, k = 1) => {
      if (mfn >= 0 && mfn < n) gen[mfn]! += k;
    },
    type: (mfn, type) => {
      if (!(mfn >= 0 && mfn < n)) return;
      typ[mfn]!++;
      if (wantType[mfn]! >= 0 && wantType[mfn] !== type) {
        err(`${hex(mfn)} used as both ${pageTypeName(wantType[mfn]!)} and ${pageTypeName(type)}`);
      }
      wantType[mfn] = type;
    },
  };
  const isIo = (mfn: number): boolean => !ft.valid(mfn) || ft.owner[mfn] === DOMID_IO;

  for (let f = 0; f < n; f++) {
    if (ft.count[f] === 0) {
      if (ft.owner[f] !== OWNER_NONE || ft.typeInfo[f] !== 0) err(`free ${ft.describe(f)} has state`);
      if (!xen.mm.heap.isFree(f)) err(`${hex(f)} has no references but is not in the heap`);
      continue;
    }
    if (xen.mm.heap.isFree(f)) err(`${ft.describe(f)} is referenced but in the heap`);
    if ((ft.flags[f]! & PGC_allocated) !== 0) expect.general(f);
    const t = ft.typeInfo[f]!;
    if ((t & PGT_pinned) !== 0) {
      expect.general(f);
      expect.type(f, t & PGT_type_mask);
    }
    const kind = t & PGT_type_mask;
    const validated = (t & PGT_validated) !== 0 && (t & PGT_count_mask) !== 0;
    if (kind >= PGT_l1_page_table && kind <= PGT_l3_page_table && (t & PGT_count_mask) !== 0 && (t & PGT_validated) === 0) {
      err(`${ft.describe(f)}: table in use but not validated`);
    }
    if (!validated) continue;
    const base = f * 4096;
    const owner = ft.owner[f]!;
    if (kind === PGT_l1_page_table) {
      for (let i = 0; i < 512; i++) {
        const lo = view.getInt32(base + i * 8, true), hi = view.getInt32(base + i * 8 + 4, true);
        if ((lo & _PAGE_PRESENT) === 0) continue;
        const m = pteMfn(lo, hi);
        if (isIo(m)) continue;
        expect.general(m);
        if ((lo & _PAGE_RW) !== 0) expect.type(m, PGT_writable_page);
      }
    } else if (kind === PGT_l2_page_table) {
      const xenL2 = (t & PGT_pae_xen_l2) !== 0;
      const lim = xenL2 ? HYPERVISOR_L2_FIRST_SLOT_PAE : 512;
      for (let i = 0; i < lim; i++) {
        const lo = view.getInt32(base + i * 8, true), hi = view.getInt32(base + i * 8 + 4, true);
        if ((lo & _PAGE_PRESENT) === 0) continue;
        const m = pteMfn(lo, hi);
        if (m === f) {
          if ((lo & _PAGE_RW) !== 0) err(`L2 ${hex(f)} maps itself writable (slot ${i})`);
          continue;
        }
        expect.general(m);
        const mt = ft.valid(m) ? ft.typeInfo[m]! & PGT_type_mask : -1;
        if (mt === PGT_l2_page_table) {
          if ((lo & _PAGE_RW) !== 0) err(`L2 ${hex(f)} slot ${i}: writable linear map of L2 ${hex(m)}`);
          expect.type(m, PGT_l2_page_table);
        } else {
          expect.type(m, PGT_l1_page_table);
        }
      }
      if (xenL2 && owner !== DOMID_XEN) {
        const d = xen.domain(owner);
        const slots = d?.pv?.xenSlots;
        for (let i = HYPERVISOR_L2_FIRST_SLOT_PAE; slots && i < 512; i++) {
          const k = (i - HYPERVISOR_L2_FIRST_SLOT_PAE) * 2;
          if (view.getInt32(base + i * 8, true) !== slots[k] || view.getInt32(base + i * 8 + 4, true) !== slots[k + 1]) {
            err(`Xen L2 ${hex(f)} slot ${i} was changed`);
            break;
          }
        }
      }
    } else if (kind === PGT_l3_page_table) {
      for (let i = 0; i < 4; i++) {
        const lo = view.getInt32(base + i * 8, true), hi = view.getInt32(base + i * 8 + 4, true);
        if ((lo & _PAGE_PRESENT) === 0) {
          if (i === 3) err(`L3 ${hex(f)} has no slot 3`);
          continue;
        }
        const m = pteMfn(lo, hi);
        expect.general(m);
        expect.type(m, PGT_l2_page_table);
        if (i === 3 && ft.valid(m) && (ft.typeInfo[m]! & PGT_pae_xen_l2) === 0) err(`L3 ${hex(f)} slot 3 is not a Xen L2`);
      }
      for (let i = 4; i < 512; i++) {
        if (view.getInt32(base + i * 8, true) !== 0 || view.getInt32(base + i * 8 + 4, true) !== 0) {
          err(`L3 ${hex(f)} entry ${i} is not clear`);
          break;
        }
      }
    }
  }

  for (const d of xen.domains) {
    for (const v of d.vcpus) {
      if (!v) continue;
      const p = v.pv;
      if (p !== null) {
        if (p.guestTable !== 0) {
          expect.general(p.guestTable);
          expect.type(p.guestTable, PGT_l3_page_table);
        }
        for (let i = 0; i < p.gdtFrameCount; i++) {
          expect.general(p.gdtFrames[i]!);
          expect.type(p.gdtFrames[i]!, PGT_seg_desc_page);
        }
        for (let i = 0; i < p.ldtMapped.length; i++) {
          if (p.ldtMapped[i] === 0) continue;
          expect.general(p.ldtMapped[i]!);
          expect.type(p.ldtMapped[i]!, PGT_seg_desc_page);
        }
      }
      if (v.vcpuInfoMfn >= 0) {
        expect.general(v.vcpuInfoMfn);
        expect.type(v.vcpuInfoMfn, PGT_writable_page);
      }
    }
    if (d.native !== null) for (const [m, k] of d.native.foreignRefs()) expect.general(m, k);
  }
  for (const c of auditContributors) c(xen, expect);

  const owned = new Map<number, number>();
  for (let f = 0; f < n; f++) {
    if (ft.count[f] === 0) continue;
    if (ft.count[f] !== gen[f]) err(`${ft.describe(f)}: expected ${gen[f]} general references`);
    const t = ft.typeInfo[f]!;
    const kind = t & PGT_type_mask;
    if (typ[f]! > 0 && kind !== wantType[f]) {
      err(`${ft.describe(f)}: used as ${pageTypeName(wantType[f]!)} but typed ${pageTypeName(t)}`);
    } else if ((t & PGT_count_mask) !== typ[f]) {
      err(`${ft.describe(f)}: expected type count ${typ[f]}`);
    }
    const o = ft.owner[f]!;
    if ((ft.flags[f]! & PGC_special) === 0 && o !== DOMID_XEN && o !== DOMID_IO) owned.set(o, (owned.get(o) ?? 0) + 1);
    if (o !== DOMID_XEN && o !== DOMID_IO && xen.domain(o) === undefined) err(`${ft.describe(f)}: owner d${o} does not exist`);
  }
  for (const d of xen.domains) {
    const k = owned.get(d.domid) ?? 0;
    if (k !== d.totPages) err(`d${d.domid}: tot_pages ${d.totPages} but owns ${k} frames`);
  }
  return errors;
}
