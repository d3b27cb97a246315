/**
 * Domains known to xenstored: introduction and release by the toolstack, shutdown tracking
 * for @releaseDomain, and SET_TARGET (xenstore.md §3, Xen's domain.c).
 *
 * Lifecycle of a domain connection:
 *   introduce (new)      -> connection + ring transport created, indexes reset,
 *                           @introduceDomain fires
 *   introduce (known)    -> event channel re-bound, connection reset (watches, transactions,
 *                           output dropped, indexes zeroed); no watch fires
 *   found shut down      -> @releaseDomain fires once, until XS_RESUME re-arms it
 *   release / found dead -> connection closed without firing its own watches, event channel
 *                           unbound, nodes the domain owned removed (unless keepOrphans),
 *                           @releaseDomain fires
 *
 * Invariants:
 * - Every domain in the table has exactly one open connection, with id = domid, unprivileged.
 * - dom0 is never in the table: it is the native control domain and talks in-process or over
 *   the socket, never over a ring.
 */
import { XENSTORE_CONNECTED, XENSTORE_IF_CONNECTION, XENSTORE_RECONNECT } from '../../abi/io/xs_wire.ts';
import { DOMID_FIRST_RESERVED } from '../../abi/xen.ts';
import type { DomId, EvtchnPort, Gfn } from '../../abi/types.ts';
import type { Connection } from './connection.ts';
import { RingTransport, type XsEventChannel } from './domain_ring.ts';
import { removeTree } from './node_ops.ts';
import { asRingMemory, type XsRingMemory } from './ring_memory.ts';
import { isSpecial } from './path.ts';
import type { XenStored } from './xenstored.ts';
import { XS_ERR } from './xs_error.ts';

/** What the hypervisor says about a domain (for VIRQ_DOM_EXC scans). */
export type XsDomainState = 'running' | 'shutdown' | 'dying' | 'gone';

/**
 * How xenstored reaches the hypervisor: map a domain's store page (XS_INTRODUCE carries its
 * frame number), bind the interdomain event channel to the domain's store port, and look up domain
 * states. Provided by the host (foreign mapping and event channels are hypercalls).
 */
export interface XsPlatform {
  /** `gfn` names the store frame as the domain does: the MFN for PV, the PFN otherwise. */
  mapRing(domid: DomId, gfn: Gfn): XsRingMemory | Uint8Array | undefined;
  bindEvent(domid: DomId, remotePort: EvtchnPort): XsEventChannel | undefined;
  domainState?(domid: DomId): XsDomainState;
}

export class XsDomain {
  /** @releaseDomain already fired for the current shutdown. */
  shutdown = false;
  constructor(
    readonly domid: DomId,
    readonly conn: Connection,
    public transport: RingTransport,
    /** The frame XS_INTRODUCE named (MFN for PV, PFN otherwise), if the domain came that way. */
    public gfn: Gfn | undefined,
  ) {}
}

export class DomainTable {
  private readonly _domains = new Map<number, XsDomain>();

  constructor(private readonly _d: XenStored, private readonly _platform: XsPlatform | undefined) {}

  get(domid: DomId): XsDomain | undefined {
    return this._domains.get(domid);
  }

  isIntroduced(domid: DomId): boolean {
    return this._domains.has(domid);
  }

  list(): IterableIterator<XsDomain> {
    return this._domains.values();
  }

  /**
   * Introduce `domid` whose xenstore page is `page` and whose store event channel (already
   * bound by the caller) is `evtchn`. The toolstack's direct API; XS_INTRODUCE ends here too.
   */
  introduce(domid: DomId, page: Uint8Array | XsRingMemory, evtchn: XsEventChannel, gfn?: Gfn): XsDomain {
    if (!Number.isInteger(domid) || domid <= 0 || domid >= DOMID_FIRST_RESERVED) {
      throw new RangeError(`xenstored: cannot introduce domid ${domid}`);
    }
    const known = this._domains.get(domid);
    if (known !== undefined) {
      known.transport.shutdown();
      known.transport = new RingTransport(known.transport.mem, evtchn, known.conn, this._d);
      known.conn.transport = known.transport;
      this._reset(known);
      return known;
    }
    const conn = this._d.connect(domid, false);
    const mem = asRingMemory(page);
    const transport = new RingTransport(mem, evtchn, conn, this._d);
    conn.transport = transport;
    const dom = new XsDomain(domid, conn, transport, gfn);
    this._domains.set(domid, dom);
    this._reset(dom);
    this._d.fireSpecial('@introduceDomain');
    return dom;
  }

