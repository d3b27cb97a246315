/**
 * Native domains: TypeScript "kernels" in the host process (dom0, driver domains). They own
 * real machine frames and a shared_info page but run no guest code. To the hypervisor they
 * look like an auto-translated (PVH-like) domain:
 *
 *  - Their pseudo-physical space is a physmap pfn -> mfn: pfns 0..ramPages-1 are their own
 *    RAM; other slots hold what they mapped there with XENMEM_add_to_physmap(_batch):
 *    the shared_info page, or a foreign domain's frame (gmfn_foreign, privileged only,
 *    holding one general reference on that frame until unmapped).
 *  - A guest handle of a native domain is a pseudo-physical address: the port object
 *    (NativePort) copies hypercall arguments into the domain's own frames (a scratch area
 *    it chooses) and passes their addresses, so every hypercall goes through the same
 *    table, decoding, permission checks and workers as a PV guest's.
 *  - Events arrive through the same shared_info bits; an upcall becomes a callback the host
 *    runs between scheduler slices.
 *
 * Invariants: physmap slots are either empty, own RAM (allocated frame of the domain),
 * the domain's shared_info or grant-table frames, a referenced foreign frame, or a grant
 * mapping (whose references the grant table holds); the audit counts the foreign
 * references here and the grant references through the grant table.
 */
import { EBUSY, EINVAL, ENOENT, ENOMEM, EPERM, ESRCH } from '../../../abi/errno.ts';
import { DOMID_XEN } from '../../../abi/xen.ts';
import type { MachineMemory } from '../../../hw/memory/machine_memory.ts';
import { maddr } from '../../../hw/memory/addr.ts';
import type { Xen } from '../../xen.ts';
import type { Domain } from '../../common/domain.ts';
import type { Vcpu } from '../../common/vcpu.ts';
import type { GuestMemory } from '../../common/guest_access.ts';
import { dispatch } from './hypercall.ts';
import { INVALID_M2P_ENTRY } from './mm/m2p.ts';
import { assert } from '../../util/assert.ts';

const SLOT_EMPTY = 0;
const SLOT_RAM = 1;
/** A special page of the domain's own: its shared_info, its grant-table frames. */
const SLOT_SHARED_INFO = 2;
const SLOT_FOREIGN = 3;
/**
 * A grant mapping (GNTTABOP_map_grant_ref with GNTMAP_host_map by a translated mapper):
 * the references are the grant table's (its maptrack), not the slot's.
 */
const SLOT_GRANT = 4;
/** A read-only grant mapping: copies into it fail, and no writable view is handed out. */
const SLOT_GRANT_RO = 5;

/** Pseudo-physical frames a native domain may address (1 GiB). */
export const NATIVE_MAX_PFNS = 1 << 18;

export class NativeDomain {
  readonly physmap = new Int32Array(NATIVE_MAX_PFNS).fill(-1);
  readonly slotKind = new Uint8Array(NATIVE_MAX_PFNS);
  ramPages = 0;
  readonly guest: GuestMemory;
  /** Host callback for event upcalls (set by the port's user). */
  onEvent: (() => void) | null = null;

  constructor(readonly mem: MachineMemory) {
    this.guest = new NativeGuestMemory(this);
  }

  /** Machine address of a pseudo-physical address, or -1. */
  maddrOf(gpa: number): number {
    const pfn = Math.floor(gpa / 4096);
    if (!(pfn >= 0 && pfn < NATIVE_MAX_PFNS)) return -1;
    const mfn = this.physmap[pfn]!;
    return mfn < 0 ? -1 : mfn * 4096 + (gpa & 0xfff);
  }

  /** Give the domain `pages` frames of RAM at pfns 0.. (domain construction). */
  allocRam(xen: Xen, d: Domain, pages: number): number {
    for (let pfn = 0; pfn < pages; pfn++) {
      const rc = this.populate(xen, d, this.ramPages, 0);
      if (rc !== 0) return rc;
    }
    return 0;
  }

