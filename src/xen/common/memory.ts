/**
 * memory_op (12): Xen's common/memory.c and the x86 compat arch part, for 32-bit PV guests
 * and native (auto-translated) domains.
 *
 * Reservation ops (increase/decrease/populate) return the number of extents done; bad
 * input (unreadable struct, unknown domain, no permission, oversized order) makes them
 * return 0 without an errno, exactly like Xen. For a PV guest a GMFN is an MFN:
 *   increase_reservation  new extents, their MFNs written out; the M2P is not touched
 *   populate_physmap      new extents for the given PFNs; M2P[mfn] = pfn; MFNs written out
 *   decrease_reservation  give frames back (guest_remove_page): M2P entry invalidated, a
 *                         pin dropped, the allocation reference dropped; a frame still
 *                         mapped stays alive (and counted) until its last mapping goes.
 *
 * Invariants: tot_pages never passes max_pages through these ops; a failed extent stops
 * the batch with everything before it done.
 */
import { EACCES, EDOM, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSYS, ENXIO, EOPNOTSUPP, EPERM, ESRCH } from '../../abi/errno.ts';
import {
  MEMOP_CMD_MASK, MEMOP_EXTENT_SHIFT, XENMAPSPACE_gmfn_foreign, XENMAPSPACE_grant_table, XENMAPSPACE_gmfn_range, XENMAPSPACE_shared_info,
  XENMEM_add_to_physmap, XENMEM_add_to_physmap_batch, XENMEM_current_reservation, XENMEM_decrease_reservation,
  XENMEM_exchange, XENMEM_increase_reservation, XENMEM_machine_memory_map, XENMEM_machphys_compat_mfn_list,
  XENMEM_machphys_mapping, XENMEM_machphys_mfn_list, XENMEM_maximum_gpfn, XENMEM_maximum_ram_page,
  XENMEM_maximum_reservation, XENMEM_memory_map, XENMEM_populate_physmap, XENMEM_remove_from_physmap,
  XENMEM_set_memory_map, XENMEMF_get_address_bits,
} from '../../abi/memory.ts';
import { __HYPERVISOR_memory_op, DOMID_SELF, SHARED_INFO_ARCH_MAX_PFN } from '../../abi/xen.ts';
import { HYPERVISOR_VIRT_START, MACH2PHYS_COMPAT_VIRT_END } from '../../abi/arch_x86_32.ts';
import type { Xen } from '../xen.ts';
import { grantTables } from './grant_table.ts';
import type { Vcpu } from './vcpu.ts';
import type { Domain } from './domain.ts';
import { guestOf } from './kernel.ts';
import { PGC_special } from '../mm/frame_table.ts';
import { INVALID_M2P_ENTRY } from '../arch/x86/mm/m2p.ts';
import { createContinuation, hypercallPreemptCheck } from '../arch/x86/hypercall.ts';

/** Largest extent order a domU may ask for (CONFIG_DOMU_MAX_ORDER); control domains more. */
const DOMU_MAX_ORDER = 9;
const CTLDOM_MAX_ORDER = 18;
/** E820MAX in Xen. */
const E820_MAX = 1024;

function maxOrder(d: Domain): number {
  return d.privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER;
}

/** rcu_lock_domain_by_any_id + XSM_TARGET; undefined when either fails. */
function targetDomain(xen: Xen, caller: Domain, domid: number): Domain | undefined {
  const d = domid === DOMID_SELF ? caller : xen.domain(domid);
  if (d === undefined || d.dying) return undefined;
  if (d !== caller && !caller.privileged) return undefined;
  return d;
}

/** Allocate one extent for `d`, honouring an address-width limit; -1 on failure. */
function allocExtent(xen: Xen, d: Domain, order: number, addressBits: number): number {
  const mfn = xen.mm.allocDomainPages(d, order);
  if (mfn < 0) return -1;
  if (addressBits !== 0 && addressBits < 44 && (mfn + 2 ** order) * 4096 > 2 ** addressBits) {
    for (let i = 0; i < 2 ** order; i++) xen.mm.dropAllocation(mfn + i);
    return -1;
  }
  return mfn;
}

