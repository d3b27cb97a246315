/**
 * A PV vCPU's GDT and LDT (Xen's pv/descriptor-tables.c and LDT paging), with set_gdt,
 * update_descriptor and MMUEXT_SET_LDT's mapping.
 *
 * The CPU reads descriptors through the per-domain area (pv_domain.ts): per vCPU a GDT of
 * 16 pages (guest pages 0..13, Xen's reserved page 14 with the flat selectors, page 15
 * empty) and an LDT of 16 pages, all mapped read-only and supervisor-only. What is mapped
 * there are hypervisor-owned copies ("shadows") of the guest's descriptor frames with the
 * Accessed bit preset in code/data descriptors: the CPU then never needs to write a
 * descriptor (which a read-only mapping would refuse), and the guest's own frames stay
 * exactly as the guest and Xen's validation left them.
 *
 * Invariants:
 *  - Each guest frame in use as GDT page or LDT shadow page holds a general + PGT_seg_desc
 *    type reference (taken here, dropped on replacement/destruction), so the guest can
 *    never map it writable; its only writer is update_descriptor, which refreshes every
 *    shadow of the frame.
 *  - GDT pages beyond the guest's frames map a zero page: selectors there read as null
 *    descriptors, as on Xen.
 *  - LDT shadow pages are filled lazily on the CPU's first fault in the LDT area (Xen's
 *    pv_map_ldt_shadow_page) and all dropped on SET_LDT, a new base pointer, or the guest
 *    unmapping a descriptor page.
 */
import { EINVAL } from '../../../../abi/errno.ts';
import { FIRST_RESERVED_GDT_ENTRY } from '../../../../abi/arch_x86_32.ts';
import { Seg } from '../../../../hw/cpu/regs.ts';
import { maddr } from '../../../../hw/memory/addr.ts';
import type { Xen } from '../../../xen.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import type { Domain } from '../../../common/domain.ts';
import { PGT_seg_desc_page, PGT_type_mask, PGT_writable_page } from '../../../mm/frame_table.ts';
import { checkDescriptor, fixedDesc, shadowDescHi } from './descriptor.ts';
import { PERDOMAIN_VCPU_STRIDE, ldtVa } from './pv_domain.ts';
import { guestWalk } from './guest_walk.ts';
import { NR_LDT_PAGES } from './pv_vcpu.ts';
import { assert } from '../../../util/assert.ts';

/** PTE of a shadow mapping: present, accessed, read-only, supervisor. */
const SHADOW_PTE = 0x21;

/** Xen's reserved GDT entries (page 14): flat 4 GiB segments, Accessed preset. */
const RESERVED_DESCS: ReadonlyArray<[number, number]> = [
  [1, 0x9b], // 0xe008 ring-0 code
  [2, 0x93], // 0xe010 ring-0 data
  [3, 0xbb], // 0xe019 FLAT_RING1_CS
  [4, 0xb3], // 0xe021 FLAT_RING1_DS/SS
  [5, 0xfb], // 0xe02b FLAT_RING3_CS
  [6, 0xf3], // 0xe033 FLAT_RING3_DS/SS
];

export class DescriptorTables {
  private readonly _zero: number;
  private readonly _reserved: number;

  constructor(private readonly _xen: Xen) {
    const mm = _xen.mm;
    this._zero = mm.allocXenPage();
    this._reserved = mm.allocXenPage();
    assert(this._zero >= 0 && this._reserved >= 0, 'no memory for descriptor tables');
    const view = _xen.mem.view;
    for (const [idx, access] of RESERVED_DESCS) {
      const ma = this._reserved * 4096 + idx * 8;
      view.setInt32(ma, 0x0000ffff, true);
      view.setInt32(ma + 4, 0x00cf0000 | (access << 8), true);
    }
  }

  // ---- per-domain area PTEs ------------------------------------------------------------------

  private _pteMa(v: Vcpu, page: number): number {
    const l1 = v.domain.pv!.perdomainL1; // SAFETY: PV domain
    return l1 * 4096 + ((v.id * PERDOMAIN_VCPU_STRIDE) / 4096 + page) * 8;
  }

  private _map(v: Vcpu, page: number, mfn: number): void {
    const view = this._xen.mem.view;
    const ma = this._pteMa(v, page);
    view.setInt32(ma, mfn < 0 ? 0 : (mfn * 4096) | SHADOW_PTE, true);
    view.setInt32(ma + 4, 0, true);
  }

  initVcpu(v: Vcpu): void {
    for (let i = 0; i < 16; i++) this._map(v, i, i === 14 ? this._reserved : this._zero);
    for (let i = 0; i < NR_LDT_PAGES; i++) this._map(v, 16 + i, -1);
  }

  // ---- GDT -----------------------------------------------------------------------------------