  populate(xen: Xen, d: Domain, gpfn: number, order: number): number {
    const n = 2 ** order;
    if (!(gpfn >= 0 && gpfn + n <= NATIVE_MAX_PFNS)) return -EINVAL;
    for (let i = 0; i < n; i++) if (this.slotKind[gpfn + i] !== SLOT_EMPTY) return -EBUSY;
    const mfn = xen.mm.allocDomainPages(d, order);
    if (mfn < 0) return -ENOMEM;
    for (let i = 0; i < n; i++) {
      this.physmap[gpfn + i] = mfn + i;
      this.slotKind[gpfn + i] = SLOT_RAM;
      xen.m2p.set(mfn + i, gpfn + i);
    }
    this.ramPages = Math.max(this.ramPages, gpfn + n);
    return 0;
  }

  /** Free the RAM frame at `gpfn` (decrease_reservation of a translated domain). */
  removeRam(xen: Xen, gpfn: number): number {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS) || this.slotKind[gpfn] !== SLOT_RAM) return -EINVAL;
    const mfn = this.physmap[gpfn]!;
    this._clear(gpfn);
    xen.m2p.set(mfn, INVALID_M2P_ENTRY);
    xen.mm.dropAllocation(mfn);
    return 0;
  }

  mapSharedInfo(xen: Xen, d: Domain, gpfn: number): number {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS)) return -EINVAL;
    const rc = this.removeMapping(xen, gpfn);
    if (rc !== 0 && rc !== -ENOENT) return rc;
    this.physmap[gpfn] = d.sharedInfoMfn;
    this.slotKind[gpfn] = SLOT_SHARED_INFO;
    return 0;
  }

  /** XENMAPSPACE_grant_table: one of the domain's own grant-table frames at `gpfn`. */
  mapOwnSpecial(xen: Xen, mfn: number, gpfn: number): number {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS)) return -EINVAL;
    const rc = this.removeMapping(xen, gpfn);
    if (rc !== 0 && rc !== -ENOENT) return rc;
    this.physmap[gpfn] = mfn;
    this.slotKind[gpfn] = SLOT_SHARED_INFO;
    return 0;
  }

  /** The frame of RAM at `gfn` (the domain's own memory), or -1. */
  ramMfn(gfn: number): number {
    if (!(gfn >= 0 && gfn < NATIVE_MAX_PFNS) || this.slotKind[gfn] !== SLOT_RAM) return -1;
    return this.physmap[gfn]!;
  }

  /** Empty the RAM slot `gpfn` without freeing its frame (a page transfer took it). */
  takeRamSlot(xen: Xen, gpfn: number): void {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS) || this.slotKind[gpfn] !== SLOT_RAM) return;
    const mfn = this.physmap[gpfn]!;
    this._clear(gpfn);
    xen.m2p.set(mfn, INVALID_M2P_ENTRY);
  }

  /** A granted frame at `gpfn` (the slot must be free); false otherwise. */
  mapGrant(gpfn: number, mfn: number, readonly: boolean): boolean {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS) || this.slotKind[gpfn] !== SLOT_EMPTY) return false;
    this.physmap[gpfn] = mfn;
    this.slotKind[gpfn] = readonly ? SLOT_GRANT_RO : SLOT_GRANT;
    return true;
  }

  /** Remove the grant mapping of `mfn` at `gpfn`; false if the slot holds something else. */
  unmapGrant(gpfn: number, mfn: number, readonly: boolean): boolean {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS) || this.slotKind[gpfn] !== (readonly ? SLOT_GRANT_RO : SLOT_GRANT) ||
        this.physmap[gpfn] !== mfn) {
      return false;
    }
    this._clear(gpfn);
    return true;
  }

  /** False for pages the domain may only read (read-only grant mappings). */
  writable(gpfn: number): boolean {
    return this.slotKind[gpfn] !== SLOT_GRANT_RO;
  }

  /** A frame that became the domain's (a page transfer) as RAM at `gpfn` (slot free). */
  addRamPage(xen: Xen, gpfn: number, mfn: number): boolean {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS) || this.slotKind[gpfn] !== SLOT_EMPTY) return false;
    this.physmap[gpfn] = mfn;
    this.slotKind[gpfn] = SLOT_RAM;
    xen.m2p.set(mfn, gpfn);
    this.ramPages = Math.max(this.ramPages, gpfn + 1);
    return true;
  }

  /** gmfn_foreign: map frame `gfn` of domain `fdomid` at `gpfn` (privileged). */
  mapForeign(xen: Xen, d: Domain, fdomid: number, gfn: number, gpfn: number): number {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS)) return -EINVAL;
    if (!d.privileged) return -EPERM;
    let mfn: number;
    let owner: number;
    if (fdomid === DOMID_XEN) {
      // Only the frames Xen shares with privileged domains (the trace buffer).
      if (!xen.sharedXenFrames.contains(gfn)) return -EPERM;
      mfn = gfn;
      owner = DOMID_XEN;
    } else {
      const fd = xen.domain(fdomid);
      if (fd === undefined || fd === d) return -ESRCH;
      owner = fd.domid;
      mfn = fd.native !== null ? (gfn < NATIVE_MAX_PFNS ? fd.native.physmap[gfn]! : -1) : gfn;
    }
    if (mfn < 0 || !xen.mm.ft.valid(mfn) || !xen.mm.getPage(mfn, owner)) return -EINVAL;
    const rc = this.removeMapping(xen, gpfn);
    if (rc !== 0 && rc !== -ENOENT) {
      xen.mm.putPage(mfn);
      return rc;
    }
    this.physmap[gpfn] = mfn;
    this.slotKind[gpfn] = SLOT_FOREIGN;
    return 0;
  }

  /** XENMEM_remove_from_physmap: unmap a slot (RAM is given back to the heap). */
  removeMapping(xen: Xen, gpfn: number): number {
    if (!(gpfn >= 0 && gpfn < NATIVE_MAX_PFNS)) return -EINVAL;
    switch (this.slotKind[gpfn]) {
      case SLOT_EMPTY:
        return -ENOENT;
      case SLOT_RAM:
        return this.removeRam(xen, gpfn);
      case SLOT_FOREIGN: {
        const mfn = this.physmap[gpfn]!;
        this._clear(gpfn);
        xen.mm.putPage(mfn);
        return 0;
      }
      case SLOT_GRANT:
      case SLOT_GRANT_RO:
        // Only the grant unmap removes a grant mapping (its references are the grant table's).
        return -EBUSY;
      default:
        this._clear(gpfn);
        return 0;
    }
  }

  /** Drop every mapping (domain destruction). */
  releaseAll(xen: Xen): void {
    for (let p = 0; p < NATIVE_MAX_PFNS; p++) {
      if (this.slotKind[p] === SLOT_GRANT || this.slotKind[p] === SLOT_GRANT_RO) this._clear(p); // the grant table's
      else if (this.slotKind[p] !== SLOT_EMPTY) this.removeMapping(xen, p);
    }
  }

  maxGpfn(): number {
    for (let p = NATIVE_MAX_PFNS - 1; p >= 0; p--) if (this.slotKind[p] !== SLOT_EMPTY) return p;
    return 0;
  }

  /** Foreign references held (for the audit): mfn -> count. */
  foreignRefs(): Map<number, number> {
    const m = new Map<number, number>();
    for (let p = 0; p < NATIVE_MAX_PFNS; p++) {
      if (this.slotKind[p] === SLOT_FOREIGN) m.set(this.physmap[p]!, (m.get(this.physmap[p]!) ?? 0) + 1);
    }
    return m;
  }

  private _clear(gpfn: number): void {
    this.physmap[gpfn] = -1;
    this.slotKind[gpfn] = SLOT_EMPTY;
  }
}

