/**
 * PV domains on the emulated x86: the per-domain hypervisor frames, the per-vCPU CPUs,
 * the PDPT shadows of the guests' L3s, context switch, and the per-kind hooks the common
 * code calls (page-type validation services, preemption, native-domain kicks).
 *
 * Every PV vCPU owns a Cpu in PV mode (ring 0 belongs to us: faults, INT n and privileged
 * instructions exit). All vCPUs of a pCPU share one TLB; the Cpu flushes it when another
 * vCPU ran since (Tlb.owner).
 *
 * Hardware view of a PV vCPU:
 *   CR0 = PE|MP|ET|NE|WP|PG (+TS while the virtual TS is set), CR4 = PAE|PGE|OSFXSR|
 *   OSXMMEXCPT, EFER.NXE, CR3 = its PDPT, GDTR = its GDT area (per-domain area),
 *   LDTR = its LDT shadow area, EFLAGS.IF = 1 and IOPL = 0 always.
 */
import { Cpu } from '../../../../hw/cpu/cpu.ts';
import { Fpu } from '../../../../hw/cpu/fpu/fpu.ts';
import { Tlb } from '../../../../hw/cpu/tlb.ts';
import { ExecMode } from '../../../../hw/cpu/exit.ts';
import { Seg } from '../../../../hw/cpu/regs.ts';
import { EFER_NXE, Msr } from '../../../../hw/cpu/regs.ts';
import { ENOMEM } from '../../../../abi/errno.ts';
import { HYPERVISOR_L2_FIRST_SLOT_PAE, MACH2PHYS_VIRT_END } from '../../../../abi/arch_x86_32.ts';
import type { Xen } from '../../../xen.ts';
import type { Domain } from '../../../common/domain.ts';
import type { Vcpu } from '../../../common/vcpu.ts';
import type { PageTypeHooks, PtDomain } from '../mm/page_type.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, pteMfn } from '../mm/pte.ts';
import { PvDomain, PV_MAX_VCPUS, gdtVa, ldtVa } from './pv_domain.ts';
import { PvVcpu } from './pv_vcpu.ts';
import { PvGuestMemory } from './pv_guest_memory.ts';
import { DescriptorTables } from './descriptor_tables.ts';
import { runPvVcpu } from './pv_run.ts';
import { assert } from '../../../util/assert.ts';
import { TRC_PGTYPE } from '../../../common/trace.ts';

const CR0_PV = 0x80010033; // PG | WP | NE | ET | MP | PE
const CR0_TS = 0x8;
const CR4_PV = 0x20 | 0x80 | 0x200 | 0x400; // PAE | PGE | OSFXSR | OSXMMEXCPT
/** CR4 bits a PV guest sees of Xen's own (PV_CR4_GUEST_VISIBLE_MASK: PAE MCE OSFXSR OSXMMEXCPT). */
const PV_CR4_VISIBLE = CR4_PV & (0x20 | 0x40 | 0x200 | 0x400);
/** CR4 bits under the guest's control that its CPUID policy allows (TSD, DE). */
const PV_CR4_GUEST = 0x4 | 0x8;

/** pv_fixup_guest_cr4: the CR4 a PV guest reads after writing `cr4`. */
export function pvFixupGuestCr4(cr4: number): number {
  return PV_CR4_VISIBLE | (cr4 & PV_CR4_GUEST);
}

export class PvArch {
  readonly maxVcpus = PV_MAX_VCPUS;
  readonly tlb = new Tlb();
  readonly dt: DescriptorTables;
  /** Retired guest instructions of all vCPUs (drives a virtual clock). */
  private _retired = 0;
  private _runningCpu: Cpu | null = null;
  private _runStart = 0;
  /** Native vCPUs with an upcall to deliver, drained by the host between slices. */
  readonly nativePending = new Set<Vcpu>();
  /**
   * System time by which the host must run the pending native upcalls (Infinity: none).
   * Native domains model dom0 on its own pCPU: it reacts to an event after a short
   * latency, not inside the guest's hypercall, so guests see backend replies as
   * asynchronously as on real Xen (a console reply does not land between two guest
   * instructions).
   */
  nativeDeadline = Infinity;
  /** dom0's reaction time to an event (ns of system time). */
  nativeLatencyNs = 50_000;

  constructor(readonly xen: Xen) {
    this.dt = new DescriptorTables(xen);
  }

