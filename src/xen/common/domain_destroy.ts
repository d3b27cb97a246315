/**
 * Relinquishing a dying domain's resources (Xen's domain_relinquish_resources): every
 * reference the domain holds goes, and every frame it owns loses its allocation
 * reference, so frames return to the heap as soon as nothing else holds them (a frame a
 * privileged domain still maps stays until unmapped; the domain disappears then).
 *
 * Order matters for page tables: vCPU base pointers and descriptor tables first, then
 * pins, then every still-validated table is torn down top-down (L3, L2, L1) so the
 * references its entries hold are dropped even when tables reference each other in a
 * cycle (linear page tables), and finally the allocation references.
 */
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import {
  PGT_count_mask, PGT_l1_page_table, PGT_l2_page_table, PGT_l3_page_table, PGT_pinned, PGT_type_mask, PGT_validated,
  PGT_writable_page,
} from '../mm/frame_table.ts';
import { grantTables } from './grant_table.ts';
import { releaseMappings } from './grant_table_map.ts';

export function relinquishDomain(xen: Xen, d: Domain): void {
  const mm = xen.mm;
  const ft = mm.ft;
  const pt = xen.pageTypes;
  // Grant mappings first (Xen's gnttab_release_mappings): pins and the references the
  // maptrack holds; a PV mapper's PTE-held ones go with its page tables below.
  releaseMappings(grantTables(xen), d);
  xen.evtchn.closeAll(d);
  for (const v of d.vcpus) {
    if (!v) continue;
    if (v.pv !== null) {
      xen.pv.dt.freeVcpu(v);
      if (v.pv.guestTable !== 0) {
        const l3 = v.pv.guestTable;
        v.pv.guestTable = 0;
        pt.putPageAndType(l3);
      }
    }
    if (v.vcpuInfoMfn >= 0) {
      pt.putPageAndType(v.vcpuInfoMfn);
      v.vcpuInfoMfn = -1;
    }
    v.vcpuInfoMa = -1;
  }
  if (d.native !== null) d.native.releaseAll(xen);
  const owned: number[] = [];
  for (let f = 0; f < ft.frames; f++) if (ft.count[f] !== 0 && ft.owner[f] === d.domid) owned.push(f);
  for (const f of owned) {
    if ((ft.typeInfo[f]! & PGT_pinned) !== 0) {
      ft.typeInfo[f]! &= ~PGT_pinned;
      pt.putPageAndType(f);
    }
  }
  // Tear down tables still validated (held by other tables of this domain).
  for (const level of [PGT_l3_page_table, PGT_l2_page_table, PGT_l1_page_table]) {
    for (const f of owned) {
      const t = ft.typeInfo[f]!;
      if ((t & PGT_type_mask) !== level || (t & PGT_validated) === 0 || (t & PGT_count_mask) === 0) continue;
      // Force the type count to one so the put demotes the table and drops its entries'
      // references; references other tables held on it are dropped with those tables.
      ft.typeInfo[f] = (t & ~PGT_count_mask) | 1;
      mm.getPage(f, d.domid);
      pt.putPageAndType(f);
    }
  }
  // Remaining type counts belong to mappings that are now gone or to other domains.
  for (const f of owned) {
    const t = ft.typeInfo[f]!;
    if ((t & PGT_type_mask) !== PGT_writable_page && (t & PGT_count_mask) !== 0) {
      ft.typeInfo[f] = t & ~PGT_count_mask & ~PGT_validated;
    }
  }
  if (d.pv !== null) {
    mm.freeXenPage(d.pv.perdomainL1);
    mm.freeXenPage(d.pv.pdptFrame);
  }
  for (const f of owned) if (ft.count[f] !== 0) mm.dropAllocation(f);
}