/** A native domain's handles are pseudo-physical addresses in its physmap. */
class NativeGuestMemory implements GuestMemory {
  constructor(private readonly _n: NativeDomain) {}

  read(gva: number, dst: Uint8Array, len: number): boolean {
    let done = 0;
    const u8 = this._n.mem.u8;
    while (done < len) {
      const ma = this._n.maddrOf(gva + done);
      if (ma < 0) return false;
      const k = Math.min(len - done, 4096 - ((gva + done) & 0xfff));
      dst.set(u8.subarray(ma, ma + k), done);
      done += k;
    }
    return true;
  }

  write(gva: number, src: Uint8Array, len: number): boolean {
    let done = 0;
    while (done < len) {
      if (this._n.maddrOf(gva + done) < 0 || !this._n.writable(Math.floor((gva + done) / 4096))) return false;
      done += Math.min(len - done, 4096 - ((gva + done) & 0xfff));
    }
    done = 0;
    while (done < len) {
      const ma = this._n.maddrOf(gva + done);
      const k = Math.min(len - done, 4096 - ((gva + done) & 0xfff));
      this._n.mem.writeBytes(maddr(ma), src.subarray(done, done + k));
      done += k;
    }
    return true;
  }
}

/**
 * The port a native domain's code reaches the hypervisor through. Structurally it is the
 * HypercallPort interface dom0 declares (src/dom0/libxc/port.ts); src/host hands one to
 * dom0. Everything dom0 does goes through hypercall() or its own pseudo-physical memory.
 */
