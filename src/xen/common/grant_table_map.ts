/**
 * GNTTABOP_map_grant_ref, unmap_grant_ref and unmap_and_replace as plain workers on one
 * operation each (Xen 4.17's map_grant_ref / unmap_common / unmap_common_complete), and
 * gnttab_release_mappings for a dying mapper.
 *
 * Map, step by step (status codes are the first failure's):
 *   1. neither GNTMAP_device_map nor GNTMAP_host_map            -> bad_gntref
 *   2. translated mapper asking for device_map / application_map / contains_pte
 *                                                                 -> general_error
 *   3. granting domain unknown                                    -> bad_domain
 *   4. no maptrack handle                                         -> no_space
 *   5. ref >= entries                                             -> bad_gntref
 *   6. pinned by another domain, a pin counter at 128             -> general_error
 *   7. first pin (or first write pin): the entry must be permit_access for us (and not
 *      readonly for a write pin); GTF_reading(+writing) are set    -> general_error
 *   8. first pin: the frame is looked up in the granter (PV: an MFN it owns; translated:
 *      a RAM gfn of its physmap)                                  -> bad_page
 *   9. references: one general per mapping kind, a writable type for a writable device
 *      map or a writable host map (unless a translated mapper maps a translated granter's
 *      frame), then the host mapping itself                        -> general_error
 *  Every failure after step 7 undoes the pins and clears the status bits it set.
 *
 * Unmap: handle out of range or free -> bad_handle; granter gone -> the mapper is crashed
 * (Xen: "naughty"); dev_bus_addr given and not the granted frame -> bad_dev_addr; a host
 * mapping is removed when host_addr is given (its PTE must still map the frame), a device
 * mapping when dev_bus_addr is; the handle is freed when neither remains. References and
 * pins go in the completion step, after the batch's TLB flush.
 */
import {
  GNTMAP_application_map, GNTMAP_contains_pte, GNTMAP_device_map, GNTMAP_host_map, GNTMAP_readonly, GNTST_bad_domain,
  GNTST_bad_dev_addr, GNTST_bad_gntref, GNTST_bad_handle, GNTST_bad_page, GNTST_general_error, GNTST_no_space, GNTST_okay, GTF_permit_access,
  GTF_readonly, GTF_reading, GTF_sub_page, GTF_type_mask, GTF_writing,
} from '../../abi/grant_table.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import {
  GNTPIN_devr_inc, GNTPIN_devw_inc, GNTPIN_hstr_inc, GNTPIN_hstw_inc, GNTPIN_overflow, GNTPIN_write_mask, type GrantTable,
  type GrantTables, isTranslated,
} from './grant_table.ts';
import { createGrantPvMapping, replaceGrantPvMapping } from './grant_table_pv.ts';
import { PGT_writable_page } from '../mm/frame_table.ts';
import { OWNER_NONE } from '../mm/frame_table.ts';

/** Host mappings of a translated (native) mapper: its physmap. Provided by its arch code. */
export interface P2mGrantMapper {
  /** Put `mfn` at guest-physical `addr` (page aligned, slot free); GNTST_okay or general_error. */
  create(v: Vcpu, addr: number, mfn: number, flags: number): number;
  /** Remove the grant mapping of `mfn` at `addr`; GNTST_okay or general_error. */
  replace(v: Vcpu, addr: number, mfn: number, newAddr: number, flags: number): number;
}

/** One map_grant_ref operation (IN fields, then OUT fields). */
export class MapOp {
  hostAddr = 0;
  flags = 0;
  ref = 0;
  dom = 0;
  status = 0;
  handle = 0;
  devBusAddr = 0;
}

/** One unmap_grant_ref / unmap_and_replace operation, with its completion state. */
export class UnmapOp {
  hostAddr = 0;
  devBusAddr = 0;
  newAddr = 0;
  handle = 0;
  status = 0;
  /** Set by unmapCommon: GNTMAP_* kinds removed (| GNTMAP_readonly), to complete. */
  done = 0;
  mfn = -1;
  rd: Domain | null = null;
  ref = 0;

  reset(hostAddr: number, devBusAddr: number, newAddr: number, handle: number): void {
    this.hostAddr = hostAddr;
    this.devBusAddr = devBusAddr;
    this.newAddr = newAddr;
    this.handle = handle;
    this.status = 0;
    this.done = 0;
    this.mfn = -1;
    this.rd = null;
    this.ref = 0;
  }
}