/** guest_remove_page for a PV (or native) domain: 0 or -errno. */
export function guestRemovePage(xen: Xen, d: Domain, gmfn: number): number {
  if (d.native !== null) return d.native.removeRam(xen, gmfn);
  const ft = xen.mm.ft;
  if (!ft.valid(gmfn)) return -EINVAL;
  if (!xen.mm.getPage(gmfn, d.domid)) return -ENXIO;
  if ((ft.flags[gmfn]! & PGC_special) !== 0) {
    // Xen's own page shared with the guest (shared_info): Xen accepts the request, but
    // the frame stays Xen's and keeps working (it is not the guest's memory).
    xen.mm.putPage(gmfn);
    return 0;
  }
  // Xen 4.17 only drops the allocation reference: a pinned table or a mapped frame stays
  // allocated (and counted in tot_pages) until its last reference goes.
  xen.m2p.set(gmfn, INVALID_M2P_ENTRY);
  xen.mm.dropAllocation(gmfn);
  xen.mm.putPage(gmfn);
  return 0;
}

function reservationOp(xen: Xen, v: Vcpu, op: number, arg: number, start: number): number {
  const caller = v.domain;
  const mem = guestOf(v);
  const r = xen.scratch.readStruct(mem, arg, 20);
  if (r === null) return start;
  const list = r.getUint32(0, true);
  const nr = r.getUint32(4, true);
  const order = r.getUint32(8, true);
  const memFlags = r.getUint32(12, true);
  const domid = r.getUint16(16, true);
  if (nr > (0xffffffff >>> MEMOP_EXTENT_SHIFT) || start >= nr) return start;
  const d = targetDomain(xen, caller, domid);
  if (d === undefined) return start;
  const bits = XENMEMF_get_address_bits(memFlags);
  if (bits !== 0 && bits <= 12) return start;
  if (order > maxOrder(caller)) return start;
  const n = 2 ** order;
  let i = start;
  for (; i < nr; i++) {
    // A long request continues later from extent i (the start lives in the command's top bits).
    if (i > start && hypercallPreemptCheck(xen)) {
      return createContinuation(xen, v, __HYPERVISOR_memory_op, (op + i * 2 ** MEMOP_EXTENT_SHIFT) >>> 0, arg);
    }
    xen.hcWork += n;
    if (op === XENMEM_increase_reservation) {
      const mfn = allocExtent(xen, d, order, bits);
      if (mfn < 0) break;
      if (list !== 0 && d.native === null && !xen.scratch.writeU32(mem, list + i * 4, mfn)) break;
    } else if (op === XENMEM_populate_physmap) {
      const gpfn = xen.scratch.readU32(mem, list + i * 4);
      if (gpfn === null) break;
      if (d.native !== null) {
        if (d.native.populate(xen, d, gpfn, order) !== 0) break;
        continue;
      }
      const mfn = allocExtent(xen, d, order, bits);
      if (mfn < 0) break;
      for (let j = 0; j < n; j++) xen.m2p.set(mfn + j, gpfn + j);
      if (!xen.scratch.writeU32(mem, list + i * 4, mfn)) break;
    } else {
      const gmfn = xen.scratch.readU32(mem, list + i * 4);
      if (gmfn === null) break;
      let ok = true;
      for (let j = 0; j < n && ok; j++) ok = guestRemovePage(xen, d, gmfn + j) === 0;
      if (!ok) break;
    }
  }
  return i;
}

