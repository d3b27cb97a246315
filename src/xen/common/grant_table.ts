/**
 * Grant tables (v1): each domain's table of grant entries shared with it, the hypervisor's
 * active entries shadowing the ones in use, and the domain's own maptrack (the mappings it
 * made of other domains' grants). The operations live beside this file:
 * grant_table_map.ts (map, unmap, unmap_and_replace, release), grant_table_copy.ts,
 * grant_table_transfer.ts, grant_table_op.ts (hypercall decoding); grant_table_pv.ts and
 * grant_table_p2m.ts put host mappings into a PV guest's L1s or a native domain's physmap.
 *
 * Layout (grant-tables.md; Xen 4.17's defaults):
 *   shared frames  nrFrames (1 at creation, grown by setup_table up to maxFrames = 64)
 *                  special pages of the domain (Xen heap pages shared with it), 512 v1
 *                  entries each: flags u16 @0, domid u16 @2, frame u32 @4. The guest writes
 *                  them; Xen reads flags+domid as one 32-bit word and sets/clears
 *                  GTF_reading / GTF_writing (permit_access) and GTF_transfer_* (accept).
 *   active entries per ref: pin (four 8-bit counters: host write/read, device write/read),
 *                  the mapping domain, the machine frame latched on the first pin.
 *   maptrack       per mapping domain: handle -> (granting domain, ref, GNTMAP_* flags);
 *                  256 handles per maptrack "frame", up to maxMaptrackFrames = 1024,
 *                  handed out from per-vCPU free lists exactly as Xen does (FIFO, one entry
 *                  always kept back, a new frame allocated when a list runs dry).
 *
 * Reference accounting (who holds what on a granted frame):
 *   - A device mapping holds a general reference, plus a writable type reference when
 *     writable. A host mapping holds the same (the type only for a writable PV mapping, or
 *     a native mapping of its own frame), but for a PV mapper these belong to the PTE: the
 *     L1 entry it sits in drops them if the guest overwrites it, and page-table teardown
 *     drops them at death (Xen's gnttab_release_host_mappings is false for PV). Native
 *     (translated) mappers' host mappings are held by the maptrack and counted by the audit.
 *   - A copy holds its references only for the duration of the operation.
 *   - The hypervisor holds one extra general reference on every shared frame (Xen owns
 *     its heap pages): the frames stay readable while the domain is dying, so a backend's
 *     late unmap still finds the entry, and are freed when the domain is.
 *
 * Invariants:
 *   - pin != 0 implies GTF_reading is set in the entry (we set it first and clear it only
 *     when pin returns to 0); GTF_writing is set while a write pin exists. A granter that
 *     follows the revoke protocol (cmpxchg of flags while neither bit is set) can therefore
 *     never revoke an entry in use, and nothing can start a new pin on a revoked entry.
 *   - The shared frames only grow; refs >= nrFrames * 512 are GNTST_bad_gntref.
 *   - A maptrack entry with flags 0 is free; its `ref` field is then the free-list link.
 */
import { DOMID_SELF } from '../../abi/xen.ts';
import { EINVAL, ENOMEM } from '../../abi/errno.ts';
import {
  GNTTAB_V1_ENTRIES_PER_FRAME, GTF_reading, GTF_writing, GNTMAP_device_map, GNTMAP_host_map, GNTMAP_readonly,
} from '../../abi/grant_table.ts';
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import { auditContributors } from '../audit.ts';
import { PGT_writable_page } from '../mm/frame_table.ts';
import { assert } from '../util/assert.ts';
import type { P2mGrantMapper } from './grant_table_map.ts';
import type { P2mPageAdder } from './grant_table_transfer.ts';
import { NativeGrantP2m } from './grant_table_p2m.ts';

/** Xen 4.17's defaults (boot options gnttab_max_frames / gnttab_max_maptrack_frames). */
export const OPT_MAX_GRANT_FRAMES = 64;
export const OPT_MAX_MAPTRACK_FRAMES = 1024;
/** Frames a new table has (Xen 4.x's INITIAL_NR_GRANT_FRAMES). */
export const INITIAL_GRANT_FRAMES = 1;
/** 4096 / sizeof(struct grant_mapping) (16 bytes). */
export const MAPTRACK_PER_PAGE = 256;
export const ENTRIES_PER_FRAME = GNTTAB_V1_ENTRIES_PER_FRAME;