/**
 * _set_status (v1): pin the entry for `ldomid`, read-only or writable. Checks the type and
 * domid only when nothing pins it yet (`pinned` false). `mapping` also refuses sub-page
 * entries. GNTST_okay or general_error.
 */
export function setStatus(g: GrantTables, t: GrantTable, ref: number, pinned: boolean, readonly: boolean,
  mapping: boolean, ldomid: number): number {
  const combo = g.combo(t, ref);
  const flags = combo & 0xffff;
  const mask = mapping ? GTF_type_mask | GTF_sub_page : GTF_type_mask;
  if (!pinned && ((flags & mask) !== GTF_permit_access || combo >>> 16 !== ldomid)) return GNTST_general_error;
  let nf = flags | GTF_reading;
  if (!readonly) {
    if ((flags & GTF_readonly) !== 0) return GNTST_general_error;
    nf |= GTF_writing;
  }
  // One host thread: the cmpxchg of Xen always succeeds at its first try here.
  g.setFlags(t, ref, nf);
  return GNTST_okay;
}

/**
 * get_paged_frame: the machine frame `gfn` of granter `rd` names, with a general reference
 * taken, or -1 (GNTST_bad_page): PV granters name MFNs they own; translated ones name RAM
 * frames of their physmap.
 */
export function getPagedFrame(g: GrantTables, rd: Domain, gfn: number): number {
  const mm = g.xen.mm;
  let mfn = gfn;
  if (isTranslated(rd)) {
    // A translated granter names a RAM frame of its physmap (foreign and grant mappings
    // belong to other domains: p2m_is_foreign -> bad_page).
    mfn = rd.native !== null ? rd.native.ramMfn(gfn) : -1;
    if (mfn < 0) return -1;
  }
  return mm.getPage(mfn, rd.domid) ? mfn : -1;
}

