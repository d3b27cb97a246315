/**
 * xenstored's access to the hypervisor in the embedded host, through dom0's libxc:
 * - XS_INTRODUCE's page: a foreign mapping of the domain's store frame, named as the domain
 *   names it (the MFN for PV, the PFN for HVM/native domains), read and written through a
 *   zero-copy view of the frame (src/dom0/libs/xenstore.ts);
 * - the store event channel: EVTCHNOP_bind_interdomain to the domain's unbound port, events
 *   demultiplexed by Dom0Events, notify = EVTCHNOP_send, close = EVTCHNOP_close;
 * - domain states for @releaseDomain: getdomaininfo flags (shutdown, dying), scanned when
 *   VIRQ_DOM_EXC fires (`watchDomainExceptions`), as Xen's xenstored does.
 *
 * Every failure of the hypervisor side is reported as "no mapping" / "no channel", which
 * the daemon turns into EINVAL for the XS_INTRODUCE caller.
 */
import { XEN_DOMINF_dying, XEN_DOMINF_shutdown } from '../../abi/domctl.ts';
import type { DomId, EvtchnPort, Gfn } from '../../abi/types.ts';
import { VIRQ_DOM_EXC } from '../../abi/xen.ts';
import type { Dom0Events } from '../libxc/events.ts';
import { ForeignMap } from '../libxc/foreign.ts';
import type { Xc } from '../libxc/xc.ts';
import type { XsDomainState, XsPlatform } from './domain.ts';
import type { XsEventChannel } from './domain_ring.ts';
import type { XsRingMemory } from './ring_memory.ts';
import { viewRingMemory } from '../libs/xenstore.ts';
import type { XenStored } from './xenstored.ts';

export class XcPlatform implements XsPlatform {
  private _virqPort = -1;

  constructor(private readonly _xc: Xc, private readonly _events: Dom0Events) {}

  mapRing(domid: DomId, gfn: Gfn): XsRingMemory | undefined {
    let map: ForeignMap;
    try {
      map = ForeignMap.map(this._xc, domid, [gfn]);
    } catch {
      return undefined;
    }
    // Zero-copy: a view of the mapped frame (writes made code-coherent).
    const mem = viewRingMemory(this._xc, map.basePfn);
    return { ...mem, unmap: () => map.unmap() };
  }

  bindEvent(domid: DomId, remotePort: EvtchnPort): XsEventChannel | undefined {
    const local = this._xc.bindInterdomain(domid, remotePort);
    if (local < 0) return undefined;
    const xc = this._xc;
    const events = this._events;
    let open = true;
    return {
      notify: () => {
        if (open) xc.notify(local);
      },
      onEvent: (h) => events.on(local, () => h()),
      close: () => {
        if (!open) return;
        open = false;
        events.off(local);
        xc.closePort(local);
      },
    };
  }

  domainState(domid: DomId): XsDomainState {
    const info = this._xc.getDomainInfo(domid);
    if (info === null || info.domid !== domid) return 'gone';
    if ((info.flags & XEN_DOMINF_dying) !== 0) return 'dying';
    if ((info.flags & XEN_DOMINF_shutdown) !== 0) return 'shutdown';
    return 'running';
  }

  /**
   * Bind VIRQ_DOM_EXC and scan the domains whenever it fires. Returns false if the VIRQ
   * could not be bound (another consumer in dom0 owns it).
   */
  watchDomainExceptions(d: XenStored): boolean {
    if (this._virqPort >= 0) return true;
    const port = this._xc.bindVirq(VIRQ_DOM_EXC);
    if (port < 0) return false;
    this._virqPort = port;
    this._events.on(port, () => d.domains.checkDomains());
    return true;
  }
}
