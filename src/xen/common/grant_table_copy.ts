/**
 * GNTTABOP_copy (Xen 4.17's gnttab_copy_one and helpers): copy `len` bytes between two
 * frames, each named either by a grant reference of some domain (GNTCOPY_source_gref /
 * GNTCOPY_dest_gref) or, without the flag, by a frame of the caller itself (its domid must
 * then be DOMID_SELF). This is the one place grant data moves by copying.
 *
 * Order of checks, each failure ending that element with its status:
 *   1. a frame side whose domid is not DOMID_SELF                 -> permission_denied
 *      a domain that does not exist                               -> bad_domain
 *   2. source claimed: a gref side is pinned read-only like a temporary map (bad ref ->
 *      bad_gntref; wrong type/domid, pinned by another domain -> general_error; frame not
 *      the granter's -> bad_page); a frame side must be one the caller owns (bad_page)
 *   3. destination claimed the same way, writable: a writable pin (readonly grant ->
 *      general_error) and a writable type reference on the frame (a page table ->
 *      general_error)
 *   4. offset + len past either page                              -> bad_copy_arg
 * Then the bytes are copied (code-coherently) and both sides released: pins dropped,
 * GTF_writing / GTF_reading cleared when their counts reach 0, references put.
 *
 * Every element gets its own status; the batch goes on after a failed one.
 */
import {
  GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTST_bad_copy_arg, GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_page,
  GNTST_general_error, GNTST_okay, GNTST_permission_denied,
} from '../../abi/grant_table.ts';
import { DOMID_SELF } from '../../abi/xen.ts';
import { maddr } from '../../hw/memory/addr.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import {
  GNTPIN_hstr_inc, GNTPIN_hstw_inc, GNTPIN_overflow, GNTPIN_write_mask, type GrantTables,
} from './grant_table.ts';
import { getPagedFrame, setStatus } from './grant_table_map.ts';
import { PGT_writable_page } from '../mm/frame_table.ts';

/** One gnttab_copy element. */
export class CopyOp {
  srcU = 0;
  srcDomid = 0;
  srcOffset = 0;
  dstU = 0;
  dstDomid = 0;
  dstOffset = 0;
  len = 0;
  flags = 0;
  status = 0;
}

/** A claimed side of a copy. */
class CopyBuf {
  domain: Domain | null = null;
  mfn = -1;
  /** The frame holding our general reference (may differ from mfn, as in Xen). */
  page = -1;
  haveGrant = false;
  haveType = false;
  ref = 0;
  readonly = true;
}

/**
 * acquire_grant_for_copy (v1): pin `ref` of `rd` for `ldom`; on success `b.mfn` is the
 * granted frame and `b.page` holds a general reference. Returns a GNTST_* status.
 */
function acquireGrantForCopy(g: GrantTables, rd: Domain, ref: number, ldom: number, readonly: boolean, b: CopyBuf): number {
  const rgt = g.of(rd);
  if (ref >= rgt.nrEntries) return GNTST_bad_gntref;
  const oldPin = rgt.actPin[ref]!;
  if (oldPin !== 0 && (rgt.actDomid[ref] !== ldom || (oldPin & GNTPIN_overflow) !== 0)) return GNTST_general_error;
  const mm = g.xen.mm;
  if (oldPin === 0 || (!readonly && (oldPin & GNTPIN_write_mask) === 0)) {
    const rc = setStatus(g, rgt, ref, oldPin !== 0, readonly, false, ldom);
    if (rc !== GNTST_okay) return rc;
    const page = getPagedFrame(g, rd, g.frame(rgt, ref));
    if (page < 0) {
      g.reduceStatus(rgt, ref, !readonly);
      return GNTST_bad_page;
    }
    if (oldPin === 0) {
      rgt.actDomid[ref] = ldom;
      rgt.actMfn[ref] = page;
    }
    b.page = page;
  } else {
    const mfn = rgt.actMfn[ref]!;
    const ok = mm.ft.valid(mfn) && mm.ft.count[mfn] !== 0 && mm.ft.owner[mfn] === rd.domid && !rd.dying &&
      mm.getPage(mfn, rd.domid);
    if (!ok) {
      g.reduceStatus(rgt, ref, !readonly);
      return GNTST_bad_domain;
    }
    b.page = mfn;
  }
  rgt.actPin[ref] = (rgt.actPin[ref]! + (readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc)) >>> 0;
  b.mfn = rgt.actMfn[ref]!;
  b.haveGrant = true;
  b.ref = ref;
  return GNTST_okay;
}