  /** Total guest instructions retired (counts the running vCPU's progress too). */
  get instructions(): number {
    const c = this._runningCpu;
    return c === null ? this._retired : this._retired + (c.instructions - this._runStart);
  }

  pageTypeHooks(): PageTypeHooks {
    const xen = this.xen;
    return {
      domain: (domid): PtDomain | undefined => xen.domain(domid),
      xenL2Slots: (domid) => {
        const d = xen.domain(domid);
        assert(d?.pv != null, () => `Xen L2 slots for non-PV d${domid}`);
        return d.pv.xenSlots;
      },
      validateSegDescPage: (mfn, owner) => this.dt.validateSegDescPage(mfn, owner),
      segDescUnmapped: (owner) => {
        const d = xen.domain(owner);
        if (d) for (const v of d.vcpus) if (v?.pv) this.dt.destroyLdt(v);
      },
      typeChanged: (mfn, typeInfo) => xen.trace.record(TRC_PGTYPE, mfn, typeInfo),
    };
  }

  // ---- domains and vCPUs ---------------------------------------------------------------------

  domainCreate(d: Domain): number {
    const mm = this.xen.mm;
    const pv = new PvDomain();
    const l1 = mm.allocXenPage();
    const pdpt = mm.allocXenPage();
    if (l1 < 0 || pdpt < 0) {
      if (l1 >= 0) mm.freeXenPage(l1);
      if (pdpt >= 0) mm.freeXenPage(pdpt);
      return -ENOMEM;
    }
    pv.perdomainL1 = l1;
    pv.pdptFrame = pdpt;
    // Xen's L2 slots: the read-only M2P (supervisor only: the guest kernel in ring 1
    // reads it, ring 3 faults, as with Xen's __PAGE_HYPERVISOR_RO), then (slot 511) the
    // per-domain area.
    const m2pL1 = this.xen.m2p.l1Frames;
    for (let i = 0; i < m2pL1.length; i++) {
      pv.xenSlots[i * 2] = (m2pL1[i]! * 4096) | _PAGE_PRESENT | _PAGE_ACCESSED;
    }
    const last = 511 - HYPERVISOR_L2_FIRST_SLOT_PAE;
    pv.xenSlots[last * 2] = (l1 * 4096) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    d.pv = pv;
    return 0;
  }

  vcpuCreate(v: Vcpu): number {
    const d = v.domain;
    assert(d.pv !== null, () => `vCPU of non-PV ${d}`);
    const p = new PvVcpu();
    p.pdptMa = d.pv.pdptFrame * 4096 + v.id * 32;
    const cpu = new Cpu({ memory: this.xen.mem, clock: this.xen.time.clock, tlb: this.tlb, fpu: new Fpu(), tscHz: this.xen.time.tscHz });
    p.cpu = cpu;
    p.guest = new PvGuestMemory(this.xen.mem, () => (p.guestTable !== 0 ? p.guestTable * 4096 : -1));
    v.pv = p;
    this.dt.initVcpu(v);
    this.resetCpu(v);
    return 0;
  }

  /** Put a vCPU's CPU in the PV hardware state (no guest context yet). */
  resetCpu(v: Vcpu): void {
    const p = v.pv!; // SAFETY: called for PV vCPUs only
    const cpu = p.cpu!; // SAFETY: PV vCPUs always have a CPU
    cpu.reset();
    cpu.tscOffset = this.xen.time.tscOffset;
    cpu.controls.mode = ExecMode.PV;
    // Above the read-only M2P everything is Xen's (per-domain GDT/LDT shadows, its own
    // mappings): the guest's explicit accesses fault there as on real Xen, while the
    // CPU's implicit descriptor-table reads still reach the shadows.
    cpu.controls.pvHoleStart = MACH2PHYS_VIRT_END;
    const dpl = cpu.controls.softIntDpl;
    dpl.fill(0);
    dpl[3] = 3; // int3 and into are DPL-3 gates in Xen's IDT
    dpl[4] = 3;
    dpl[0x82] = 1; // the hypercall gate: ring 1 only
    cpu.setCr4(CR4_PV);
    cpu.writeMsr(Msr.EFER, EFER_NXE, 0);
    cpu.setCr3(p.pdptMa);
    cpu.setCr0(CR0_PV | (p.vTs ? CR0_TS : 0));
    cpu.gdtBase = gdtVa(v.id) | 0;
    cpu.gdtLimit = 0xefff;
    cpu.idtBase = 0;
    cpu.idtLimit = 0;
    this.dt.loadLdtr(v);
    cpu.setSegment(Seg.TR, { selector: 0, base: 0, limit: 0, attr: 0x10000 });
  }