export function doMemoryOp(xen: Xen, v: Vcpu, cmd: number, arg: number): number {
  const op = cmd & MEMOP_CMD_MASK;
  const start = cmd >>> MEMOP_EXTENT_SHIFT;
  const caller = v.domain;
  const mem = guestOf(v);
  switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
      return reservationOp(xen, v, op, arg, start);
    case XENMEM_exchange:
      if (start !== 0) return -EINVAL;
      return memoryExchange(xen, v, arg);
    case XENMEM_maximum_ram_page:
      if (start !== 0) return -EINVAL;
      return xen.mm.frames;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn: {
      if (start !== 0) return -EINVAL;
      const r = xen.scratch.readStruct(mem, arg, 2);
      if (r === null) return -EFAULT;
      const domid = r.getUint16(0, true);
      const d = domid === DOMID_SELF ? caller : xen.domain(domid);
      if (d === undefined || d.dying) return -ESRCH;
      if (d !== caller && !caller.privileged) return -EPERM;
      if (op === XENMEM_current_reservation) return d.totPages;
      if (op === XENMEM_maximum_reservation) return d.maxPages;
      if (d.native !== null) return d.native.maxGpfn();
      // PV: from shared_info.arch.max_pfn, which the guest maintains (it is a count).
      const maxPfn = xen.mem.view.getUint32(d.sharedInfoMfn * 4096 + SHARED_INFO_ARCH_MAX_PFN, true);
      return (maxPfn === 0 ? 1 : maxPfn) - 1;
    }
    case XENMEM_memory_map: {
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const e820 = caller.e820;
      if (e820 === null || e820.length === 0) return -ENOSYS;
      const cap = r.getUint32(0, true), buf = r.getUint32(4, true);
      const n = Math.min(cap, e820.length / 20);
      if (n > 0 && !mem.write(buf, e820, n * 20)) return -EFAULT;
      r.setUint32(0, n, true);
      return xen.scratch.writeBack(mem, arg, 8) ? 0 : -EFAULT;
    }
    case XENMEM_machine_memory_map: {
      if (!caller.privileged) return -EPERM;
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const cap = r.getUint32(0, true), buf = r.getUint32(4, true);
      if (buf !== 0 && cap < 1) return -EINVAL;
      if (buf !== 0) {
        const out = xen.scratch.out(20);
        out.setUint32(8, xen.mm.mem.size, true);
        out.setUint32(16, 1, true); // E820_RAM
        if (!xen.scratch.writeOut(mem, buf, 20)) return -EFAULT;
      }
      r.setUint32(0, 1, true);
      return xen.scratch.writeBack(mem, arg, 8) ? 0 : -EFAULT;
    }
    case XENMEM_set_memory_map: {
      const r = xen.scratch.readStruct(mem, arg, 12);
      if (r === null) return -EFAULT;
      const domid = r.getUint16(0, true), n = r.getUint32(4, true), buf = r.getUint32(8, true);
      if (n > E820_MAX) return -EINVAL;
      const d = domid === DOMID_SELF ? caller : xen.domain(domid);
      if (d === undefined) return -ESRCH;
      if (d !== caller && !caller.privileged) return -EPERM;
      const e820 = new Uint8Array(n * 20);
      if (n > 0 && !mem.read(buf, e820, n * 20)) return -EFAULT;
      d.e820 = e820;
      return 0;
    }
    case XENMEM_machphys_mapping: {
      const out = xen.scratch.out(12);
      out.setUint32(0, HYPERVISOR_VIRT_START, true);
      out.setUint32(4, MACH2PHYS_COMPAT_VIRT_END, true);
      out.setUint32(8, ((MACH2PHYS_COMPAT_VIRT_END - HYPERVISOR_VIRT_START) >>> 2) - 1, true);
      return xen.scratch.writeOut(mem, arg, 12) ? 0 : -EFAULT;
    }
    case XENMEM_machphys_mfn_list:
    case XENMEM_machphys_compat_mfn_list: {
      const r = xen.scratch.readStruct(mem, arg, 12);
      if (r === null) return -EFAULT;
      const max = r.getUint32(0, true), list = r.getUint32(4, true);
      const chunks = xen.m2p.chunkMfns;
      let i = 0;
      for (; i !== max && i < chunks.length; i++) if (!xen.scratch.writeU32(mem, list + i * 4, chunks[i]!)) return -EFAULT;
      r.setUint32(8, i, true);
      return xen.scratch.writeBack(mem, arg, 12) ? 0 : -EFAULT;
    }
    case XENMEM_add_to_physmap: {
      if (start > 0xffff) return -EDOM;
      const r = xen.scratch.readStruct(mem, arg, 16);
      if (r === null) return -EFAULT;
      const space = r.getUint32(4, true);
      if (space === XENMAPSPACE_gmfn_foreign) return -ENOSYS;
      const d = domidTarget(xen, caller, r.getUint16(0, true));
      if (typeof d === 'number') return d;
      if (d.native === null) return -EACCES;
      if (space === XENMAPSPACE_grant_table) return grantTables(xen).mapFrameAt(d, r.getUint32(8, true), r.getUint32(12, true));
      if (space !== XENMAPSPACE_shared_info) return -EINVAL;
      return r.getUint32(8, true) !== 0 ? -EINVAL : d.native.mapSharedInfo(xen, d, r.getUint32(12, true));
    }
    case XENMEM_add_to_physmap_batch:
      if (start > 0xffff) return -EDOM;
      return addToPhysmapBatch(xen, v, arg);
    case XENMEM_remove_from_physmap: {
      if (start !== 0) return -EINVAL;
      const r = xen.scratch.readStruct(mem, arg, 8);
      if (r === null) return -EFAULT;
      const d = domidTarget(xen, caller, r.getUint16(0, true));
      if (typeof d === 'number') return d;
      if (d.native === null) return -ENOENT;
      return d.native.removeMapping(xen, r.getUint32(4, true));
    }
    default:
      return -ENOSYS;
  }
}