export class NativePort {
  constructor(private readonly _xen: Xen, readonly domain: Domain) {
    assert(domain.native !== null, () => `port for non-native ${domain}`);
  }

  get domid(): number {
    return this.domain.domid;
  }

  /** Pages of RAM at pseudo-physical frames 0..ramPages-1. */
  get ramPages(): number {
    return this.domain.native!.ramPages; // SAFETY: checked in the constructor
  }

  hypercall(nr: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    const v = this.domain.vcpu(0);
    if (v === null || this.domain.dying) return -ESRCH;
    this._xen.nativeHypercall(v);
    return dispatch(this._xen, v, nr, a1, a2, a3, a4, a5);
  }

  /** Copy from the domain's pseudo-physical memory; false if a page is not mapped. */
  read(gpa: number, dst: Uint8Array, len = dst.length): boolean {
    return this.domain.native!.guest.read(gpa, dst, len); // SAFETY: checked in the constructor
  }

  write(gpa: number, src: Uint8Array, len = src.length): boolean {
    return this.domain.native!.guest.write(gpa, src, len); // SAFETY: checked in the constructor
  }

  /**
   * A live view of `len` bytes at pseudo-physical `gpa` (within one page), or null if the
   * page is not mapped: zero-copy access to the domain's own pages and to frames mapped
   * into its physmap (foreign mappings, grant mappings). Reads are free. A view to write
   * through is asked for with `write` (refused for read-only grant mappings), and after
   * writing the caller must call written() so decoded guest code stays coherent.
   */
  view(gpa: number, len: number, write = false): Uint8Array | null {
    if (len < 0 || (gpa & 0xfff) + len > 4096) return null;
    const n = this.domain.native!; // SAFETY: checked in the constructor
    if (write && !n.writable(Math.floor(gpa / 4096))) return null;
    const ma = n.maddrOf(gpa);
    return ma < 0 ? null : this._xen.mem.u8.subarray(ma, ma + len);
  }

  /** Bytes [gpa, gpa + len) of a view() were written (code coherence). */
  written(gpa: number, len: number): void {
    const ma = this.domain.native!.maddrOf(gpa); // SAFETY: checked in the constructor
    if (ma >= 0) this._xen.mem.notifyWritten(ma, Math.min(len, 4096 - (gpa & 0xfff)));
  }

  /** Register the event upcall (called when evtchn_upcall_pending goes 0 -> 1). */
  setEventHandler(fn: (() => void) | null): void {
    this.domain.native!.onEvent = fn; // SAFETY: checked in the constructor
  }
}

/** Run the upcalls of native vCPUs kicked since the last call (the host's event loop). */
export function runNativeUpcalls(xen: Xen): number {
  const pending = xen.pv.nativePending;
  xen.pv.nativeDeadline = Infinity;
  let n = 0;
  while (pending.size > 0) {
    const v: Vcpu = pending.values().next().value!; // SAFETY: size > 0
    pending.delete(v);
    const h = v.domain.native?.onEvent;
    if (h && !v.domain.dying) {
      // The upcall is the native vCPU's own work: it runs for its span (sched/core.ts).
      xen.sched.nativeBegin(v);
      try {
        h();
      } finally {
        xen.sched.nativeEnd(v);
      }
      n++;
    }
  }
  return n;
}