  // ---- page-table base and the PDPT shadow ----------------------------------------------------

  /** Rewrite a vCPU's PDPT from its L3 and reload CR3 (the guest's L3 or base changed). */
  syncPdpt(v: Vcpu): void {
    const p = v.pv!; // SAFETY: PV vCPU
    const view = this.xen.mem.view;
    for (let i = 0; i < 4; i++) {
      let lo = 0, hi = 0;
      if (p.guestTable !== 0) {
        const ma = p.guestTable * 4096 + i * 8;
        const glo = view.getInt32(ma, true);
        if ((glo & _PAGE_PRESENT) !== 0) {
          lo = glo & ~0x1e6; // drop RW, US, A, D, PS/PAT, G: reserved in a PDPTE
          hi = view.getInt32(ma + 4, true) & 0xfffff;
        }
      }
      view.setInt32(p.pdptMa + i * 8, lo, true);
      view.setInt32(p.pdptMa + i * 8 + 4, hi, true);
    }
    p.cpu!.setCr3(p.pdptMa); // SAFETY: PV vCPU
  }

  /** Every vCPU of `d` whose base table is `l3mfn` (an L3 entry changed). */
  l3Changed(d: Domain, l3mfn: number): void {
    for (const v of d.vcpus) if (v?.pv && v.pv.guestTable === l3mfn) this.syncPdpt(v);
  }

  /** The machine frame of a guest VA in v's tables, or -1 (map_guest_l1e style lookups). */
  l1eMaddr(v: Vcpu, va: number): number {
    const p = v.pv!; // SAFETY: PV vCPU
    if (p.guestTable === 0) return -1;
    const view = this.xen.mem.view;
    const l3e = p.guestTable * 4096 + (va >>> 30) * 8;
    const l3lo = view.getInt32(l3e, true);
    if ((l3lo & _PAGE_PRESENT) === 0) return -1;
    const l2 = pteMfn(l3lo, view.getInt32(l3e + 4, true));
    const l2e = l2 * 4096 + ((va >>> 21) & 511) * 8;
    const l2lo = view.getInt32(l2e, true);
    if ((l2lo & _PAGE_PRESENT) === 0) return -1;
    const l1 = pteMfn(l2lo, view.getInt32(l2e + 4, true));
    if (!this.xen.mm.ft.valid(l1)) return -1;
    return l1 * 4096 + ((va >>> 12) & 511) * 8;
  }

  // ---- scheduling hooks ---------------------------------------------------------------------

  switchIn(v: Vcpu, _now: number): void {
    if (v.pv === null) return;
    this.dt.writeRunstateArea(v);
  }

  switchOut(v: Vcpu, _now: number): void {
    if (v.pv === null) return;
    this.dt.writeRunstateArea(v);
  }

  preempt(v: Vcpu): void {
    v.pv?.cpu?.requestExit();
  }

  nativeKick(v: Vcpu): void {
    this.nativePending.add(v);
    if (this.nativeDeadline === Infinity) this.nativeDeadline = this.xen.time.now() + this.nativeLatencyNs;
  }

  /** Run a PV vCPU for up to `budget` instructions (called by Xen.runFor). */
  runVcpu(v: Vcpu, budget: number): void {
    const cpu = v.pv?.cpu;
    if (!cpu) {
      // Only PV vCPUs are ever on the run queues.
      this.xen.sched.remove(v);
      return;
    }
    this._runningCpu = cpu;
    this._runStart = cpu.instructions;
    try {
      runPvVcpu(this.xen, v, budget);
    } finally {
      this._retired += cpu.instructions - this._runStart;
      this._runningCpu = null;
    }
  }

  /** Set hardware CR0.TS to the virtual TS. */
  syncTs(v: Vcpu): void {
    const p = v.pv!; // SAFETY: PV vCPU
    const cpu = p.cpu!; // SAFETY: PV vCPU
    const want = p.vTs ? CR0_TS : 0;
    if ((cpu.cr0 & CR0_TS) !== want) cpu.setCr0((cpu.cr0 & ~CR0_TS) | want);
  }

  /** GDT/LDT areas of a vCPU, for diagnostics. */
  static areas(vcpuId: number): { gdt: number; ldt: number } {
    return { gdt: gdtVa(vcpuId), ldt: ldtVa(vcpuId) };
  }
}