function domidTarget(xen: Xen, caller: Domain, domid: number): Domain | number {
  const d = domid === DOMID_SELF ? caller : xen.domain(domid);
  if (d === undefined || d.dying) return -ESRCH;
  if (d !== caller && !caller.privileged) return -EPERM;
  return d;
}

/**
 * XENMEM_add_to_physmap_batch: struct {domid u16, size u16, space u32, idxs ptr, gpfns
 * ptr, errs ptr} with, for gmfn_foreign, foreign_domid in the u16 at offset 4 overlaid
 * (x86_32 layout: domid @0, size @2, space @4, idxs @8, gpfns @12, errs @16,
 * foreign_domid @20). The foreign-map path of an auto-translated (native) domain.
 */
function addToPhysmapBatch(xen: Xen, v: Vcpu, arg: number): number {
  const caller = v.domain;
  const mem = guestOf(v);
  const r = xen.scratch.readStruct(mem, arg, 24);
  if (r === null) return -EFAULT;
  const domid = r.getUint16(0, true), size = r.getUint16(2, true), space = r.getUint32(4, true);
  const idxs = r.getUint32(8, true), gpfns = r.getUint32(12, true), errs = r.getUint32(16, true);
  const foreign = r.getUint16(20, true);
  if (space === XENMAPSPACE_gmfn_range) return -EOPNOTSUPP;
  const d = domidTarget(xen, caller, domid);
  if (typeof d === 'number') return d;
  if (d.native === null) return -EACCES;
  for (let i = 0; i < size; i++) {
    const idx = xen.scratch.readU32(mem, idxs + i * 4);
    const gpfn = xen.scratch.readU32(mem, gpfns + i * 4);
    if (idx === null || gpfn === null) return -EFAULT;
    let rc: number;
    if (space === XENMAPSPACE_gmfn_foreign) rc = d.native.mapForeign(xen, d, foreign, idx, gpfn);
    else if (space === XENMAPSPACE_shared_info) rc = idx !== 0 ? -EINVAL : d.native.mapSharedInfo(xen, d, gpfn);
    else if (space === XENMAPSPACE_grant_table) rc = grantTables(xen).mapFrameAt(d, idx, gpfn);
    else rc = -EINVAL;
    if (!xen.scratch.writeU32(mem, errs + i * 4, rc)) return -EFAULT;
  }
  return 0;
}