export function mapGrantRef(g: GrantTables, v: Vcpu, op: MapOp, p2m: P2mGrantMapper | null): void {
  const ld = v.domain;
  const mm = g.xen.mm;
  const flags = op.flags;
  const readonly = (flags & GNTMAP_readonly) !== 0;
  if ((flags & (GNTMAP_device_map | GNTMAP_host_map)) === 0) {
    op.status = GNTST_bad_gntref;
    return;
  }
  if (isTranslated(ld) && (flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)) !== 0) {
    op.status = GNTST_general_error;
    return;
  }
  const rd = g.xen.domain(op.dom);
  if (rd === undefined) {
    op.status = GNTST_bad_domain;
    return;
  }
  const lgt = g.of(ld);
  const handle = lgt.getHandle(v.id);
  if (handle < 0) {
    op.status = GNTST_no_space;
    return;
  }
  const rgt = g.of(rd);
  const ref = op.ref;
  if (ref >= rgt.nrEntries) {
    finish(op, lgt, handle, GNTST_bad_gntref);
    return;
  }
  let pin = rgt.actPin[ref]!;
  if (pin !== 0 && (rgt.actDomid[ref] !== ld.domid || (pin & GNTPIN_overflow) !== 0)) {
    finish(op, lgt, handle, GNTST_general_error);
    return;
  }
  let pg = -1; // a frame on which get_paged_frame took a reference
  if (pin === 0 || (!readonly && (pin & GNTPIN_write_mask) === 0)) {
    const rc = setStatus(g, rgt, ref, pin !== 0, readonly, true, ld.domid);
    if (rc !== GNTST_okay) {
      finish(op, lgt, handle, rc);
      return;
    }
    if (pin === 0) {
      pg = getPagedFrame(g, rd, g.frame(rgt, ref));
      if (pg < 0) {
        g.reduceStatus(rgt, ref, !readonly);
        finish(op, lgt, handle, GNTST_bad_page);
        return;
      }
      rgt.actDomid[ref] = ld.domid;
      rgt.actMfn[ref] = pg;
    }
  }
  let inc = 0;
  if ((flags & GNTMAP_device_map) !== 0) inc += readonly ? GNTPIN_devr_inc : GNTPIN_devw_inc;
  if ((flags & GNTMAP_host_map) !== 0) inc += readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
  pin = (pin + inc) >>> 0;
  rgt.actPin[ref] = pin;
  const mfn = rgt.actMfn[ref]!;

  // References: get_paged_frame's, or one taken now if the entry was already pinned.
  let refcnt = 0, typecnt = 0;
  let rc = GNTST_okay;
  let hostMapped = false;
  let owner = OWNER_NONE;
  if (pg >= 0) {
    owner = rd.domid;
    refcnt++;
  } else if (mm.ft.valid(mfn) && mm.ft.count[mfn] !== 0) {
    owner = mm.ft.owner[mfn]!;
    if (mm.getPage(mfn, owner)) refcnt++;
    else owner = OWNER_NONE;
  }
  if (owner !== rd.domid) {
    rc = GNTST_general_error; // could_not_pin (freed or reassigned under a zapped PTE)
  } else {
    if ((flags & GNTMAP_device_map) !== 0 && !readonly) {
      if (g.xen.pageTypes.getPageType(mfn, PGT_writable_page) !== 0) rc = GNTST_general_error;
      else typecnt++;
    }
    if (rc === GNTST_okay && (flags & GNTMAP_host_map) !== 0) {
      if ((flags & GNTMAP_device_map) !== 0) {
        if (mm.getPage(mfn, rd.domid)) refcnt++;
        else rc = GNTST_general_error;
      }
      if (rc === GNTST_okay && !readonly && (ld === rd || !isTranslated(rd))) {
        if (g.xen.pageTypes.getPageType(mfn, PGT_writable_page) !== 0) rc = GNTST_general_error;
        else typecnt++;
      }
      if (rc === GNTST_okay) {
        rc = isTranslated(ld)
          ? (p2m === null ? GNTST_general_error : p2m.create(v, op.hostAddr, mfn, flags))
          : createGrantPvMapping(g.xen, v, op.hostAddr, mfn, flags);
        hostMapped = rc === GNTST_okay;
      }
    }
  }
  if (rc === GNTST_okay) {
    lgt.mtDomid[handle] = op.dom;
    lgt.mtRef[handle] = ref;
    lgt.mtFlags[handle] = flags & 0xffff;
    op.devBusAddr = mfn * 4096;
    op.handle = handle;
    op.status = GNTST_okay;
    return;
  }
  // undo_out
  if (hostMapped) {
    if (isTranslated(ld)) p2m?.replace(v, op.hostAddr, mfn, 0, flags);
    else replaceGrantPvMapping(g.xen, v, op.hostAddr, mfn, 0, flags);
    g.flushTlb(ld);
  }
  while (typecnt-- > 0) g.xen.pageTypes.putPageType(mfn);
  while (refcnt-- > 0) mm.putPage(mfn);
  rgt.actPin[ref] = (rgt.actPin[ref]! - inc) >>> 0;
  g.reduceStatus(rgt, ref, !readonly);
  finish(op, lgt, handle, rc);
}

function finish(op: MapOp, lgt: GrantTable, handle: number, status: number): void {
  op.status = status;
  lgt.putHandle(handle);
}

/**
 * unmap_common: validate the handle and remove the mapping kinds asked for. The pins and
 * references go in completeUnmap (after the caller's TLB flush).
 */
export function unmapCommon(g: GrantTables, v: Vcpu, op: UnmapOp, p2m: P2mGrantMapper | null): void {
  const ld = v.domain;
  const lgt = g.of(ld);
  const h = op.handle;
  if (!(h >= 0 && h < lgt.maptrackLimit) || lgt.mtFlags[h] === 0) {
    op.status = GNTST_bad_handle;
    return;
  }
  const dom = lgt.mtDomid[h]!;
  const rd = g.xen.domain(dom);
  const rgt = rd === undefined ? undefined : g.byId(dom);
  if (rd === undefined || rgt === undefined || rgt.domain !== rd) {
    // The granter is gone (its PTE-held references went with a zapped mapping).
    g.xen.crashDomain(ld, `unmap of handle ${h}: granting d${dom} no longer exists`);
    op.status = GNTST_general_error;
    return;
  }
  op.rd = rd;
  op.ref = lgt.mtRef[h]!;
  if (op.ref >= rgt.nrEntries) {
    op.status = GNTST_bad_handle;
    return;
  }
  const flags = lgt.mtFlags[h]!;
  const mfn = rgt.actMfn[op.ref]!;
  op.mfn = mfn;
  if (op.devBusAddr !== 0 && op.devBusAddr !== mfn * 4096) {
    op.status = GNTST_bad_dev_addr;
    return;
  }
  let rc = GNTST_okay;
  if (op.hostAddr !== 0 && (flags & GNTMAP_host_map) !== 0) {
    rc = isTranslated(ld)
      ? (p2m === null ? GNTST_general_error : p2m.replace(v, op.hostAddr, mfn, op.newAddr, flags))
      : replaceGrantPvMapping(g.xen, v, op.hostAddr, mfn, op.newAddr, flags);
    if (rc !== GNTST_okay) {
      op.status = rc;
      return;
    }
    lgt.mtFlags[h] = lgt.mtFlags[h]! & ~GNTMAP_host_map;
    op.done |= GNTMAP_host_map | (flags & GNTMAP_readonly);
  }
  if (op.devBusAddr !== 0 && (flags & GNTMAP_device_map) !== 0) {
    lgt.mtFlags[h] = lgt.mtFlags[h]! & ~GNTMAP_device_map;
    op.done |= GNTMAP_device_map | (flags & GNTMAP_readonly);
  }
  if ((lgt.mtFlags[h]! & (GNTMAP_device_map | GNTMAP_host_map)) === 0) lgt.putHandle(h);
  op.status = GNTST_okay;
}

