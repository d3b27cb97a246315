/**
 * GNTTABOP_transfer: page flipping (Xen 4.17's gnttab_transfer). The sender gives one of
 * its frames away; it becomes a frame of the receiver, whose accept_transfer grant entry
 * learns the frame number. No byte moves: the frame table changes the frame's owner, the
 * M2P learns the receiver's PFN, and both domains' page counts change by one.
 *
 * Per element, in Xen's order:
 *   1. `mfn` must be a valid frame                                  -> bad_page
 *   2. steal it: owned by the sender, not special, and referenced by nothing but its
 *      allocation (no mapping, pin, table use)                      -> bad_page
 *      From here the frame no longer belongs to the sender, whatever happens: on a later
 *      failure it is freed (zeroed, back to the heap).
 *   3. receiver unknown                                             -> bad_domain
 *   4. receiver dying or at max_pages                               -> general_error
 *   5. the receiver's entry `ref` must exist and be exactly GTF_accept_transfer for the
 *      sender; GTF_transfer_committed is set                        -> general_error
 *   6. the frame is assigned to the receiver; a PV receiver gets M2P[mfn] = the PFN it wrote
 *      in `frame`, then `frame` = mfn; a translated receiver gets the frame at that gfn of
 *      its physmap. Then GTF_transfer_completed is set               -> okay
 * A translated (native) sender names a RAM frame of its physmap by gfn; the frame leaves
 * its physmap when stolen. (Xen 4.17 refuses transfers from translated domains; tsxen's
 * dom0 and driver domains are translated, and netback's rx-flip needs them to send.)
 */
import {
  GNTST_bad_domain, GNTST_bad_page, GNTST_general_error, GNTST_okay, GTF_accept_transfer, GTF_transfer_committed,
  GTF_transfer_completed,
} from '../../abi/grant_table.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import { type GrantTables, isTranslated } from './grant_table.ts';
import type { P2mGrantMapper } from './grant_table_map.ts';
import { PGC_allocated, PGC_special } from '../mm/frame_table.ts';

/** One gnttab_transfer element. */
export class TransferOp {
  mfn = 0;
  domid = 0;
  ref = 0;
  status = 0;
}

/** steal_page: take frame `mfn` away from `d` (count must be its allocation alone). */
function stealPage(g: GrantTables, d: Domain, mfn: number): boolean {
  const ft = g.xen.mm.ft;
  if (!ft.valid(mfn) || ft.count[mfn] !== 1 || ft.owner[mfn] !== d.domid) return false;
  const fl = ft.flags[mfn]!;
  if ((fl & PGC_special) !== 0 || (fl & PGC_allocated) === 0) return false;
  // Neither free (count 0, no owner, typeless) nor in the heap: in flight for this op only.
  ft.clear(mfn);
  d.totPages--;
  return true;
}

/** free_domheap_page of a stolen frame: zeroed, back to the heap. */
function freeStolen(g: GrantTables, mfn: number): void {
  g.xen.mm.zeroFrame(mfn);
  g.xen.mm.heap.free(mfn, 0);
}

/** Adds a translated receiver's frame to its physmap (native domains' arch code). */
export interface P2mPageAdder {
  addPage(e: Domain, gfn: number, mfn: number): boolean;
}

export function gnttabTransferOne(g: GrantTables, v: Vcpu, op: TransferOp, p2m: (P2mGrantMapper & P2mPageAdder) | null): void {
  const d = v.domain;
  const mm = g.xen.mm;
  const translated = isTranslated(d);
  const mfn = translated ? (d.native?.ramMfn(op.mfn) ?? -1) : op.mfn;
  if (!mm.ft.valid(mfn)) {
    op.status = GNTST_bad_page;
    return;
  }
  if (!stealPage(g, d, mfn)) {
    op.status = GNTST_bad_page;
    return;
  }
  if (translated) d.native!.takeRamSlot(g.xen, op.mfn); // SAFETY: ramMfn found the frame
  g.flushTlb(d);
  const e = g.xen.domain(op.domid);
  if (e === undefined) {
    freeStolen(g, mfn);
    op.status = GNTST_bad_domain;
    return;
  }
  if (e.dying || e.totPages >= e.maxPages) {
    freeStolen(g, mfn);
    op.status = GNTST_general_error;
    return;
  }
  // gnttab_prepare_for_transfer
  const et = g.of(e);
  const ref = op.ref;
  const ok = ref < et.nrEntries && g.combo(et, ref) === ((GTF_accept_transfer | (d.domid << 16)) >>> 0);
  if (!ok || (isTranslated(e) && p2m === null)) {
    freeStolen(g, mfn);
    op.status = GNTST_general_error;
    return;
  }
  g.setFlags(et, ref, GTF_accept_transfer | GTF_transfer_committed);
  mm.ft.assign(mfn, e.domid, false);
  e.totPages++;
  const gfn = g.frame(et, ref);
  if (isTranslated(e)) {
    p2m!.addPage(e, gfn, mfn); // SAFETY: checked above
  } else {
    g.xen.m2p.set(mfn, gfn);
    g.setFrame(et, ref, mfn);
  }
  g.setFlags(et, ref, g.flags(et, ref) | GTF_transfer_completed);
  op.status = GNTST_okay;
}
