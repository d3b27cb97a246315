/**
 * A native (TypeScript) domU for the backend tests: an unprivileged domain with its own
 * RAM, hypercall port, event channels, grant table and xenstore connection, so a frontend
 * written in TypeScript can drive blkback and netback through the real hypervisor — the
 * same grant checks, maptrack, event channels and xenstore permissions a PV frontend
 * meets — and can misbehave on purpose (garbage rings, bad grants, producers far ahead).
 *
 * Invariants: the domain's xenstore handle acts as that domain (no privilege), so it can
 * only write what a guest could; destroy() ends it like `xl destroy`.
 */
import { NativePort } from '../src/xen/arch/x86/native.ts';
import { Xc } from '../src/dom0/libxc/xc.ts';
import { Dom0Events } from '../src/dom0/libxc/events.ts';
import { XenEvtchn } from '../src/dom0/libs/evtchn.ts';
import { XenGntshr } from '../src/dom0/libs/gntshr.ts';
import { XsLocalHandle } from '../src/dom0/xenstored/local_handle.ts';
import { createDomainTree, removeDomainTree } from '../src/dom0/xenstored/domain_tree.ts';
import { asDomId } from '../src/abi/types.ts';
import type { Domain } from '../src/xen/common/domain.ts';
import type { IoHost } from './blk_io_host.ts';

let nextId = 200;

export class NativeDomU {
  readonly domain: Domain;
  readonly port: NativePort;
  readonly xc: Xc;
  readonly events: Dom0Events;
  readonly evtchn: XenEvtchn;
  readonly gnt: XenGntshr;
  readonly xs: XsLocalHandle;
  readonly uuid: string;
  destroyed = false;

  constructor(readonly io: IoHost, readonly name: string, pages = 1024, grantFrames = 4) {
    const id = nextId++;
    const d = io.host.xen.createNativeDomain(id, pages, false);
    if (typeof d === 'number') throw new Error(`createNativeDomain ${id}: ${d}`);
    this.domain = d;
    this.port = new NativePort(io.host.xen, d);
    this.xc = new Xc(this.port);
    this.events = new Dom0Events(this.xc);
    this.evtchn = new XenEvtchn(this.xc, this.events);
    this.gnt = new XenGntshr(this.xc, grantFrames);
    this.uuid = `00000000-0000-4000-9000-${id.toString(16).padStart(12, '0')}`;
    createDomainTree(io.xs, { domid: asDomId(id), name, uuid: this.uuid, memoryKiB: pages * 4 });
    this.xs = new XsLocalHandle(io.daemon, asDomId(id), false);
  }

  get domid(): number {
    return this.domain.domid;
  }

  /** xl destroy: the domain dies (its grants and ports with it); devices are released. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.xs.close();
    this.io.host.xc.destroyDomain(this.domid);
    this.io.drivers.releaseDomain(this.domid);
    removeDomainTree(this.io.xs, asDomId(this.domid), this.uuid);
  }
}