/** unmap_common_complete: drop the references and pins of what unmapCommon removed. */
export function completeUnmap(g: GrantTables, v: Vcpu, op: UnmapOp): void {
  if (op.done === 0 || op.rd === null) return;
  const ld = v.domain, rd = op.rd;
  const rgt = g.byId(rd.domid);
  if (rgt === undefined) return;
  const ref = op.ref, mfn = op.mfn;
  const ro = (op.done & GNTMAP_readonly) !== 0;
  const pt = g.xen.pageTypes;
  if ((op.done & GNTMAP_device_map) !== 0) {
    if (ro) g.xen.mm.putPage(mfn);
    else pt.putPageAndType(mfn);
    rgt.actPin[ref] = (rgt.actPin[ref]! - (ro ? GNTPIN_devr_inc : GNTPIN_devw_inc)) >>> 0;
  }
  if ((op.done & GNTMAP_host_map) !== 0) {
    if (!ro && (ld === rd || !isTranslated(rd))) pt.putPageType(mfn);
    g.xen.mm.putPage(mfn);
    rgt.actPin[ref] = (rgt.actPin[ref]! - (ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc)) >>> 0;
  }
  g.reduceStatus(rgt, ref, !ro);
}

/**
 * gnttab_release_mappings: a dying domain's maptrack is emptied. Pins always go; device
 * mappings' references too; host mappings' references only for translated mappers (a PV
 * mapper's are dropped with its page tables).
 */
export function releaseMappings(g: GrantTables, d: Domain): void {
  const lgt = g.byId(d.domid);
  if (lgt === undefined || lgt.domain !== d) return;
  const pt = g.xen.pageTypes;
  const mm = g.xen.mm;
  for (let h = 0; h < lgt.maptrackLimit; h++) {
    const flags = lgt.mtFlags[h]!;
    if ((flags & (GNTMAP_device_map | GNTMAP_host_map)) === 0) continue;
    lgt.mtFlags[h] = 0;
    const rgt = g.byId(lgt.mtDomid[h]!);
    if (rgt === undefined) continue;
    const rd = rgt.domain;
    const ref = lgt.mtRef[h]!;
    const mfn = rgt.actMfn[ref]!;
    const ro = (flags & GNTMAP_readonly) !== 0;
    if ((flags & GNTMAP_device_map) !== 0) {
      rgt.actPin[ref] = (rgt.actPin[ref]! - (ro ? GNTPIN_devr_inc : GNTPIN_devw_inc)) >>> 0;
      if (ro) mm.putPage(mfn);
      else pt.putPageAndType(mfn);
    }
    if ((flags & GNTMAP_host_map) !== 0) {
      rgt.actPin[ref] = (rgt.actPin[ref]! - (ro ? GNTPIN_hstr_inc : GNTPIN_hstw_inc)) >>> 0;
      if (isTranslated(d)) {
        if (!ro && (d === rd || !isTranslated(rd))) pt.putPageType(mfn);
        mm.putPage(mfn);
      }
    }
    g.reduceStatus(rgt, ref, !ro);
  }
}

/** Status bits a pinned entry must show (for tests and the audit's callers). */
export const PIN_STATUS_BITS = GTF_reading | GTF_writing;