// Active entry pin counters (Xen's GNTPIN_*; hypervisor-internal, not ABI).
export const GNTPIN_hstw_inc = 1 << 0;
export const GNTPIN_hstw_mask = 0xff << 0;
export const GNTPIN_hstr_inc = 1 << 8;
export const GNTPIN_hstr_mask = 0xff << 8;
export const GNTPIN_devw_inc = 1 << 16;
export const GNTPIN_devw_mask = 0xff << 16;
export const GNTPIN_devr_inc = 1 << 24;
export const GNTPIN_devr_mask = 0xff << 24;
/** A pin counter at 128 or more refuses further pins (risk of overflow). */
export const GNTPIN_overflow = 0x80808080;
export const GNTPIN_write_mask = GNTPIN_hstw_mask | GNTPIN_devw_mask;

const MAPTRACK_TAIL = -1;

/** Paging external (translated) domains: native domains here (and HVM later). */
export function isTranslated(d: Domain): boolean {
  return d.kind !== 'pv';
}

export class GrantTable {
  version = 1;
  /** Shared frames (machine frame numbers), in ref order. */
  readonly frames: number[] = [];
  actPin = new Uint32Array(0);
  actDomid = new Uint16Array(0);
  actMfn = new Int32Array(0);
  /** Maptrack: next link while free, the granting domain's ref while in use. */
  mtRef = new Int32Array(0);
  mtFlags = new Uint16Array(0);
  mtDomid = new Uint16Array(0);
  mtVcpu = new Uint16Array(0);
  maptrackLimit = 0;
  /** Per vCPU free-list head/tail (MAPTRACK_TAIL = none). */
  private _head: Int32Array;
  private _tail: Int32Array;
  /** The frames (gfns) a translated domain mapped its shared frames at, -1 = not mapped. */
  readonly gfnOfFrame: number[] = [];

  constructor(readonly domain: Domain, public maxFrames: number, public maxMaptrackFrames: number) {
    const n = Math.max(1, domain.maxVcpus, domain.vcpus.length);
    this._head = new Int32Array(n).fill(MAPTRACK_TAIL);
    this._tail = new Int32Array(n).fill(MAPTRACK_TAIL);
  }

  get nrFrames(): number {
    return this.frames.length;
  }

  get nrEntries(): number {
    return this.frames.length * ENTRIES_PER_FRAME;
  }

  /** Machine address of entry `ref` (the caller checked ref < nrEntries). */
  entryMa(ref: number): number {
    return this.frames[ref >>> 9]! * 4096 + (ref & (ENTRIES_PER_FRAME - 1)) * 8;
  }

  // ---- maptrack handles (Xen's get/put_maptrack_handle) -------------------------------------

  private _lists(vcpu: number): void {
    if (vcpu < this._head.length) return;
    const h = new Int32Array(vcpu + 1).fill(MAPTRACK_TAIL);
    const t = new Int32Array(vcpu + 1).fill(MAPTRACK_TAIL);
    h.set(this._head);
    t.set(this._tail);
    this._head = h;
    this._tail = t;
  }

  /** Take a handle from vCPU `vcpu`'s list, keeping its last entry back; -1 if none. */
  private _take(vcpu: number): number {
    const head = this._head[vcpu]!;
    if (head === MAPTRACK_TAIL) return -1;
    const next = this.mtRef[head]!;
    if (next === MAPTRACK_TAIL) return -1;
    this._head[vcpu] = next;
    return head;
  }

  /** A free handle for a mapping made by vCPU `vcpu`, or -1 (maptrack exhausted). */
  getHandle(vcpu: number): number {
    this._lists(vcpu);
    const h = this._take(vcpu);
    if (h >= 0) return h;
    if (this.maptrackLimit / MAPTRACK_PER_PAGE < this.maxMaptrackFrames) return this._grow(vcpu);
    // No headroom: steal from the other vCPUs' lists (deterministic order, from vCPU 0).
    if (this._tail[vcpu] === MAPTRACK_TAIL) {
      const s = this._steal(vcpu);
      if (s < 0) return -1;
      this.mtRef[s] = MAPTRACK_TAIL;
      this._tail[vcpu] = s;
      if (this._head[vcpu] === MAPTRACK_TAIL) this._head[vcpu] = s;
    }
    return this._steal(vcpu);
  }