  /** set_gdt: frames are MFNs (a PV guest's GFNs); 0 or -EINVAL. */
  setGdt(v: Vcpu, frames: ArrayLike<number>, entries: number): number {
    if (!(entries >= 0 && entries <= FIRST_RESERVED_GDT_ENTRY)) return -EINVAL;
    const d = v.domain;
    const n = Math.ceil(entries / 512);
    const pt = this._xen.pageTypes;
    for (let i = 0; i < n; i++) {
      const mfn = frames[i]!;
      if (!(this._xen.mm.ft.valid(mfn) && pt.getPageAndType(mfn, PGT_seg_desc_page, d.domid) === 0)) {
        while (i-- > 0) pt.putPageAndType(frames[i]!);
        return -EINVAL;
      }
    }
    this.destroyGdt(v);
    const p = v.pv!; // SAFETY: PV vCPU
    p.gdtEnts = entries;
    p.gdtFrameCount = n;
    for (let i = 0; i < n; i++) {
      p.gdtFrames[i] = frames[i]!;
      if (p.gdtShadow[i] === 0) {
        const s = this._xen.mm.allocXenPage();
        assert(s >= 0, 'no memory for a GDT shadow');
        p.gdtShadow[i] = s;
      }
      this._copyShadow(frames[i]!, p.gdtShadow[i]!);
      this._map(v, i, p.gdtShadow[i]!);
    }
    p.cpu?.flushTlb();
    return 0;
  }

  destroyGdt(v: Vcpu): void {
    const p = v.pv!; // SAFETY: PV vCPU
    for (let i = 0; i < p.gdtFrameCount; i++) {
      this._xen.pageTypes.putPageAndType(p.gdtFrames[i]!);
      p.gdtFrames[i] = 0;
      this._map(v, i, this._zero);
    }
    p.gdtFrameCount = 0;
    p.gdtEnts = 0;
    p.cpu?.flushTlb();
  }

  // ---- LDT -----------------------------------------------------------------------------------

  /** Point LDTR at the vCPU's LDT area with the guest's entry count (or make it null). */
  loadLdtr(v: Vcpu): void {
    const p = v.pv!; // SAFETY: PV vCPU
    const cpu = p.cpu!; // SAFETY: PV vCPU
    if (p.ldtEnts === 0) {
      cpu.setSegment(Seg.LDTR, { selector: 0, base: 0, limit: 0, attr: 0x10000 });
    } else {
      cpu.setSegment(Seg.LDTR, { selector: 0, base: ldtVa(v.id) | 0, limit: p.ldtEnts * 8 - 1, attr: 0x82 });
    }
  }

  /** MMUEXT_SET_LDT after validation of the arguments. */
  setLdt(v: Vcpu, base: number, ents: number): void {
    const p = v.pv!; // SAFETY: PV vCPU
    if (p.ldtBase === base && p.ldtEnts === ents) return;
    this.destroyLdt(v);
    p.ldtBase = base;
    p.ldtEnts = ents;
    this.loadLdtr(v);
  }

  /** Drop every LDT shadow page (pv_destroy_ldt); true if any was mapped. */
  destroyLdt(v: Vcpu): boolean {
    const p = v.pv!; // SAFETY: PV vCPU
    let dropped = false;
    for (let i = 0; i < NR_LDT_PAGES; i++) {
      const mfn = p.ldtMapped[i]!;
      if (mfn === 0) continue;
      p.ldtMapped[i] = 0;
      this._map(v, 16 + i, -1);
      this._xen.pageTypes.putPageAndType(mfn);
      dropped = true;
    }
    if (dropped) p.cpu?.flushTlb();
    return dropped;
  }

  /**
   * The CPU faulted reading the LDT area at `lin`: map the guest's LDT page there if it is
   * valid (pv_map_ldt_shadow_page). False: the fault goes to the guest at its LDT address.
   */
  ldtFault(v: Vcpu, lin: number): boolean {
    const p = v.pv!; // SAFETY: PV vCPU
    const off = (lin >>> 0) - ldtVa(v.id);
    if (!(off >= 0 && off < p.ldtEnts * 8)) return false;
    const page = off >>> 12;
    if (p.ldtMapped[page] !== 0 || p.guestTable === 0) return false;
    const ma = guestWalk(this._xen.mem, p.guestTable * 4096, (p.ldtBase + page * 4096) >>> 0, false);
    if (ma < 0) return false;
    const mfn = ma >>> 12;
    if (this._xen.pageTypes.getPageAndType(mfn, PGT_seg_desc_page, v.domain.domid) !== 0) return false;
    if (p.ldtShadow[page] === 0) {
      const s = this._xen.mm.allocXenPage();
      assert(s >= 0, 'no memory for an LDT shadow');
      p.ldtShadow[page] = s;
    }
    this._copyShadow(mfn, p.ldtShadow[page]!);
    p.ldtMapped[page] = mfn;
    this._map(v, 16 + page, p.ldtShadow[page]!);
    p.cpu?.invlpg(ldtVa(v.id) + page * 4096);
    return true;
  }