/**
 * XENMEM_exchange for a PV guest: give up `in` extents (GMFNs), receive `out` extents of
 * another order (new MFNs written back); nr_exchanged reports progress.
 */
function memoryExchange(xen: Xen, v: Vcpu, arg: number): number {
  const caller = v.domain;
  const mem = guestOf(v);
  const r = xen.scratch.readStruct(mem, arg, 44);
  if (r === null) return -EFAULT;
  const inList = r.getUint32(0, true), inNr = r.getUint32(4, true), inOrder = r.getUint32(8, true);
  const inDom = r.getUint16(16, true);
  const outList = r.getUint32(20, true), outNr = r.getUint32(24, true), outOrder = r.getUint32(28, true);
  const outFlags = r.getUint32(32, true), outDom = r.getUint16(36, true);
  let done = r.getUint32(40, true);
  if (Math.max(inOrder, outOrder) > maxOrder(caller)) return -EPERM;
  if (done > inNr || inDom !== outDom || inNr * 2 ** inOrder !== outNr * 2 ** outOrder) return -EINVAL;
  const d = domidTarget(xen, caller, inDom);
  if (typeof d === 'number') return d;
  if (d.native !== null) return -EINVAL;
  const bits = XENMEMF_get_address_bits(outFlags);
  const inChunk = inOrder <= outOrder ? 2 ** (outOrder - inOrder) : 1;
  const outChunk = inOrder <= outOrder ? 1 : 2 ** (inOrder - outOrder);
  const setDone = (): boolean => {
    const w = xen.scratch.out(4);
    w.setUint32(0, done, true);
    return xen.scratch.writeOut(mem, arg + 40, 4);
  };
  for (let i = done / inChunk; i < inNr / inChunk; i++) {
    // Steal the input frames of this chunk (they must be plain, unreferenced frames).
    const inFrames: number[] = [];
    let bad = false;
    for (let k = 0; k < inChunk && !bad; k++) {
      const gmfn = xen.scratch.readU32(mem, inList + (i * inChunk + k) * 4);
      if (gmfn === null) {
        setDone();
        return -EFAULT;
      }
      for (let j = 0; j < 2 ** inOrder; j++) {
        const f = gmfn + j;
        if (!xen.mm.ft.valid(f) || xen.mm.ft.ownerOf(f) !== d.domid || xen.mm.ft.count[f] !== 1) bad = true;
        else inFrames.push(f);
      }
    }
    if (bad) {
      setDone();
      return -EINVAL;
    }
    const pfns = inFrames.map((f) => xen.m2p.get(f));
    for (const f of inFrames) {
      xen.m2p.set(f, INVALID_M2P_ENTRY);
      xen.mm.dropAllocation(f);
    }
    for (let k = 0; k < outChunk; k++) {
      const mfn = allocExtent(xen, d, outOrder, bits);
      if (mfn < 0) {
        setDone();
        return -ENOMEM;
      }
      for (let j = 0; j < 2 ** outOrder; j++) {
        const pfn = pfns[k * 2 ** outOrder + j];
        if (pfn !== undefined && pfn !== INVALID_M2P_ENTRY) xen.m2p.set(mfn + j, pfn);
      }
      if (!xen.scratch.writeU32(mem, outList + (i * outChunk + k) * 4, mfn)) {
        setDone();
        return -EFAULT;
      }
    }
    done = (i + 1) * inChunk;
  }
  return setDone() ? 0 : -EFAULT;
}