  /** XS_INTRODUCE: map the page by its frame number and bind the port through the platform. */
  introduceByGfn(domid: DomId, gfn: Gfn, port: EvtchnPort): void {
    if (domid <= 0 || domid >= DOMID_FIRST_RESERVED || port <= 0) throw XS_ERR.EINVAL;
    const known = this._domains.get(domid);
    const mapped = known === undefined ? this._platform?.mapRing(domid, gfn) : undefined;
    const mem = known !== undefined ? known.transport.mem : mapped === undefined ? undefined : asRingMemory(mapped);
    if (mem === undefined) throw XS_ERR.EINVAL;
    const evtchn = this._platform?.bindEvent(domid, port);
    if (evtchn === undefined) {
      if (known === undefined) mem.unmap?.();
      throw XS_ERR.EINVAL;
    }
    this.introduce(domid, mem, evtchn, gfn);
  }

  /** Release a domain (XS_RELEASE, or found dead). ENOENT if unknown. */
  release(domid: DomId): void {
    const dom = this._domains.get(domid);
    if (dom === undefined) throw XS_ERR.ENOENT;
    // Its own watches must not fire for the removal of its nodes.
    dom.conn.watches.length = 0;
    this._d.disconnect(dom.conn);
    dom.transport.mem.unmap?.();
    this._domains.delete(domid);
    if (!this._d.keepOrphans) this._removeOwnedNodes(domid);
    this._d.fireSpecial('@releaseDomain');
  }

  /** XS_RESUME: re-arm @releaseDomain for a domain that was found shut down. */
  resume(domid: DomId): void {
    const dom = this._domains.get(domid);
    if (dom === undefined) throw XS_ERR.ENOENT;
    dom.shutdown = false;
  }

  /** XS_SET_TARGET: `domid` gets owner rights on nodes owned by `target`. */
  setTarget(domid: DomId, target: DomId): void {
    const dom = this._domains.get(domid);
    if (dom === undefined || !this._domains.has(target)) throw XS_ERR.ENOENT;
    dom.conn.target = target;
  }

  /**
   * Ask the platform about every known domain (the host calls this on VIRQ_DOM_EXC): dead
   * domains are released; a newly shut-down domain fires @releaseDomain once.
   */
  checkDomains(): void {
    const state = this._platform?.domainState;
    if (state === undefined) return;
    let notify = false;
    for (const dom of [...this._domains.values()]) {
      const s = state.call(this._platform, dom.domid);
      if (s === 'dying' || s === 'gone') {
        this.release(dom.domid);
      } else if (s === 'shutdown' && !dom.shutdown) {
        dom.shutdown = true;
        notify = true;
      }
    }
    if (notify) this._d.fireSpecial('@releaseDomain');
  }

  private _reset(dom: XsDomain): void {
    this._d.resetConnection(dom.conn, false);
    dom.transport.resetRing();
    const mem = dom.transport.mem;
    if (mem.getU32(XENSTORE_IF_CONNECTION) === XENSTORE_RECONNECT) mem.setU32(XENSTORE_IF_CONNECTION, XENSTORE_CONNECTED);
    dom.transport.evtchn.notify();
    dom.conn.wake();
  }

  /** Xen removes a dead domain's nodes so a later domain with its id cannot inherit them. */
  private _removeOwnedNodes(domid: DomId): void {
    const store = this._d.store;
    const view = this._d.viewFor(null);
    const paths = store.pathsOwnedBy(domid).sort((a, b) => a.length - b.length);
    for (const path of paths) {
      const node = store.get(path);
      if (node === undefined || node.perms[0]!.id !== domid) continue; // SAFETY: non-empty
      if (path === '/' || isSpecial(path)) {
        view.put(path, node.value, [{ id: 0, perm: node.perms[0]!.perm }, ...node.perms.slice(1)], node.children); // SAFETY: non-empty
      } else {
        removeTree(view, path);
      }
    }
  }
}