  // ---- descriptor pages and update_descriptor ---------------------------------------------------

  /** Validate (and fix up in place) the 512 descriptors of a frame becoming PGT_seg_desc. */
  validateSegDescPage(mfn: number, _owner: number): number {
    const view = this._xen.mem.view;
    const base = mfn * 4096;
    for (let i = 0; i < 512; i++) {
      if (!checkDescriptor(view.getInt32(base + i * 8, true), view.getInt32(base + i * 8 + 4, true))) return -EINVAL;
    }
    // Second pass: all good, store the fixed-up forms.
    for (let i = 0; i < 512; i++) {
      checkDescriptor(view.getInt32(base + i * 8, true), view.getInt32(base + i * 8 + 4, true));
      view.setInt32(base + i * 8, fixedDesc[0]!, true);
      view.setInt32(base + i * 8 + 4, fixedDesc[1]!, true);
    }
    this._xen.mem.notifyWritten(base, 4096);
    return 0;
  }

  /** do_update_descriptor: machine address `pa` of a descriptor slot, new value (lo, hi). */
  updateDescriptor(d: Domain, pa: number, lo: number, hi: number): number {
    const mfn = Math.floor(pa / 4096);
    const ft = this._xen.mm.ft;
    if (pa % 8 !== 0 || !ft.valid(mfn) || !this._xen.mm.getPage(mfn, d.domid)) return -EINVAL;
    const pt = this._xen.pageTypes;
    let rc = -EINVAL;
    if (checkDescriptor(lo, hi)) {
      const type = (ft.typeInfo[mfn]! & PGT_type_mask) === PGT_seg_desc_page ? PGT_seg_desc_page : PGT_writable_page;
      if (pt.getPageType(mfn, type) === 0) {
        const nlo = fixedDesc[0]!, nhi = fixedDesc[1]!;
        const view = this._xen.mem.view;
        view.setInt32(pa, nlo, true);
        view.setInt32(pa + 4, nhi, true);
        this._xen.mem.notifyWritten(pa, 8);
        if (type === PGT_seg_desc_page) this._refreshShadows(d, mfn, pa & 0xfff, nlo, nhi);
        pt.putPageType(mfn);
        rc = 0;
      }
    }
    this._xen.mm.putPage(mfn);
    return rc;
  }

  private _refreshShadows(d: Domain, mfn: number, off: number, lo: number, hi: number): void {
    const view = this._xen.mem.view;
    const put = (shadow: number): void => {
      view.setInt32(shadow * 4096 + off, lo, true);
      view.setInt32(shadow * 4096 + off + 4, shadowDescHi(hi), true);
    };
    for (const v of d.vcpus) {
      const p = v?.pv;
      if (!p) continue;
      for (let i = 0; i < p.gdtFrameCount; i++) if (p.gdtFrames[i] === mfn) put(p.gdtShadow[i]!);
      for (let i = 0; i < NR_LDT_PAGES; i++) if (p.ldtMapped[i] === mfn) put(p.ldtShadow[i]!);
    }
  }

  private _copyShadow(src: number, shadow: number): void {
    const mem = this._xen.mem;
    mem.copy(maddr(shadow * 4096), maddr(src * 4096), 4096);
    const view = mem.view;
    for (let i = 0; i < 512; i++) {
      const a = shadow * 4096 + i * 8 + 4;
      view.setInt32(a, shadowDescHi(view.getInt32(a, true)), true);
    }
  }

  /** Free a vCPU's shadow frames (domain destruction). */
  freeVcpu(v: Vcpu): void {
    this.destroyLdt(v);
    this.destroyGdt(v);
    const p = v.pv!; // SAFETY: PV vCPU
    for (const arr of [p.gdtShadow, p.ldtShadow]) {
      for (let i = 0; i < arr.length; i++) {
        if (arr[i] !== 0) this._xen.mm.freeXenPage(arr[i]!);
        arr[i] = 0;
      }
    }
  }

  /** Write the runstate area a vCPU registered (VCPUOP_register_runstate_memory_area). */
  writeRunstateArea(v: Vcpu): void {
    if (v.runstateArea === 0 || v.pv?.guest == null) return;
    const s = v.runstateSnapshot(this._xen.time.now());
    const out = this._xen.scratch.out(44);
    out.setInt32(0, s.state, true);
    setU64(out, 4, s.entry);
    for (let i = 0; i < 4; i++) setU64(out, 12 + i * 8, s.time[i]!);
    this._xen.scratch.writeOut(v.pv.guest, v.runstateArea, 44);
  }
}

function setU64(view: DataView, off: number, x: number): void {
  const n = Math.max(0, Math.floor(x));
  view.setUint32(off, n % 0x100000000, true);
  view.setUint32(off + 4, Math.floor(n / 0x100000000), true);
}