function releaseBuf(g: GrantTables, b: CopyBuf): void {
  if (b.haveGrant && b.domain !== null) {
    const rgt = g.of(b.domain);
    rgt.actPin[b.ref] = (rgt.actPin[b.ref]! - (b.readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc)) >>> 0;
    g.reduceStatus(rgt, b.ref, !b.readonly);
  }
  if (b.haveType) g.xen.pageTypes.putPageType(b.page);
  if (b.page >= 0) g.xen.mm.putPage(b.page);
  b.haveGrant = false;
  b.haveType = false;
  b.page = -1;
  b.mfn = -1;
  b.domain = null;
}

function claimBuf(g: GrantTables, v: Vcpu, u: number, isGref: boolean, b: CopyBuf): number {
  const d = b.domain!; // SAFETY: set by lockDomain before any claim
  if (isGref) {
    const rc = acquireGrantForCopy(g, d, u, v.domain.domid, b.readonly, b);
    if (rc !== GNTST_okay) return rc;
  } else {
    const page = getPagedFrame(g, d, u);
    if (page < 0) return GNTST_bad_page;
    b.page = page;
    b.mfn = page;
  }
  if (!b.readonly) {
    if (g.xen.pageTypes.getPageType(b.page, PGT_writable_page) !== 0) return GNTST_general_error;
    b.haveType = true;
  }
  return GNTST_okay;
}

function lockDomain(g: GrantTables, caller: Domain, domid: number, isGref: boolean, b: CopyBuf): number {
  if (domid !== DOMID_SELF && !isGref) return GNTST_permission_denied;
  const d = g.domainByAnyId(caller, domid);
  if (d === undefined) return GNTST_bad_domain;
  b.domain = d;
  return GNTST_okay;
}

/** Per-hypervisor scratch (one host thread runs hypercalls). */
const SRC = new CopyBuf();
const DST = new CopyBuf();

/** gnttab_copy_one: returns the element's GNTST_* status. */
export function gnttabCopyOne(g: GrantTables, v: Vcpu, op: CopyOp): number {
  const src = SRC, dst = DST;
  src.readonly = true;
  dst.readonly = false;
  let rc = lockDomain(g, v.domain, op.srcDomid, (op.flags & GNTCOPY_source_gref) !== 0, src);
  if (rc === GNTST_okay) rc = lockDomain(g, v.domain, op.dstDomid, (op.flags & GNTCOPY_dest_gref) !== 0, dst);
  if (rc === GNTST_okay) rc = claimBuf(g, v, op.srcU, (op.flags & GNTCOPY_source_gref) !== 0, src);
  if (rc === GNTST_okay) rc = claimBuf(g, v, op.dstU, (op.flags & GNTCOPY_dest_gref) !== 0, dst);
  if (rc === GNTST_okay) {
    if (op.srcOffset + op.len > 4096 || op.dstOffset + op.len > 4096) {
      rc = GNTST_bad_copy_arg;
    } else if (op.len > 0) {
      g.xen.mem.copy(maddr(dst.mfn * 4096 + op.dstOffset), maddr(src.mfn * 4096 + op.srcOffset), op.len);
    }
  }
  releaseBuf(g, src);
  releaseBuf(g, dst);
  return rc;
}

