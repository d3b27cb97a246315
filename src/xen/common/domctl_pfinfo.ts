/**
 * XEN_DOMCTL_getpageframeinfo3 (Xen's arch/x86/domctl.c): the page type of each frame in
 * a list, what a toolstack's save needs to find the page tables it must canonicalise
 * (MFN -> PFN in their entries) and which of them were pinned.
 *
 * Each of `num` xen_pfn_t entries (8 bytes in the tools ABI) names a frame of the target PV
 * domain (its MFN) on input and receives a XEN_DOMCTL_PFINFO_* type on output:
 *   L1TAB..L4TAB for frames currently typed as that page-table level, ORed with LPINTAB
 *   when pinned; NOTAB for any other frame of the domain; XTAB for a frame the domain does
 *   not own (or a special page such as its shared_info). More than 1024 entries: -E2BIG.
 *
 * The entries are processed in place and in order; a fault on one leaves the earlier ones
 * answered and returns -EFAULT, as Xen's batch loop does.
 */
import { E2BIG, EFAULT, EINVAL } from '../../abi/errno.ts';
import {
  XEN_DOMCTL_PFINFO_L1TAB, XEN_DOMCTL_PFINFO_L2TAB, XEN_DOMCTL_PFINFO_L3TAB, XEN_DOMCTL_PFINFO_L4TAB,
  XEN_DOMCTL_PFINFO_LPINTAB, XEN_DOMCTL_PFINFO_MAX, XEN_DOMCTL_PFINFO_NOTAB, XEN_DOMCTL_PFINFO_XTAB,
} from '../../abi/domctl.ts';
import { DOMCTL_GETPAGEFRAMEINFO3, XEN_DOMCTL_WIRE_U } from '../../abi/control_wire.ts';
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import type { GuestMemory } from './guest_access.ts';
import {
  PGC_special, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_l4_page_table, PGT_pinned, PGT_type_mask,
} from '../mm/frame_table.ts';

const ENTRY = 8;

/** The PFINFO type of machine frame `mfn` as seen for domain `d`. */
export function pageFrameType(xen: Xen, d: Domain, mfn: number): number {
  const ft = xen.mm.ft;
  if (!Number.isInteger(mfn) || !ft.valid(mfn) || ft.owner[mfn] !== d.domid || ft.count[mfn] === 0) return XEN_DOMCTL_PFINFO_XTAB >>> 0;
  if ((ft.flags[mfn]! & PGC_special) !== 0) return XEN_DOMCTL_PFINFO_XTAB >>> 0;
  const ti = ft.typeInfo[mfn]!;
  let type: number;
  switch (ti & PGT_type_mask) {
    case PGT_l1_page_table: type = XEN_DOMCTL_PFINFO_L1TAB; break;
    case PGT_l2_page_table: type = XEN_DOMCTL_PFINFO_L2TAB; break;
    case PGT_l3_page_table: type = XEN_DOMCTL_PFINFO_L3TAB; break;
    case PGT_l4_page_table: type = XEN_DOMCTL_PFINFO_L4TAB; break;
    default: return XEN_DOMCTL_PFINFO_NOTAB;
  }
  if ((ti & PGT_pinned) !== 0) type |= XEN_DOMCTL_PFINFO_LPINTAB;
  return type >>> 0;
}

/** The domctl worker: `op` is the decoded 144-byte domctl (payload at XEN_DOMCTL_WIRE_U). */
export function getPageFrameInfo3(xen: Xen, mem: GuestMemory, d: Domain, op: DataView): number {
  if (d.kind !== 'pv') return -EINVAL;
  const P = DOMCTL_GETPAGEFRAMEINFO3;
  const num = op.getUint32(XEN_DOMCTL_WIRE_U + P.num!, true) + op.getUint32(XEN_DOMCTL_WIRE_U + P.num! + 4, true) * 0x100000000;
  const arr = op.getUint32(XEN_DOMCTL_WIRE_U + P.array!, true);
  if (num > XEN_DOMCTL_PFINFO_MAX) return -E2BIG;
  const buf = new Uint8Array(ENTRY);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < num; i++) {
    const at = arr + i * ENTRY;
    if (!mem.read(at, buf, ENTRY)) return -EFAULT;
    const hi = v.getUint32(4, true);
    const mfn = hi !== 0 ? -1 : v.getUint32(0, true);
    v.setUint32(0, pageFrameType(xen, d, mfn), true);
    v.setUint32(4, 0, true);
    if (!mem.write(at, buf, ENTRY)) return -EFAULT;
  }
  return 0;
}