  private _steal(thief: number): number {
    for (let i = 0; i < this._head.length; i++) {
      const h = this._take(i);
      if (h >= 0) {
        this.mtVcpu[h] = thief;
        return h;
      }
    }
    return -1;
  }

  /** Add a maptrack frame: its first handle is returned, the rest join vCPU `vcpu`'s list. */
  private _grow(vcpu: number): number {
    const base = this.maptrackLimit;
    const n = base + MAPTRACK_PER_PAGE;
    this.mtRef = grow32(this.mtRef, n);
    this.mtFlags = grow16(this.mtFlags, n);
    this.mtDomid = grow16(this.mtDomid, n);
    this.mtVcpu = grow16(this.mtVcpu, n);
    for (let i = 0; i < MAPTRACK_PER_PAGE; i++) {
      this.mtRef[base + i] = base + i + 1;
      this.mtVcpu[base + i] = vcpu;
    }
    if (this._tail[vcpu] === MAPTRACK_TAIL) this._tail[vcpu] = base + MAPTRACK_PER_PAGE - 1;
    this.maptrackLimit = n;
    this.mtRef[base + MAPTRACK_PER_PAGE - 1] = this._head[vcpu]!;
    this._head[vcpu] = base + 1;
    return base;
  }

  /** Return handle `h` to the tail of the list of the vCPU it came from. */
  putHandle(h: number): void {
    this.mtRef[h] = MAPTRACK_TAIL;
    this.mtFlags[h] = 0;
    const v = this.mtVcpu[h]!;
    this._lists(v);
    const prev = this._tail[v]!;
    this._tail[v] = h;
    if (prev !== MAPTRACK_TAIL) this.mtRef[prev] = h;
    else this._head[v] = h;
  }

  // ---- growth ---------------------------------------------------------------------------------

  /** Active arrays for `entries` refs (shared frames are added by GrantTables.grow). */
  growActive(entries: number): void {
    this.actPin = grow32u(this.actPin, entries);
    this.actDomid = grow16(this.actDomid, entries);
    this.actMfn = grow32(this.actMfn, entries);
  }

  /** Handles in use (mapped by this domain), for diagnostics and tests. */
  mappingsInUse(): number {
    let n = 0;
    for (let h = 0; h < this.maptrackLimit; h++) if (this.mtFlags[h] !== 0) n++;
    return n;
  }

  /** Refs with a non-zero pin. */
  activeInUse(): number {
    let n = 0;
    for (let r = 0; r < this.actPin.length; r++) if (this.actPin[r] !== 0) n++;
    return n;
  }
}

