/**
 * Seeding a new guest's reserved grant entries, as libxc's xc_dom_gnttab_seed does for
 * the toolstack: entry GNTTAB_RESERVED_CONSOLE permits the console backend's domain to
 * access the console ring frame, GNTTAB_RESERVED_XENSTORE permits xenstored's domain the
 * xenstore ring frame. Backends may then map those rings by grant (Xen 4.x's xenconsoled
 * and xenstored do) instead of by privileged foreign mapping.
 *
 * Done once, before the guest runs: the guest's first grant frame is set up
 * (GNTTABOP_setup_table for the guest, privileged), foreign-mapped, written, unmapped.
 */
import { __HYPERVISOR_grant_table_op } from '../../abi/xen.ts';
import {
  GNTST_okay, GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE, GNTTABOP_setup_table, GTF_permit_access,
} from '../../abi/grant_table.ts';
import type { Xc } from '../libxc/xc.ts';
import { ForeignMap } from '../libxc/foreign.ts';
import { XenGnttabError } from './gnttab.ts';

export interface ReservedGrants {
  readonly consoleFrame: number;
  readonly consoleDomid: number;
  readonly storeFrame: number;
  readonly storeDomid: number;
}

/** Write the guest's reserved console and xenstore entries (frames as the guest names them). */
export function seedReservedGrants(xc: Xc, domid: number, g: ReservedGrants): void {
  const frame = xc.withScratch(() => {
    const list = xc.scratch(4);
    const st = xc.struct(16, (v) => {
      v.setUint16(0, domid, true);
      v.setUint32(4, 1, true);
      v.setUint32(12, list, true);
    });
    const rc = xc.port.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, st, 1);
    if (rc < 0) throw new XenGnttabError(`setup_table of d${domid}`, rc);
    const status = xc.get(st, 16).getInt16(8, true);
    if (status !== GNTST_okay) throw new XenGnttabError(`setup_table of d${domid}`, status);
    return xc.get(list, 4).getUint32(0, true);
  });
  const map = ForeignMap.map(xc, domid, [frame]);
  try {
    const entry = (ref: number, backend: number, f: number): void => {
      const e = new Uint8Array(8);
      const v = new DataView(e.buffer);
      v.setUint16(0, GTF_permit_access, true);
      v.setUint16(2, backend, true);
      v.setUint32(4, f, true);
      map.write(0, ref * 8, e);
    };
    entry(GNTTAB_RESERVED_CONSOLE, g.consoleDomid, g.consoleFrame);
    entry(GNTTAB_RESERVED_XENSTORE, g.storeDomid, g.storeFrame);
  } finally {
    map.unmap();
  }
}
