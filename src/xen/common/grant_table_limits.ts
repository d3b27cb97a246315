/**
 * A new domain's device-channel limits from XEN_DOMCTL_createdomain (Xen 4.17's
 * domain_create -> evtchn_init / grant_table_init):
 *   max_evtchn_port      the highest port the domain may allocate (libxl passes xl.cfg's
 *                        max_event_channels, default 1023); capped by the 2-level ABI's 1024
 *   max_grant_frames     shared grant-table frames (-1: 64), at least 1, at most 64
 *   max_maptrack_frames  frames of mapping handles (-1: 1024), at most 1024
 * Limits Xen refuses make the creation fail with -EINVAL.
 */
import { EVTCHN_2L_NR_CHANNELS } from '../../abi/xen.ts';
import type { Xen } from '../xen.ts';
import type { Domain } from './domain.ts';
import { grantTables } from './grant_table.ts';

export function setDomainLimits(xen: Xen, d: Domain, maxEvtchnPort: number, maxGrantFrames: number,
  maxMaptrackFrames: number): number {
  const rc = grantTables(xen).setLimits(d, maxGrantFrames, maxMaptrackFrames);
  if (rc !== 0) return rc;
  d.evtchn.maxPorts = Math.min(maxEvtchnPort >>> 0, EVTCHN_2L_NR_CHANNELS - 1) + 1;
  return 0;
}