function grow32(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (a.length >= n) return a;
  const b = new Int32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

function grow32u(a: Uint32Array<ArrayBuffer>, n: number): Uint32Array<ArrayBuffer> {
  if (a.length >= n) return a;
  const b = new Uint32Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

function grow16(a: Uint16Array<ArrayBuffer>, n: number): Uint16Array<ArrayBuffer> {
  if (a.length >= n) return a;
  const b = new Uint16Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/**
 * The grant tables of all domains and the services the operations share: entry access in
 * machine memory (every write code-coherent), table creation and growth, the audit's view
 * of the references mappings hold, and the lifecycle hooks (release at death, free when
 * the domain is gone).
 */
export class GrantTables {
  private readonly _tables = new Map<number, GrantTable>();
  /** Host mappings and page additions for translated (native) domains, set by their arch code. */
  p2m: (P2mGrantMapper & P2mPageAdder) | null = null;
  private readonly _view: DataView;

  constructor(readonly xen: Xen) {
    this._view = xen.mem.view;
    this.p2m = new NativeGrantP2m(xen);
    xen.listeners.push({ destroyed: (domid) => this.destroy(domid) });
    auditContributors.push((x, expect) => {
      if (x !== xen) return;
      for (const t of this._tables.values()) this._auditTable(t, expect);
    });
  }

  /**
   * Give `d` its table (domain creation; XEN_DOMCTL_createdomain's max_grant_frames and
   * max_maptrack_frames, -1 = the defaults). -EINVAL for limits Xen refuses, -ENOMEM.
   */
  init(d: Domain, maxFrames = -1, maxMaptrackFrames = -1): GrantTable | number {
    const mf = maxFrames < 0 ? OPT_MAX_GRANT_FRAMES : maxFrames;
    const mm = maxMaptrackFrames < 0 ? OPT_MAX_MAPTRACK_FRAMES : maxMaptrackFrames;
    if (mf < INITIAL_GRANT_FRAMES || mf > OPT_MAX_GRANT_FRAMES || mm > OPT_MAX_MAPTRACK_FRAMES) return -EINVAL;
    const old = this._tables.get(d.domid);
    if (old !== undefined && old.domain === d) return old;
    const t = new GrantTable(d, mf, mm);
    this._tables.set(d.domid, t);
    if (this.grow(t, INITIAL_GRANT_FRAMES) !== 0) return -ENOMEM;
    return t;
  }

  /**
   * XEN_DOMCTL_createdomain's limits for a domain just created (-1 = Xen's defaults):
   * -EINVAL for values Xen refuses (fewer frames than a new table has, more than the
   * boot-time maxima).
   */
  setLimits(d: Domain, maxFrames: number, maxMaptrackFrames: number): number {
    const mf = maxFrames < 0 ? OPT_MAX_GRANT_FRAMES : maxFrames;
    const mm = maxMaptrackFrames < 0 ? OPT_MAX_MAPTRACK_FRAMES : maxMaptrackFrames;
    if (mf < INITIAL_GRANT_FRAMES || mf > OPT_MAX_GRANT_FRAMES || mm > OPT_MAX_MAPTRACK_FRAMES) return -EINVAL;
    const t = this.of(d);
    if (mf < t.nrFrames || mm * MAPTRACK_PER_PAGE < t.maptrackLimit) return -EINVAL;
    t.maxFrames = mf;
    t.maxMaptrackFrames = mm;
    return 0;
  }

  /** The table of `d` (created with the defaults on first use). */
  of(d: Domain): GrantTable {
    const t = this._tables.get(d.domid);
    if (t !== undefined && t.domain === d) return t;
    const r = this.init(d);
    assert(typeof r !== 'number', () => `default grant table limits refused for ${d}`);
    return r;
  }

  /** The table of domain id `domid` if it has one (also while the domain is dying). */
  byId(domid: number): GrantTable | undefined {
    return this._tables.get(domid);
  }

  /** gnttab_grow_table: at least `frames` shared frames; 0 or -ENOMEM. */
  grow(t: GrantTable, frames: number): number {
    const d = t.domain;
    const mm = this.xen.mm;
    while (t.frames.length < frames) {
      const mfn = mm.allocSpecialPage(d);
      if (mfn < 0) return -ENOMEM;
      mm.ft.getPageLight(mfn); // the hypervisor's own reference (Xen heap page)
      t.frames.push(mfn);
      t.gfnOfFrame.push(-1);
    }
    t.growActive(t.nrEntries);
    return 0;
  }

  /**
   * XENMAPSPACE_grant_table for a translated domain: its shared frame `idx` (the table grows
   * to include it) at `gpfn`. 0 or -errno (-EINVAL past the limit, -ENOMEM).
   */
  mapFrameAt(d: Domain, idx: number, gpfn: number): number {
    if (d.native === null) return -EINVAL;
    const t = this.of(d);
    if (!(idx >= 0 && idx < t.maxFrames)) return -EINVAL;
    if (idx >= t.nrFrames && this.grow(t, idx + 1) !== 0) return -ENOMEM;
    const rc = d.native.mapOwnSpecial(this.xen, t.frames[idx]!, gpfn);
    if (rc === 0) t.gfnOfFrame[idx] = gpfn;
    return rc;
  }

  // ---- entry access ---------------------------------------------------------------------------

  /** flags | domid << 16 of entry `ref` (one 32-bit read, as Xen's grant_combo). */
  combo(t: GrantTable, ref: number): number {
    return this._view.getUint32(t.entryMa(ref), true);
  }

  flags(t: GrantTable, ref: number): number {
    return this._view.getUint16(t.entryMa(ref), true);
  }

  frame(t: GrantTable, ref: number): number {
    return this._view.getUint32(t.entryMa(ref) + 4, true);
  }

  setFlags(t: GrantTable, ref: number, flags: number): void {
    const ma = t.entryMa(ref);
    this._view.setUint16(ma, flags & 0xffff, true);
    this.xen.mem.notifyWritten(ma, 2);
  }

  setFrame(t: GrantTable, ref: number, frame: number): void {
    const ma = t.entryMa(ref) + 4;
    this._view.setUint32(ma, frame >>> 0, true);
    this.xen.mem.notifyWritten(ma, 4);
  }

  /** gnttab_clear_flags. */
  clearFlags(t: GrantTable, ref: number, bits: number): void {
    this.setFlags(t, ref, this.flags(t, ref) & ~bits);
  }

  /**
   * Drop a pin's status bits once its counters allow (the tail of every unpin): writing
   * goes when a write pin was dropped and none remains, reading when no pin remains.
   */
  reduceStatus(t: GrantTable, ref: number, wasWrite: boolean): void {
    const pin = t.actPin[ref]!;
    let clear = 0;
    if (wasWrite && (pin & GNTPIN_write_mask) === 0) clear |= GTF_writing;
    if (pin === 0) clear |= GTF_reading;
    if (clear !== 0) this.clearFlags(t, ref, clear);
  }

  /** rcu_lock_domain_by_any_id: DOMID_SELF is the caller; dying domains are still found. */
  domainByAnyId(caller: Domain, domid: number): Domain | undefined {
    return domid === DOMID_SELF ? caller : this.xen.domain(domid);
  }

  /** Flush the TLBs the mapping domain's vCPUs use (gnttab_flush_tlb). */
  flushTlb(d: Domain): void {
    if (isTranslated(d)) return;
    for (const v of d.vcpus) v?.pv?.cpu?.flushTlb();
  }

  /** The vCPU index a maptrack entry is charged to. */
  static vcpuOf(v: Vcpu): number {
    return v.id;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** The domain is gone: free its shared frames (the hypervisor's references). */
  destroy(domid: number): void {
    const t = this._tables.get(domid);
    if (t === undefined) return;
    this._tables.delete(domid);
    for (const mfn of t.frames) this.xen.mm.putPage(mfn);
    t.frames.length = 0;
  }

  // ---- audit ------------------------------------------------------------------------------------

  private _auditTable(t: GrantTable, expect: { general(mfn: number, n?: number): void; type(mfn: number, type: number): void }): void {
    for (const mfn of t.frames) expect.general(mfn);
    const ld = t.domain;
    for (let h = 0; h < t.maptrackLimit; h++) {
      const fl = t.mtFlags[h]!;
      if ((fl & (GNTMAP_device_map | GNTMAP_host_map)) === 0) continue;
      const rt = this._tables.get(t.mtDomid[h]!);
      if (rt === undefined) continue;
      const mfn = rt.actMfn[t.mtRef[h]!]!;
      const ro = (fl & GNTMAP_readonly) !== 0;
      if ((fl & GNTMAP_device_map) !== 0) {
        expect.general(mfn);
        if (!ro) expect.type(mfn, PGT_writable_page);
      }
      // A PV mapper's host mapping is counted through the PTE it sits in (the L1 walk).
      if ((fl & GNTMAP_host_map) !== 0 && isTranslated(ld)) {
        expect.general(mfn);
        if (!ro && (ld === rt.domain || !isTranslated(rt.domain))) expect.type(mfn, PGT_writable_page);
      }
    }
  }
}

const TABLES = new WeakMap<Xen, GrantTables>();

/** The grant tables of hypervisor `xen` (created on first use). */
export function grantTables(xen: Xen): GrantTables {
  let g = TABLES.get(xen);
  if (g === undefined) {
    g = new GrantTables(xen);
    TABLES.set(xen, g);
  }
  return g;
}
