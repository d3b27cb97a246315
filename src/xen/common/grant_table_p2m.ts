/**
 * Grant mappings of translated (native) domains: dom0 and driver domains have no page
 * tables of their own for Xen to write; a host mapping puts the granted machine frame into
 * their pseudo-physical map (Xen's create_grant_p2m_mapping), where their code reaches it
 * through a zero-copy view (NativePort.view). A page transfer into such a domain adds the
 * frame to its physmap as RAM at the gfn its accept_transfer entry names.
 *
 * Rules (Xen 4.17 for translated mappers): only GNTMAP_host_map (optionally readonly), no
 * other flag bits -> else general_error; `addr` is a guest-physical address, its frame
 * slot must be free; a read-only grant mapping refuses writes (copies into it fail, no
 * writable view). Removal needs the slot to hold exactly that grant (else general_error);
 * unmap_and_replace (a new_addr) is not possible here.
 */
import { GNTMAP_host_map, GNTMAP_readonly, GNTST_general_error, GNTST_okay } from '../../abi/grant_table.ts';
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import type { Vcpu } from './vcpu.ts';
import type { P2mGrantMapper } from './grant_table_map.ts';
import type { P2mPageAdder } from './grant_table_transfer.ts';

export class NativeGrantP2m implements P2mGrantMapper, P2mPageAdder {
  constructor(private readonly _xen: Xen) {}

  create(v: Vcpu, addr: number, mfn: number, flags: number): number {
    const n = v.domain.native;
    if (n === null || (flags & ~GNTMAP_readonly) !== GNTMAP_host_map) return GNTST_general_error;
    return n.mapGrant(Math.floor(addr / 4096), mfn, (flags & GNTMAP_readonly) !== 0) ? GNTST_okay : GNTST_general_error;
  }

  replace(v: Vcpu, addr: number, mfn: number, newAddr: number, flags: number): number {
    const n = v.domain.native;
    if (n === null || newAddr !== 0) return GNTST_general_error;
    return n.unmapGrant(Math.floor(addr / 4096), mfn, (flags & GNTMAP_readonly) !== 0) ? GNTST_okay : GNTST_general_error;
  }

  addPage(e: Domain, gfn: number, mfn: number): boolean {
    return e.native !== null && e.native.addRamPage(this._xen, gfn, mfn);
  }
}
