/**
 * dom0's xenstored for a Host, and the toolstack's use of it: the daemon (with XcPlatform:
 * rings foreign-mapped, store channels bound interdomain, domain states from
 * getdomaininfo), a privileged in-process handle, and the toolstack attached to both (it
 * writes domain homes, introduces and releases domains, and tells xenstored about domain
 * deaths on VIRQ_DOM_EXC, which it owns).
 *
 * Invariant: one xenstored per Host (a second call returns the first). When the Host
 * itself comes with a xenstored (src/host/host.ts wiring by the device-channel area), that
 * one is used.
 */
import type { Host } from './host.ts';
import { XenStored } from '../dom0/xenstored/xenstored.ts';
import { XsLocalHandle } from '../dom0/xenstored/local_handle.ts';
import { XcPlatform } from '../dom0/xenstored/xc_platform.ts';

export interface HostStore {
  readonly daemon: XenStored;
  readonly xs: XsLocalHandle;
}

const stores = new WeakMap<Host, HostStore>();

export function ensureXenstored(host: Host, log?: (line: string) => void): HostStore {
  const known = stores.get(host);
  if (known !== undefined) return known;
  const own = (host as unknown as { xenstored?: unknown; xs?: unknown }); // a Host that wires its own (future)
  let s: HostStore;
  if (own.xenstored instanceof XenStored && own.xs instanceof XsLocalHandle) {
    s = { daemon: own.xenstored, xs: own.xs };
  } else {
    const daemon = new XenStored({ platform: new XcPlatform(host.xc, host.events), log });
    s = { daemon, xs: new XsLocalHandle(daemon) };
  }
  stores.set(host, s);
  if (host.toolstack.store === null) host.toolstack.attachStore(s.xs, s.daemon);
  return s;
}
